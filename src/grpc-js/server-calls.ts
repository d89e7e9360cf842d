import { EventEmitter } from 'node:events';
import { Duplex, Readable, Writable } from 'node:stream';
import { GrpcError, Status, type ServerCallContext } from '../index.js';
import { logVerbosity } from './constants.js';
import { log } from './logging.js';
import { nativeErrorFromHandler, type ServerErrorResponse } from './errors.js';
import { fromNative, toNative, type Metadata } from './metadata.js';
import { Outbox, pullFrom } from './bridge.js';
import { grpcJsAuthContext } from './auth-context.js';

/** What every grpc-js server call object offers, whatever its stream shape. */
export interface ServerSurfaceCall {
  /** The request metadata the client sent. */
  readonly metadata: Metadata;
  /** Whether the client cancelled the call (or its deadline passed) before the handler answered. */
  readonly cancelled: boolean;
  /** The client's address. */
  getPeer(): string;
  /** Sends the response headers now, with this metadata; only the first call has an effect. */
  sendMetadata(responseMetadata: Metadata): void;
  /** The call's deadline, `Infinity` if it has none. */
  getDeadline(): Date | number;
  /** The method's full path, `/package.Service/Method`. */
  getPath(): string;
  /** The `:authority` the client sent (the host it asked for). */
  getHost(): string;
  /** The client's TLS identity as grpc-js describes it (`transportSecurityType`, `sslPeerCertificate`); empty over plaintext. */
  getAuthContext(): object;
}

interface CallState {
  /** The native server call this object wraps (tsgrpc's own, not in grpc-js). */
  _ctx: ServerCallContext;
  /** The request metadata, converted on first read. */
  _metadata: Metadata | undefined;
  /** Set once the call is cancelled. */
  _cancelled: boolean;
  /** The handler answered (callback, end or error): an abort after this is not a cancellation. */
  _responded: boolean;
  /** Whether cancellation is being watched for (set up lazily, when someone listens). */
  _watching: boolean;
}

type Emitting = CallState & EventEmitter & { destroy?: () => void; _outbox?: Outbox<unknown> };

function watchCancel(call: Emitting): void {
  if (call._watching) return;
  call._watching = true;
  const signal = call._ctx.signal;
  const onAbort = () => {
    if (call._responded) return;
    call._cancelled = true;
    call.emit('cancelled', 'cancelled');
    call.destroy?.();
    // Later writes are dropped, and the native sender stops waiting for more.
    call._outbox?.close();
  };
  if (signal.aborted) queueMicrotask(onAbort);
  else signal.addEventListener('abort', onAbort, { once: true });
}

/** Methods shared by the four call classes, installed on their prototypes. */
const surface = {
  getPeer(this: CallState): string {
    return this._ctx.peer;
  },
  sendMetadata(this: CallState, responseMetadata: Metadata): void {
    this._ctx.sendHeader(toNative(responseMetadata));
  },
  /** Milliseconds since the epoch (Infinity for none), as grpc-js gives it. */
  getDeadline(this: CallState): Date | number {
    return this._ctx.deadline?.getTime() ?? Infinity;
  },
  getPath(this: CallState): string {
    return this._ctx.method;
  },
  /** The :authority the client called. */
  /** The `:authority` the client sent (the host it asked for). */
  getHost(this: CallState): string {
    return this._ctx.authority;
  },
  /** {} unless the client presented a verified certificate over TLS, as in grpc-js. */
  getAuthContext(this: CallState): object {
    return grpcJsAuthContext(this._ctx);
  },
};

function installSurface(cls: { prototype: object }, watchOnListen: boolean): void {
  Object.assign(cls.prototype, surface);
  Object.defineProperty(cls.prototype, 'metadata', {
    get(this: CallState) {
      return (this._metadata ??= fromNative(this._ctx.metadata));
    },
  });
  Object.defineProperty(cls.prototype, 'cancelled', {
    get(this: CallState) {
      return this._cancelled || (!this._responded && this._ctx.signal.aborted);
    },
    set(this: CallState, value: boolean) {
      this._cancelled = value;
    },
  });
  if (!watchOnListen) return;
  // Unary calls watch for cancellation only once someone listens: most never do.
  for (const name of ['on', 'once', 'addListener', 'prependListener', 'prependOnceListener'] as const) {
    const base = (EventEmitter.prototype as any)[name];
    (cls.prototype as any)[name] = function (this: Emitting, event: string | symbol, listener: (...args: any[]) => void) {
      if (event === 'cancelled') watchCancel(this);
      return base.call(this, event, listener);
    };
  }
}

function initState(call: CallState, ctx: ServerCallContext): void {
  call._ctx = ctx;
  call._metadata = undefined;
  call._cancelled = false;
  call._responded = false;
  call._watching = false;
}

export interface ServerUnaryCall<Req, Res> extends ServerSurfaceCall, CallState {}
export class ServerUnaryCall<Req, Res> extends EventEmitter {
  /**
   * Made by the server for each call, with its one request message in `request`.
   * @param request The request message.
   */
  constructor(ctx: ServerCallContext, readonly request: Req) {
    super();
    initState(this, ctx);
  }
}
installSurface(ServerUnaryCall, true);

