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

export class InterceptorConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterceptorConfigurationError';
  }
}

export interface InterceptingListener {
  onReceiveMetadata(metadata: Metadata): void;
  onReceiveMessage(message: any): void;
  onReceiveStatus(status: StatusObject): void;
}

export type MetadataListener = (metadata: Metadata, next: (metadata: Metadata) => void) => void;
export type MessageListener = (message: any, next: (message: any) => void) => void;
export type StatusListener = (status: StatusObject, next: (status: StatusObject) => void) => void;
export interface FullListener {
  onReceiveMetadata: MetadataListener;
  onReceiveMessage: MessageListener;
  onReceiveStatus: StatusListener;
}
export type Listener = Partial<FullListener>;

export type MetadataRequester = (metadata: Metadata, listener: InterceptingListener, next: (metadata: Metadata, listener: InterceptingListener | Listener) => void) => void;
export type MessageRequester = (message: any, next: (message: any) => void) => void;
export type CloseRequester = (next: () => void) => void;
export type CancelRequester = (next: () => void) => void;
export interface FullRequester {
  start: MetadataRequester;
  sendMessage: MessageRequester;
  halfClose: CloseRequester;
  cancel: CancelRequester;
}
export type Requester = Partial<FullRequester>;

export interface MessageContext {
  callback?: (error?: Error) => void;
  flags?: number;
}

export interface InterceptingCallInterface {
  cancelWithStatus(status: Status, details: string): void;
  getPeer(): string;
  start(metadata: Metadata, listener?: Partial<InterceptingListener>): void;
  sendMessageWithContext(context: MessageContext, message: any): void;
  sendMessage(message: any): void;
  startRead(): void;
  halfClose(): void;
}

export interface ClientMethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize: (value: any) => Buffer;
  responseDeserialize: (bytes: Buffer) => any;
}

export interface InterceptorOptions {
  method_definition: ClientMethodDefinition;
  deadline?: Date | number;
  [option: string]: unknown;
}

export type NextCall = (options: InterceptorOptions) => InterceptingCallInterface;
export type Interceptor = (options: InterceptorOptions, nextCall: NextCall) => InterceptingCallInterface;
export type InterceptorProvider = (methodDefinition: ClientMethodDefinition) => Interceptor | undefined;

export class ListenerBuilder {
  private readonly listener: Listener = {};
  withOnReceiveMetadata(onReceiveMetadata: MetadataListener): this {
    this.listener.onReceiveMetadata = onReceiveMetadata;
    return this;
  }
  withOnReceiveMessage(onReceiveMessage: MessageListener): this {
    this.listener.onReceiveMessage = onReceiveMessage;
    return this;
  }
  withOnReceiveStatus(onReceiveStatus: StatusListener): this {
    this.listener.onReceiveStatus = onReceiveStatus;
    return this;
  }
  build(): Listener {
    return { ...this.listener };
  }
}

/** Builds a status object for a listener or requester to pass on. */
export class StatusBuilder {
  private code: Status | null = null;
  private details: string | null = null;
  private metadata: Metadata | null = null;
  withCode(code: Status): this {
    this.code = code;
    return this;
  }
  withDetails(details: string): this {
    this.details = details;
    return this;
  }
  withMetadata(metadata: Metadata): this {
    this.metadata = metadata;
    return this;
  }
  build(): Partial<StatusObject> {
    const status: Partial<StatusObject> = {};
    if (this.code !== null) status.code = this.code;
    if (this.details !== null) status.details = this.details;
    if (this.metadata !== null) status.metadata = this.metadata;
    return status;
  }
}

export class RequesterBuilder {
  private readonly requester: Requester = {};
  withStart(start: MetadataRequester): this {
    this.requester.start = start;
    return this;
  }
  withSendMessage(sendMessage: MessageRequester): this {
    this.requester.sendMessage = sendMessage;
    return this;
  }
  withHalfClose(halfClose: CloseRequester): this {
    this.requester.halfClose = halfClose;
    return this;
  }
  withCancel(cancel: CancelRequester): this {
    this.requester.cancel = cancel;
    return this;
  }
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

export class InterceptingCall implements InterceptingCallInterface {
  private readonly requester: Requester;
  private readonly outgoing = new InOrder();

  constructor(private readonly nextCall: InterceptingCallInterface, requester?: Requester) {
    this.requester = requester ?? {};
  }

  cancelWithStatus(status: Status, details: string): void {
    const next = () => this.nextCall.cancelWithStatus(status, details);
    // A cancel never waits behind a slow requester.
    if (this.requester.cancel) this.requester.cancel(next);
    else next();
  }

  getPeer(): string {
    return this.nextCall.getPeer();
  }

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

  sendMessage(message: any): void {
    this.sendMessageWithContext({}, message);
  }

  startRead(): void {
    this.nextCall.startRead();
  }

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
