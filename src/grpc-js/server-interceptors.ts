import { InOrder, orderedSteps } from './bridge.js';
import type { Metadata } from './metadata.js';
import type { Status } from '../index.js';

/**
 * grpc-js's server interceptor API. Interceptors wrap the call toward the
 * transport: `(methodDescriptor, call) => new ServerInterceptingCall(call,
 * responder)`; the first one registered sits nearest the transport, the last
 * nearest the handler. Incoming events go up through ServerListeners,
 * responses go down through Responders. tsgrpc/grpc-js runs the chain inside
 * one native server interceptor (see server-interceptor-bridge.ts).
 */

export interface PartialStatusObject {
  /** The gRPC status code. */
  code: Status;
  /** The status message. */
  details: string;
  /** The trailing metadata, if any. */
  metadata?: Metadata | null;
}

export type ServerMetadataListener = (metadata: Metadata, next: (metadata: Metadata) => void) => void;
export type ServerMessageListener = (message: any, next: (message: any) => void) => void;
export type ServerHalfCloseListener = (next: () => void) => void;
export type ServerCancelListener = () => void;
/** A server interceptor's listener: each handler sees an incoming event and passes it (or a replacement) on with `next`. */
export interface FullServerListener {
  /** Intercepts the request metadata. */
  onReceiveMetadata: ServerMetadataListener;
  /** Intercepts each request message. */
  onReceiveMessage: ServerMessageListener;
  /** Intercepts the end of the requests. */
  onReceiveHalfClose: ServerHalfCloseListener;
  /** Told when the call is cancelled (nothing to pass on). */
  onCancel: ServerCancelListener;
}
/** A server listener with any of the handlers; the missing ones pass events through unchanged. */
export type ServerListener = Partial<FullServerListener>;

/** The receiving side of a server call, told what the client sends. */
export interface InterceptingServerListener {
  /** Called with the request metadata. */
  onReceiveMetadata(metadata: Metadata): void;
  /** Called with each request message. */
  onReceiveMessage(message: any): void;
  /** Called when the client has sent its last message. */
  onReceiveHalfClose(): void;
  /** Called when the call is cancelled. */
  onCancel(): void;
}

export type StartResponder = (next: (listener?: ServerListener) => void) => void;
export type MetadataResponder = (metadata: Metadata, next: (metadata: Metadata) => void) => void;
export type MessageResponder = (message: any, next: (message: any) => void) => void;
export type StatusResponder = (status: PartialStatusObject, next: (status: PartialStatusObject) => void) => void;
/** A server interceptor's responder: each handler sees an outgoing operation and passes it on with `next`. */
export interface FullResponder {
  /** Intercepts the call's start, and may pass on a listener for the incoming events. */
  start: StartResponder;
  /** Intercepts the response metadata. */
  sendMetadata: MetadataResponder;
  /** Intercepts each response message. */
  sendMessage: MessageResponder;
  /** Intercepts the final status. */
  sendStatus: StatusResponder;
}
/** A responder with any of the handlers; the missing ones pass operations through unchanged. */
export type Responder = Partial<FullResponder>;

export interface ServerMethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestDeserialize: (bytes: Buffer) => any;
  responseSerialize: (value: any) => Buffer;
}

/** One layer of an intercepted server call, as the layer above sees it. */
export interface ServerInterceptingCallInterface {
  /** Starts the call with the listener for what the client sends. */
  start(listener: InterceptingServerListener): void;
  /** Sends the response metadata. */
  sendMetadata(metadata: Metadata): void;
  /** Sends a response message, calling back once it has been passed on. */
  sendMessage(message: any, callback: () => void): void;
  /** Ends the call with this status. */
  sendStatus(status: PartialStatusObject): void;
  /** Asks for the next request message (messages flow on their own in tsgrpc). */
  startRead(): void;
  /** The client's address. */
  getPeer(): string;
  /** The call's deadline, `Infinity` if it has none. */
  getDeadline(): Date | number;
  /** The `:authority` the client sent (the host it asked for). */
  getHost(): string;
  /** The client's TLS identity as grpc-js describes it; empty over plaintext. */
  getAuthContext(): object;
}

/** A server interceptor: wraps the call below it (`call`) in a ServerInterceptingCall; the first registered sits nearest the transport. */
export type ServerInterceptor = (methodDescriptor: ServerMethodDefinition, call: ServerInterceptingCallInterface) => ServerInterceptingCallInterface;

/** Builds a ServerListener one handler at a time. */
export class ServerListenerBuilder {
  private readonly listener: ServerListener = {};
  /** Sets the request metadata handler. */
  withOnReceiveMetadata(onReceiveMetadata: ServerMetadataListener): this {
    this.listener.onReceiveMetadata = onReceiveMetadata;
    return this;
  }
  /** Sets the request message handler. */
  withOnReceiveMessage(onReceiveMessage: ServerMessageListener): this {
    this.listener.onReceiveMessage = onReceiveMessage;
    return this;
  }
  /** Sets the half-close handler. */
  withOnReceiveHalfClose(onReceiveHalfClose: ServerHalfCloseListener): this {
    this.listener.onReceiveHalfClose = onReceiveHalfClose;
    return this;
  }
  /** Sets the cancel handler. */
  withOnCancel(onCancel: ServerCancelListener): this {
    this.listener.onCancel = onCancel;
    return this;
  }
  /** The listener built so far. */
  build(): ServerListener {
    return { ...this.listener };
  }
}

