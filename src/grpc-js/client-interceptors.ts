import type { Status } from '../index.js';
import type { StatusObject } from './errors.js';
import { InOrder, orderedSteps } from './bridge.js';
import type { Metadata } from './metadata.js';

/**
 * grpc-js's client interceptor API: an interceptor wraps the call below it
 * (`nextCall(options)`) in an InterceptingCall whose Requester sees what goes
 * out and whose Listener sees what comes back. tsgrpc/grpc-js runs the chain
 * inside one native client interceptor (see interceptor-bridge.ts).
 */

/** Thrown when a client or call is given both interceptors and interceptor providers. */
export class InterceptorConfigurationError extends Error {
  /** Makes the error with grpc-js's message. */
  constructor(message: string) {
    super(message);
    this.name = 'InterceptorConfigurationError';
  }
}

/** The receiving side of a call, told what comes back: response metadata, each message, then the status. */
export interface InterceptingListener {
  /** Called with the response headers. */
  onReceiveMetadata(metadata: Metadata): void;
  /** Called with each response message. */
  onReceiveMessage(message: any): void;
  /** Called once with the call's final status. */
  onReceiveStatus(status: StatusObject): void;
}

export type MetadataListener = (metadata: Metadata, next: (metadata: Metadata) => void) => void;
export type MessageListener = (message: any, next: (message: any) => void) => void;
export type StatusListener = (status: StatusObject, next: (status: StatusObject) => void) => void;
/** An interceptor's listener: each handler sees an incoming event and passes it (or a replacement) on with `next`. */
export interface FullListener {
  /** Intercepts the response headers. */
  onReceiveMetadata: MetadataListener;
  /** Intercepts each response message. */
  onReceiveMessage: MessageListener;
  /** Intercepts the final status. */
  onReceiveStatus: StatusListener;
}
/** A listener with any of the handlers; the missing ones pass events through unchanged. */
export type Listener = Partial<FullListener>;

export type MetadataRequester = (metadata: Metadata, listener: InterceptingListener, next: (metadata: Metadata, listener: InterceptingListener | Listener) => void) => void;
export type MessageRequester = (message: any, next: (message: any) => void) => void;
export type CloseRequester = (next: () => void) => void;
export type CancelRequester = (next: () => void) => void;
/** An interceptor's requester: each handler sees an outgoing operation and passes it on with `next`. */
export interface FullRequester {
  /** Intercepts the call's start: its request metadata and the listener for what comes back. */
  start: MetadataRequester;
  /** Intercepts each request message. */
  sendMessage: MessageRequester;
  /** Intercepts the end of the requests. */
  halfClose: CloseRequester;
  /** Intercepts cancellation. */
  cancel: CancelRequester;
}
/** A requester with any of the handlers; the missing ones pass operations through unchanged. */
export type Requester = Partial<FullRequester>;

export interface MessageContext {
  callback?: (error?: Error) => void;
  flags?: number;
}

/** One layer of an intercepted call, as the layer above sees it. */
export interface InterceptingCallInterface {
  /** Cancels the call, ending it with this status. */
  cancelWithStatus(status: Status, details: string): void;
  /** The address of the server the call went to. */
  getPeer(): string;
  /** Starts the call with its request metadata and the listener for what comes back. */
  start(metadata: Metadata, listener?: Partial<InterceptingListener>): void;
  /** Sends a request message, calling back once it has been passed on. */
  sendMessageWithContext(context: MessageContext, message: any): void;
  /** Sends a request message. */
  sendMessage(message: any): void;
  /** Asks for the next response message (messages flow on their own in tsgrpc). */
  startRead(): void;
  /** Ends the requests. */
  halfClose(): void;
}

export interface ClientMethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize: (value: any) => Buffer;
  responseDeserialize: (bytes: Buffer) => any;
}

/** What an interceptor is told about its call: the method, the deadline, and the other call options. */
export interface InterceptorOptions {
  /** The method being called. */
  method_definition: ClientMethodDefinition;
  /** The call's deadline, if it has one; an interceptor may change it for the calls below. */
  deadline?: Date | number;
  [option: string]: unknown;
}

