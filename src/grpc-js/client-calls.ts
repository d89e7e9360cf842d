import { EventEmitter } from 'node:events';
import { Duplex, Readable, Writable } from 'node:stream';
import { GrpcError, Status, type CallOptions as NativeCallOptions, type Metadata as NativeMetadata } from '../index.js';
import { metadataOf, serviceError, type ServiceError, type StatusObject } from './errors.js';
import { fromNative, type Metadata } from './metadata.js';

/** What a client call object offers, whatever its stream shape. */
export interface SurfaceCall {
  /** Cancels the call: it ends with CANCELLED ("Cancelled on client") unless it has already finished. */
  cancel(): void;
  /** The address of the server the call went to (tsgrpc reports the channel's target). */
  getPeer(): string;
}

/**
 * The wiring every compat client call shares: the native call options
 * (cancellation, header and trailer hooks), and grpc-js's way of reporting
 * the end: a ServiceError or a response, then the 'status' event.
 */
export class CallLink {
  private readonly canceller = new CancelSwitch();
  private native: NativeCallOptions | undefined;
  trailers: NativeMetadata | undefined;

  constructor(private readonly emitter: EventEmitter, readonly peer: string) {}

  nativeOptions(base: NativeCallOptions): NativeCallOptions {
    base.signal = this.canceller as unknown as AbortSignal;
    // The native call decides when it starts whether to parse an OK call's trailers, before
    // anyone could listen for 'status': they are always taken.
    base.onTrailer = (md) => {
      this.trailers = md;
    };
    this.native = base;
    return base;
  }

  /**
   * Header metadata is only parsed for calls whose object has 'metadata'
   * listeners (the native call reads this hook when the headers arrive, so
   * adding it after the start works).
   */
  want(event: string | symbol): void {
    const native = this.native;
    if (native && event === 'metadata' && !native.onHeader) native.onHeader = (md) => this.emitter.emit('metadata', fromNative(md));
  }

  cancel(): void {
    this.canceller.abort(new GrpcError(Status.CANCELLED, 'Cancelled on client'));
  }

  /** The grpc-js status object for how the native call ended. */
  status(error: unknown): StatusObject {
    if (error === undefined) return { code: Status.OK, details: 'OK', metadata: fromNative(this.trailers) };
    if (!(error instanceof GrpcError)) return { code: Status.INTERNAL, details: String((error as Error)?.message ?? error), metadata: fromNative(this.trailers) };
    return { code: error.code, details: grpcJsDetails(error), metadata: metadataOf(error, this.trailers) };
  }
}

/**
 * The `signal` a compat call hands to the native call, so that cancel() can
 * reach it. An AbortController (an EventTarget) per call was most of this
 * layer's cost on the unary path, and the native call only reads `aborted`
 * and `reason` and adds and removes 'abort' listeners, which is all this has.
 */
class CancelSwitch {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] = [];

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.listeners = this.listeners.filter((l) => l !== listener);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    for (const listener of this.listeners.splice(0)) listener();
  }
}

/** grpc-js's wording for the statuses a client decides itself, which programs often compare. */
function grpcJsDetails(error: GrpcError): string {
  if (error.code === Status.DEADLINE_EXCEEDED && /^deadline exceeded (after|before)/.test(error.details)) return 'Deadline exceeded';
  return error.details;
}

function errorFrom(status: StatusObject): ServiceError {
  return serviceError(status);
}

const LISTEN_METHODS = ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener'] as const;

/** cancel() and getPeer(), shared by the four call classes through their prototypes, and listener hooks that tell the link what is wanted. */
function installSurface(cls: { prototype: object }): void {
  const proto = cls.prototype as Record<string, unknown>;
  for (const name of LISTEN_METHODS) {
    const base = proto[name] as (this: unknown, event: string | symbol, listener: (...args: any[]) => void) => unknown;
    proto[name] = function (this: { _link?: CallLink }, event: string | symbol, listener: (...args: any[]) => void) {
      this._link?.want(event);
      return base.call(this, event, listener);
    };
  }
  Object.assign(cls.prototype, {
    cancel(this: { _link: CallLink }): void {
      this._link.cancel();
    },
    getPeer(this: { _link: CallLink }): string {
      return this._link.peer;
    },
  });
}

export interface ClientUnaryCall extends SurfaceCall {
  /** @internal */
  _link: CallLink;
}
/** A unary call in progress: emits 'metadata' and 'status', and can be cancelled; the response goes to the callback. */
export class ClientUnaryCall extends EventEmitter {}
installSurface(ClientUnaryCall);

/** The callback of a unary or client-streaming call: an error, or null and the response. */
export type UnaryCallback<Res> = (err: ServiceError | null, value?: Res) => void;

/** Settles a unary or client-streaming call the way grpc-js does: callback first, then 'status'. */
export function settleUnary<Res>(call: ClientUnaryCall | ClientWritableStream<unknown>, result: Promise<Res>, callback: UnaryCallback<Res>): void {
  const link = call._link;
  result.then(
    (value) => {
      callback(null, value);
      // Most unary callers never listen for 'status': build it only for those who do.
      if (call.listenerCount('status') > 0) call.emit('status', link.status(undefined));
    },
    (err: unknown) => {
      const status = link.status(err);
      if (status.code === Status.UNIMPLEMENTED && /without sending a response message/.test(status.details)) status.details = 'No message received';
      callback(errorFrom(status));
      call.emit('status', status);
    },
  );
}

export interface ClientReadableStream<Res> extends SurfaceCall {
  /** @internal */
  _link: CallLink;
}
/** A server-streaming call: an object-mode Readable of responses that also emits 'metadata' and 'status'. */
export class ClientReadableStream<Res> extends Readable {
  /** Made by `Client.makeServerStreamRequest`, not by applications. */
  constructor() {
    super({ objectMode: true });
  }
}
installSurface(ClientReadableStream);

/** Ends a response stream as grpc-js does: end of data, then 'error' for a failure, then 'status'. */
export function endResponses(stream: Readable & { _link: CallLink }, error: unknown): void {
  const status = stream._link.status(error);
  if (error === undefined) {
    stream.emit('status', status);
    return;
  }
  stream.push(null);
  stream.emit('error', errorFrom(status));
  stream.emit('status', status);
}

export interface ClientWritableStream<Req> extends SurfaceCall {
  /** @internal */
  _link: CallLink;
}
/** A client-streaming call: an object-mode Writable of requests that also emits 'metadata' and 'status'. */
export class ClientWritableStream<Req> extends Writable {
  /** Made by `Client.makeClientStreamRequest`, not by applications. */
  constructor() {
    super({ objectMode: true });
  }
}
installSurface(ClientWritableStream);

export interface ClientDuplexStream<Req, Res> extends SurfaceCall {
  /** @internal */
  _link: CallLink;
}
/** A bidirectional-streaming call: an object-mode Duplex that writes requests and reads responses. */
export class ClientDuplexStream<Req, Res> extends Duplex {
  /** Made by `Client.makeBidiStreamRequest`, not by applications. */
  constructor() {
    super({ objectMode: true });
  }
}
installSurface(ClientDuplexStream);

export type { Metadata };