/** Builds a Responder one handler at a time. */
export class ResponderBuilder {
  private readonly responder: Responder = {};
  /** Sets the start handler. */
  withStart(start: StartResponder): this {
    this.responder.start = start;
    return this;
  }
  /** Sets the response metadata handler. */
  withSendMetadata(sendMetadata: MetadataResponder): this {
    this.responder.sendMetadata = sendMetadata;
    return this;
  }
  /** Sets the response message handler. */
  withSendMessage(sendMessage: MessageResponder): this {
    this.responder.sendMessage = sendMessage;
    return this;
  }
  /** Sets the status handler. */
  withSendStatus(sendStatus: StatusResponder): this {
    this.responder.sendStatus = sendStatus;
    return this;
  }
  /** The responder built so far. */
  build(): Responder {
    return { ...this.responder };
  }
}

/** grpc-js tells a plain listener from an intercepting one by the arity of onReceiveMetadata. */
function isInterceptingServerListener(listener: ServerListener | InterceptingServerListener): listener is InterceptingServerListener {
  return listener.onReceiveMetadata !== undefined && listener.onReceiveMetadata.length === 1;
}

/** A ServerListener below the listener above it: each event passes through it, in order. */
function serverListenerChain(listener: ServerListener, above: InterceptingServerListener): InterceptingServerListener {
  const step = orderedSteps();
  const halfClose = listener.onReceiveHalfClose;
  return {
    onReceiveMetadata: step(listener.onReceiveMetadata, (md) => above.onReceiveMetadata(md)),
    onReceiveMessage: step(listener.onReceiveMessage, (m) => above.onReceiveMessage(m)),
    onReceiveHalfClose: step<void>(halfClose && ((_v, next) => halfClose(() => next())), () => above.onReceiveHalfClose()),
    // A cancel never waits behind a slow listener.
    onCancel: () => {
      listener.onCancel?.();
      above.onCancel();
    },
  };
}

/** A server interceptor's layer of a call: runs its Responder on what goes out, then passes it to the call below. */
export class ServerInterceptingCall implements ServerInterceptingCallInterface {
  private readonly responder: Responder;
  private readonly outgoing = new InOrder();

  /** Wraps `nextCall`; without a responder every operation passes straight through. */
  constructor(private readonly nextCall: ServerInterceptingCallInterface, responder?: Responder) {
    this.responder = responder ?? {};
  }

  /** Starts the call through the responder's start handler; a ServerListener it passes on intercepts the incoming events. */
  start(listener: InterceptingServerListener): void {
    const next = (own?: ServerListener) => {
      this.nextCall.start(own && !isInterceptingServerListener(own) ? serverListenerChain(own, listener) : listener);
    };
    if (this.responder.start) this.responder.start(next);
    else next();
  }

  /** Sends the response metadata through the responder's sendMetadata handler. */
  sendMetadata(metadata: Metadata): void {
    this.outgoing.run((release) => {
      const next = (md: Metadata) => {
        this.nextCall.sendMetadata(md);
        release();
      };
      if (this.responder.sendMetadata) this.responder.sendMetadata(metadata, next);
      else next(metadata);
    });
  }

  /** Sends a response message through the responder's sendMessage handler, in order with the other operations. */
  sendMessage(message: any, callback: () => void): void {
    this.outgoing.run((release) => {
      const next = (m: any) => {
        this.nextCall.sendMessage(m, callback);
        release();
      };
      if (this.responder.sendMessage) this.responder.sendMessage(message, next);
      else next(message);
    });
  }

  /** Ends the call through the responder's sendStatus handler. */
  sendStatus(status: PartialStatusObject): void {
    this.outgoing.run((release) => {
      const next = (s: PartialStatusObject) => {
        this.nextCall.sendStatus(s);
        release();
      };
      if (this.responder.sendStatus) this.responder.sendStatus(status, next);
      else next(status);
    });
  }

  /** Passes the read request to the call below. */
  startRead(): void {
    this.nextCall.startRead();
  }

  /** The client's address, from the call below. */
  getPeer(): string {
    return this.nextCall.getPeer();
  }

  /** The call's deadline, from the call below. */
  getDeadline(): Date | number {
    return this.nextCall.getDeadline();
  }

  /** The `:authority` the client sent (the host it asked for). */
  getHost(): string {
    return this.nextCall.getHost();
  }

  /** The client's TLS identity, from the call below. */
  getAuthContext(): object {
    return this.nextCall.getAuthContext();
  }
}