/** Makes the call below an interceptor, with (possibly changed) options. */
export type NextCall = (options: InterceptorOptions) => InterceptingCallInterface;
/** A client interceptor: wraps the call made by `nextCall` in an InterceptingCall. */
export type Interceptor = (options: InterceptorOptions, nextCall: NextCall) => InterceptingCallInterface;
/** Gives an interceptor for a method, or undefined for none. */
export type InterceptorProvider = (methodDefinition: ClientMethodDefinition) => Interceptor | undefined;

/** Builds a Listener one handler at a time. */
export class ListenerBuilder {
  private readonly listener: Listener = {};
  /** Sets the response metadata handler. */
  withOnReceiveMetadata(onReceiveMetadata: MetadataListener): this {
    this.listener.onReceiveMetadata = onReceiveMetadata;
    return this;
  }
  /** Sets the response message handler. */
  withOnReceiveMessage(onReceiveMessage: MessageListener): this {
    this.listener.onReceiveMessage = onReceiveMessage;
    return this;
  }
  /** Sets the status handler. */
  withOnReceiveStatus(onReceiveStatus: StatusListener): this {
    this.listener.onReceiveStatus = onReceiveStatus;
    return this;
  }
  /** The listener built so far. */
  build(): Listener {
    return { ...this.listener };
  }
}

/** Builds a status object for a listener or requester to pass on. */
export class StatusBuilder {
  private code: Status | null = null;
  private details: string | null = null;
  private metadata: Metadata | null = null;
  /** Sets the status code. */
  withCode(code: Status): this {
    this.code = code;
    return this;
  }
  /** Sets the status message. */
  withDetails(details: string): this {
    this.details = details;
    return this;
  }
  /** Sets the trailing metadata. */
  withMetadata(metadata: Metadata): this {
    this.metadata = metadata;
    return this;
  }
  /** A status with the fields set so far. */
  build(): Partial<StatusObject> {
    const status: Partial<StatusObject> = {};
    if (this.code !== null) status.code = this.code;
    if (this.details !== null) status.details = this.details;
    if (this.metadata !== null) status.metadata = this.metadata;
    return status;
  }
}

/** Builds a Requester one handler at a time. */
export class RequesterBuilder {
  private readonly requester: Requester = {};
  /** Sets the start handler. */
  withStart(start: MetadataRequester): this {
    this.requester.start = start;
    return this;
  }
  /** Sets the request message handler. */
  withSendMessage(sendMessage: MessageRequester): this {
    this.requester.sendMessage = sendMessage;
    return this;
  }
  /** Sets the half-close handler. */
  withHalfClose(halfClose: CloseRequester): this {
    this.requester.halfClose = halfClose;
    return this;
  }
  /** Sets the cancel handler. */
  withCancel(cancel: CancelRequester): this {
    this.requester.cancel = cancel;
    return this;
  }
  /** The requester built so far. */
  build(): Requester {
    return { ...this.requester };
  }
}

/** An InterceptingListener is told things; a Listener (with `next` arguments) intercepts them. grpc-js tells them apart by arity. */
function isInterceptingListener(listener: InterceptingListener | Listener): listener is InterceptingListener {
  return listener.onReceiveMetadata !== undefined && listener.onReceiveMetadata.length === 1;
}

/** A Listener in front of the listener above it: each event passes through, in order. */
function listenerChain(listener: Listener, above: InterceptingListener): InterceptingListener {
  const step = orderedSteps();
  return {
    onReceiveMetadata: step(listener.onReceiveMetadata, (md) => above.onReceiveMetadata(md)),
    onReceiveMessage: step(listener.onReceiveMessage, (m) => above.onReceiveMessage(m)),
    onReceiveStatus: step(listener.onReceiveStatus, (s) => above.onReceiveStatus(s)),
  };
}

const ignore = () => {};

