import http2 from 'node:http2';
import type { MethodDefinition } from '../service.js';
import { ACCEPT_ENCODING, compressorFor, type Compressor } from '../wire/compression.js';
import { GrpcError, toGrpcError } from '../wire/error.js';
import { Metadata } from '../wire/metadata.js';
import { Status } from '../wire/status.js';
import { encodeTimeout } from '../wire/timeout.js';
import type { ConnectionManager } from '../transport/connection-manager.js';
import { deadlines, type Expiring } from '../util/deadlines.js';
import { checkSendSize, type CompressedMessage } from '../transport/message-io.js';
import type { AttemptOutcome, AttemptSetup, CallStream, ResponseListener } from './call-attempt.js';
import type { CallHandle } from './call-handle.js';
import { checkAuthority, remainingTime, type CallOptions } from './call-options.js';
import { cancelledError } from './call-status.js';
import type { CallPolicy } from './retry-state.js';
import { RetryingCall } from './retrying-call.js';
import { TransparentRetry } from './transparent-retry.js';
import { MAX_TIMER_MS } from '../util/timers.js';

/** This library's product token in the user-agent header, between the application's prefix and suffix. */
export const USER_AGENT = 'tsgrpc/0.1.0';

const RESOLVED = Promise.resolve();

/** Where a call delivers its responses and its end. */
export interface ResponseSink<Res> {
  /** A response, with its size on the wire. */
  message(response: Res, compressed: boolean, size: number): void;
  /** If present, compressed responses arrive here unopened, to be inflated when the application reads them. */
  compressedMessage?(response: CompressedMessage<Res>, size: number): void;
  /** Called exactly once; an error for any status but OK. */
  end(error: GrpcError | undefined, trailers: Metadata): void;
  headers?(metadata: Metadata): void;
  /** Whether end() reads the trailers of a successful call; if not, they are not even parsed. */
  readonly wantsTrailers?: boolean;
}

/** What the channel fixes for each of its calls. */
export interface CallLimits {
  maxReceiveMessageSize: number;
  maxSendMessageSize: number;
  /** The :authority header unless the call sets its own. */
  authority: string;
  /** The whole user-agent header. */
  userAgent: string;
  /** The service config's retry or hedging policy for this call; without one, only transparent retry. */
  retry?: CallPolicy;
}

/**
 * One client call as its caller sees it: requests in, responses and exactly
 * one final status out, whichever comes first of the server's status, a
 * deadline, or a cancellation. The HTTP/2 streams it runs on are made by the
 * layer below: attempts, retried transparently when the server never saw them, or
 * by the service config's retry or hedging policy.
 */
export class ClientCall<Req, Res> implements CallHandle<Req>, AttemptSetup<Res>, ResponseListener<Res>, Expiring {
  private finished = false;
  private halfClosed = false;
  private readonly compressor: Compressor | undefined;
  private readonly startError: GrpcError | undefined;
  /** The call's timeout as given, for the deadline's error message. */
  private timeoutMs = 0;
  expirySlot = -1;
  private abortListener: (() => void) | undefined;
  private readonly streams: CallStream;
  deadlineAt: number | undefined;
  readonly maxReceiveMessageSize: number;
  readonly wantsOkTrailers: boolean;
  readonly deserialize: (bytes: Uint8Array) => Res;
  readonly keepsCompressed: boolean;
  readonly waitForReady: boolean;

  constructor(
    readonly connection: ConnectionManager,
    private readonly method: MethodDefinition<Req, Res>,
    private readonly limits: CallLimits,
    private readonly options: CallOptions,
    private readonly sink: ResponseSink<Res>,
  ) {
    this.maxReceiveMessageSize = limits.maxReceiveMessageSize;
    this.deserialize = method.deserializeResponse;
    this.keepsCompressed = sink.compressedMessage !== undefined;
    this.waitForReady = !!options.waitForReady;
    this.wantsOkTrailers = !!sink.wantsTrailers || !!options.onTrailer;
    this.streams = limits.retry ? new RetryingCall(this, this, limits.retry) : new TransparentRetry(this, this);
    try {
      this.compressor = compressorFor(options.compression);
    } catch (err) {
      this.startError = err as GrpcError; // compressorFor throws only GrpcError (UNIMPLEMENTED for an unknown encoding)
    }
    if (options.authority !== undefined) {
      try {
        checkAuthority(options.authority, 'CallOptions.authority');
      } catch (err) {
        this.startError ??= new GrpcError(Status.INTERNAL, (err as Error).message);
      }
    }
  }

