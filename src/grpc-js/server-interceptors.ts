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
  code: Status;
  details: string;
  metadata?: Metadata | null;
}

export type ServerMetadataListener = (metadata: Metadata, next: (metadata: Metadata) => void) => void;
export type ServerMessageListener = (message: any, next: (message: any) => void) => void;
export type ServerHalfCloseListener = (next: () => void) => void;
export type ServerCancelListener = () => void;
export interface FullServerListener {
  onReceiveMetadata: ServerMetadataListener;
  onReceiveMessage: ServerMessageListener;
  onReceiveHalfClose: ServerHalfCloseListener;
  onCancel: ServerCancelListener;
}
export type ServerListener = Partial<FullServerListener>;

export interface InterceptingServerListener {
  onReceiveMetadata(metadata: Metadata): void;
  onReceiveMessage(message: any): void;
  onReceiveHalfClose(): void;
  onCancel(): void;
}

export type StartResponder = (next: (listener?: ServerListener) => void) => void;
export type MetadataResponder = (metadata: Metadata, next: (metadata: Metadata) => void) => void;
export type MessageResponder = (message: any, next: (message: any) => void) => void;
export type StatusResponder = (status: PartialStatusObject, next: (status: PartialStatusObject) => void) => void;
export interface FullResponder {
  start: StartResponder;
  sendMetadata: MetadataResponder;
  sendMessage: MessageResponder;
  sendStatus: StatusResponder;
}
export type Responder = Partial<FullResponder>;

export interface ServerMethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestDeserialize: (bytes: Buffer) => any;
  responseSerialize: (value: any) => Buffer;
}

export interface ServerInterceptingCallInterface {
  start(listener: InterceptingServerListener): void;
  sendMetadata(metadata: Metadata): void;
  sendMessage(message: any, callback: () => void): void;
  sendStatus(status: PartialStatusObject): void;
  startRead(): void;
  getPeer(): string;
  getDeadline(): Date | number;
  /** The `:authority` the client sent (the host it asked for). */
  getHost(): string;
  getAuthContext(): object;
}

export type ServerInterceptor = (methodDescriptor: ServerMethodDefinition, call: ServerInterceptingCallInterface) => ServerInterceptingCallInterface;

export class ServerListenerBuilder {
  private readonly listener: ServerListener = {};
  withOnReceiveMetadata(onReceiveMetadata: ServerMetadataListener): this {
    this.listener.onReceiveMetadata = onReceiveMetadata;
    return this;
  }
  withOnReceiveMessage(onReceiveMessage: ServerMessageListener): this {
    this.listener.onReceiveMessage = onReceiveMessage;
    return this;
  }
  withOnReceiveHalfClose(onReceiveHalfClose: ServerHalfCloseListener): this {
    this.listener.onReceiveHalfClose = onReceiveHalfClose;
    return this;
  }
  withOnCancel(onCancel: ServerCancelListener): this {
    this.listener.onCancel = onCancel;
    return this;
  }
  build(): ServerListener {
    return { ...this.listener };
  }
}

export class ResponderBuilder {
  private readonly responder: Responder = {};
  withStart(start: StartResponder): this {
    this.responder.start = start;
    return this;
  }
  withSendMetadata(sendMetadata: MetadataResponder): this {
    this.responder.sendMetadata = sendMetadata;
    return this;
  }
  withSendMessage(sendMessage: MessageResponder): this {
    this.responder.sendMessage = sendMessage;
    return this;
  }
  withSendStatus(sendStatus: StatusResponder): this {
    this.responder.sendStatus = sendStatus;
    return this;
  }
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

export class ServerInterceptingCall implements ServerInterceptingCallInterface {
  private readonly responder: Responder;
  private readonly outgoing = new InOrder();

  constructor(private readonly nextCall: ServerInterceptingCallInterface, responder?: Responder) {
    this.responder = responder ?? {};
  }

  start(listener: InterceptingServerListener): void {
    const next = (own?: ServerListener) => {
      this.nextCall.start(own && !isInterceptingServerListener(own) ? serverListenerChain(own, listener) : listener);
    };
    if (this.responder.start) this.responder.start(next);
    else next();
  }

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

  startRead(): void {
    this.nextCall.startRead();
  }

  getPeer(): string {
    return this.nextCall.getPeer();
  }

  getDeadline(): Date | number {
    return this.nextCall.getDeadline();
  }

  /** The `:authority` the client sent (the host it asked for). */
  getHost(): string {
    return this.nextCall.getHost();
  }

  getAuthContext(): object {
    return this.nextCall.getAuthContext();
  }
}