/** An interceptor's layer of a call: runs its Requester on what goes out, then passes it to the call below. */
export class InterceptingCall implements InterceptingCallInterface {
  private readonly requester: Requester;
  private readonly outgoing = new InOrder();

  /** Wraps `nextCall`; without a requester every operation passes straight through. */
  constructor(private readonly nextCall: InterceptingCallInterface, requester?: Requester) {
    this.requester = requester ?? {};
  }

  /** Cancels the call through the requester's cancel handler, if any. */
  cancelWithStatus(status: Status, details: string): void {
    const next = () => this.nextCall.cancelWithStatus(status, details);
    // A cancel never waits behind a slow requester.
    if (this.requester.cancel) this.requester.cancel(next);
    else next();
  }

  /** The peer of the call below. */
  getPeer(): string {
    return this.nextCall.getPeer();
  }

  /** Starts the call through the requester's start handler; a Listener it passes on intercepts the events coming back. */
  start(metadata: Metadata, listener?: Partial<InterceptingListener>): void {
    const above: InterceptingListener = {
      onReceiveMetadata: listener?.onReceiveMetadata?.bind(listener) ?? ignore,
      onReceiveMessage: listener?.onReceiveMessage?.bind(listener) ?? ignore,
      onReceiveStatus: listener?.onReceiveStatus?.bind(listener) ?? ignore,
    };
    this.outgoing.run((release) => {
      const next = (md: Metadata, given: InterceptingListener | Listener) => {
        this.nextCall.start(md, isInterceptingListener(given) ? given : listenerChain(given, above));
        release();
      };
      if (this.requester.start) this.requester.start(metadata, above, next);
      else next(metadata, above);
    });
  }

  /** Sends a message through the requester's sendMessage handler, in order with the other operations. */
  sendMessageWithContext(context: MessageContext, message: any): void {
    this.outgoing.run((release) => {
      const next = (m: any) => {
        this.nextCall.sendMessageWithContext(context, m);
        release();
      };
      if (this.requester.sendMessage) this.requester.sendMessage(message, next);
      else next(message);
    });
  }

  /** Sends a message, like `sendMessageWithContext` with no callback. */
  sendMessage(message: any): void {
    this.sendMessageWithContext({}, message);
  }

  /** Passes the read request to the call below. */
  startRead(): void {
    this.nextCall.startRead();
  }

  /** Ends the requests through the requester's halfClose handler. */
  halfClose(): void {
    this.outgoing.run((release) => {
      const next = () => {
        this.nextCall.halfClose();
        release();
      };
      if (this.requester.halfClose) this.requester.halfClose(next);
      else next();
    });
  }
}

export interface InterceptorSources {
  clientInterceptors: readonly Interceptor[];
  clientInterceptorProviders: readonly InterceptorProvider[];
  callInterceptors: readonly Interceptor[];
  callInterceptorProviders: readonly InterceptorProvider[];
}

/** The interceptors of one call, as grpc-js picks them: the call's replace the client's. */
export function interceptorsFor(sources: InterceptorSources, method: ClientMethodDefinition): Interceptor[] {
  const both = (interceptors: readonly Interceptor[], providers: readonly InterceptorProvider[], where: string) => {
    if (interceptors.length > 0 && providers.length > 0) {
      throw new InterceptorConfigurationError(`Both interceptors and interceptor_providers were passed as ${where}. Only one of these is allowed.`);
    }
    return [...interceptors, ...providers.map((p) => p(method))].filter((i): i is Interceptor => !!i);
  };
  const client = both(sources.clientInterceptors, sources.clientInterceptorProviders, 'options to the client constructor');
  const call = both(sources.callInterceptors, sources.callInterceptorProviders, 'call options');
  return call.length > 0 ? call : client;
}

/** The top of the chain: the first interceptor is outermost, `bottom` makes the call under the last. */
export function chainCall(interceptors: readonly Interceptor[], options: InterceptorOptions, bottom: NextCall): InterceptingCallInterface {
  const nextCall = interceptors.reduceRight<NextCall>((below, interceptor) => (opts) => interceptor(opts, below), bottom);
  return nextCall(options);
}