export interface ServerReadableStream<Req, Res> extends ServerSurfaceCall, CallState {}
export class ServerReadableStream<Req, Res> extends Readable {
  /** Made by the server for each call: an object-mode Readable of the request messages. */
  constructor(ctx: ServerCallContext, requests: AsyncIterable<Req>) {
    super({ objectMode: true });
    initState(this, ctx);
    // A failed or cancelled call is reported by watchCancel, which destroys the stream.
    this._read = pullFrom(this, requests, () => {});
    watchCancel(this);
  }
}
installSurface(ServerReadableStream, false);

/** The response side of a streaming call: writes go to an Outbox the native server pulls from. */
interface ResponseWriter {
  /** The queue of response messages the native server pulls from. */
  _outbox: Outbox<unknown>;
  /** An error emitted by the handler, sent as the status when the stream ends. */
  _pendingError: GrpcError | undefined;
  /** Trailing metadata given to `end()`. */
  _trailers: Metadata | undefined;
}

function initWriter(call: ResponseWriter & CallState & Writable): void {
  call._outbox = new Outbox();
  call._pendingError = undefined;
  call._trailers = undefined;
  // grpc-js: an 'error' on the call object is the handler's way to end with a status.
  call.on('error', (err: ServerErrorResponse) => {
    if (call.destroyed || call._responded) return;
    call._pendingError = nativeErrorFromHandler(err);
    call.end();
  });
}

function writeTo(this: ResponseWriter, chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
  this._outbox.push(chunk, () => callback());
}

function finalTo(this: ResponseWriter & CallState, callback: (error?: Error | null) => void): void {
  this._responded = true;
  const trailers = toNative(this._trailers);
  if (this._pendingError) {
    if (trailers && this._pendingError.metadata.size === 0) this._pendingError.metadata.merge(trailers);
  } else if (trailers) {
    this._ctx.trailers.merge(trailers);
  }
  this._outbox.end(this._pendingError);
  callback();
}

function endWith(this: ResponseWriter & Writable, base: (...args: any[]) => any, args: unknown[]): any {
  const [first] = args;
  if (first !== null && typeof first === 'object' && (first as Metadata).internalRepr instanceof Map) {
    this._trailers = first as Metadata;
    return base.call(this);
  }
  return base.apply(this, args);
}

export interface ServerWritableStream<Req, Res> extends ServerSurfaceCall, CallState, ResponseWriter {}
export class ServerWritableStream<Req, Res> extends Writable {
  /**
   * Made by the server for each call: an object-mode Writable of responses, with the one request in `request`.
   * @param request The request message.
   */
  constructor(ctx: ServerCallContext, readonly request: Req) {
    super({ objectMode: true });
    initState(this, ctx);
    initWriter(this);
    watchCancel(this);
  }
  /** end(metadata) sets the trailing metadata, as in grpc-js. */
  override end(...args: unknown[]): this {
    return endWith.call(this, super.end, args);
  }
}
installSurface(ServerWritableStream, false);
Object.assign(ServerWritableStream.prototype, { _write: writeTo, _final: finalTo });

export interface ServerDuplexStream<Req, Res> extends ServerSurfaceCall, CallState, ResponseWriter {}
export class ServerDuplexStream<Req, Res> extends Duplex {
  /** Made by the server for each call: an object-mode Duplex that reads requests and writes responses. */
  constructor(ctx: ServerCallContext, requests: AsyncIterable<Req>) {
    super({ objectMode: true });
    initState(this, ctx);
    initWriter(this);
    // A failed or cancelled call is reported by watchCancel, which destroys the stream.
    this._read = pullFrom(this, requests, () => {});
    watchCancel(this);
  }
  /** end(metadata) sets the trailing metadata, as in grpc-js. */
  override end(...args: unknown[]): this {
    return endWith.call(this, super.end, args);
  }
}
installSurface(ServerDuplexStream, false);
Object.assign(ServerDuplexStream.prototype, { _write: writeTo, _final: finalTo });

/** A unary or client-streaming handler's callback: an error, or null and the response, with optional trailing metadata. */
export type sendUnaryData<Res> = (error: ServerErrorResponse | Error | null, value?: Res | null, trailer?: Metadata, flags?: number) => void;

const NO_COMPRESS = 2;

/** The grpc-js callback for unary and client-streaming handlers, settling the native handler's promise. */
export function unaryCallback<Res>(call: CallState, resolve: (value: Res) => void, reject: (err: GrpcError) => void): sendUnaryData<Res> {
  return (error, value, trailer, flags) => {
    if (call._responded) return;
    call._responded = true;
    if (error) return reject(nativeErrorFromHandler(error, trailer));
    const trailers = toNative(trailer);
    if (trailers) call._ctx.trailers.merge(trailers);
    if (flags !== undefined && flags & NO_COMPRESS) call._ctx.setMessageCompression(false);
    resolve(value as Res);
  };
}

/**
 * grpc-js answers a handler that throws with UNKNOWN and no details of the
 * exception; the exception itself goes to the logger (setLogger).
 */
export function handlerThrew(call: CallState, error: unknown): GrpcError {
  call._responded = true;
  log(logVerbosity.ERROR, `the handler of ${call._ctx.method} threw: ${(error as Error)?.stack ?? String(error)}`);
  return new GrpcError(Status.UNKNOWN, 'Unknown error');
}