  get path(): string {
    return this.method.path;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Starts the call (requests written before this wait for it). On failure the sink has already been ended. */
  start(): void {
    const { options } = this;
    if (this.finished) return;
    if (options.signal?.aborted) return this.finish(cancelledError(options.signal));
    const remaining = remainingTime(options);
    if (remaining !== undefined && remaining <= 0) {
      return this.finish(new GrpcError(Status.DEADLINE_EXCEEDED, 'deadline exceeded before the call started'));
    }
    if (this.startError) return this.finish(this.startError);
    if (remaining !== undefined) {
      this.deadlineAt = Date.now() + remaining;
      this.timeoutMs = remaining;
      // All calls' deadlines share one timer.
      deadlines.add(this);
    }
    if (options.signal) {
      const signal = options.signal;
      this.abortListener = () => this.cancelWith(cancelledError(signal));
      signal.addEventListener('abort', this.abortListener, { once: true });
    }
    this.streams.start();
  }

  get expiresAt(): number {
    return this.deadlineAt!;
  }

  expire(): void {
    this.cancelWith(this.deadlineError(this.timeoutMs));
  }

  private deadlineError(remaining: number): GrpcError {
    if (this.streams.opened) return new GrpcError(Status.DEADLINE_EXCEEDED, `deadline exceeded after ${Math.round(remaining)} ms`);
    const cause = this.connection.lastFailure;
    const waiting = `while waiting for a connection to ${this.connection.address}${cause ? ` (last error: ${cause.message})` : ''}`;
    return new GrpcError(Status.DEADLINE_EXCEEDED, `deadline exceeded after ${Math.round(remaining)} ms ${waiting}`);
  }

  /** Sends one request; resolves when the stream can take more (dropped silently once the call ended). */
  write(request: Req, compress = true): Promise<void> {
    if (this.finished || this.halfClosed) return RESOLVED;
    const bytes = this.serialize(request);
    if (bytes instanceof GrpcError) return Promise.reject(bytes);
    return this.streams.write(bytes, compress ? this.compressor : undefined, false);
  }

  /** Sends the only request and half-closes in the same DATA frame (unary and server-streaming calls). */
  writeLast(request: Req): void {
    if (this.finished || this.halfClosed) return;
    const bytes = this.serialize(request);
    if (bytes instanceof GrpcError) return;
    this.halfClosed = true;
    // Stream writes never reject, and nothing waits on this one: no promise handlers to attach.
    void this.streams.write(bytes, this.compressor, true);
  }

  /** The serialized request; a request that cannot be sent cancels the call with the returned error. */
  private serialize(request: Req): Uint8Array | GrpcError {
    try {
      const bytes = this.method.serializeRequest(request);
      checkSendSize(bytes, this.limits.maxSendMessageSize);
      return bytes;
    } catch (err) {
      const error = toGrpcError(err, Status.INTERNAL, 'could not serialize the request');
      this.cancelWith(error);
      return error;
    }
  }

  /**
   * Starts the call with its only request. Written before the stream opens, the request
   * goes out with END_STREAM on its DATA frame, and the stream never needs an abort handle.
   */
  startWith(request: Req): void {
    this.writeLast(request);
    this.start();
  }

  /** Half-closes: no more requests. */
  end(): void {
    if (this.halfClosed || this.finished) return;
    this.halfClosed = true;
    this.streams.end();
  }

  /** Cancels the call: the stream is reset with CANCEL and the sink ends with `error`. */
  cancelWith(error: GrpcError): void {
    if (this.finished) return;
    this.streams.cancel(error);
    this.finish(error);
  }

  pause(): void {
    this.streams.pause();
  }

  resume(): void {
    this.streams.resume();
  }

  requestHeaders(): Readonly<http2.OutgoingHttpHeaders> {
    if (this.deadlineAt === undefined && !this.compressor && !this.options.metadata && this.options.authority === undefined) {
      return plainRequestHeaders(this.connection, this.limits, this.method.path);
    }
    const headers = requestHeaders(this.connection.scheme, this.options.authority ?? this.limits.authority, this.limits.userAgent, this.method.path);
    if (this.deadlineAt !== undefined) headers['grpc-timeout'] = encodeTimeout(this.deadlineAt - Date.now());
    if (this.compressor) headers['grpc-encoding'] = this.compressor.name;
    this.options.metadata?.writeTo(headers);
    return headers;
  }

  headers(rawHeaders: readonly string[]): void {
    if (this.finished || !(this.options.onHeader || this.sink.headers)) return;
    const metadata = Metadata.fromRawHeaders(rawHeaders);
    this.options.onHeader?.(metadata);
    this.sink.headers?.(metadata);
  }

  message(response: Res, compressed: boolean, size: number): void {
    if (!this.finished) this.sink.message(response, compressed, size);
  }

  compressedMessage(response: CompressedMessage<Res>, size: number): void {
    if (!this.finished) this.sink.compressedMessage!(response, size);
  }

  ended(outcome: AttemptOutcome): void {
    this.finish(outcome.error, outcome.trailers);
  }

  private finish(error: GrpcError | undefined, trailers: Metadata = error?.metadata ?? new Metadata()): void {
    if (this.finished) return;
    this.finished = true;
    deadlines.remove(this);
    if (this.abortListener) this.options.signal!.removeEventListener('abort', this.abortListener);
    this.options.onTrailer?.(trailers);
    this.sink.end(error, trailers);
  }
}

/** Request headers of calls without deadline, compression or metadata, built once per channel and method (node:http2 copies them). */
type PlainHeaders = Readonly<Record<string, string | string[] | number>>;
const plainHeaders = new WeakMap<ConnectionManager, Map<string, PlainHeaders>>();

function plainRequestHeaders(connection: ConnectionManager, limits: CallLimits, path: string): PlainHeaders {
  let byPath = plainHeaders.get(connection);
  if (!byPath) plainHeaders.set(connection, (byPath = new Map()));
  let headers = byPath.get(path);
  if (!headers || headers[':authority'] !== limits.authority || headers[':scheme'] !== connection.scheme || headers['user-agent'] !== limits.userAgent) {
    headers = Object.freeze(requestHeaders(connection.scheme, limits.authority, limits.userAgent, path));
    byPath.set(path, headers);
  }
  return headers;
}

/** A fresh literal rather than a copy of the frozen one: V8 copies a frozen object slowly, into a larger one. */
function requestHeaders(scheme: string, authority: string, userAgent: string, path: string): Record<string, string | string[] | number> {
  return {
    ':method': 'POST',
    ':scheme': scheme,
    ':path': path,
    ':authority': authority,
    'content-type': 'application/grpc',
    te: 'trailers',
    'user-agent': userAgent,
    'grpc-accept-encoding': ACCEPT_ENCODING,
  };
}
