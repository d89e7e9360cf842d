import http2 from 'node:http2';
import type { Compressor } from '../wire/compression.js';
import { GrpcError, toGrpcError } from '../wire/error.js';
import { Metadata } from '../wire/metadata.js';
import { Status } from '../wire/status.js';
import { http2ErrorName } from '../wire/http2-errors.js';
import { clientCallProbe, type CallProbe } from '../observability/events.js';
import { isTracing, trace } from '../observability/trace.js';
import type { ConnectionManager } from '../transport/connection-manager.js';
import { MessageReader, drained, readChunk, writeMessage, type ChunkReader, type CompressedMessage } from '../transport/message-io.js';
import { nonGrpcResponse, rstStatus, statusFromTrailers, wasNeverProcessed } from './call-status.js';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_FLAG_END_STREAM } = http2.constants;
const RESOLVED = Promise.resolve();

/** How a call's request side is driven, whether by one attempt or by a layer that makes attempts. */
export interface CallStream {
  /** Whether an HTTP/2 stream was opened (false while waiting for a connection). */
  readonly opened: boolean;
  start(): void;
  /** Sends one serialized request (compressed with `compressor` if given); `last` half-closes with it. An attempt takes writes only once opened. */
  write(bytes: Uint8Array, compressor: Compressor | undefined, last: boolean): Promise<void>;
  /** Half-closes: no more requests. */
  end(): void;
  /** Resets the stream with RST_STREAM(CANCEL); nothing is reported afterwards. `reason` is the call's status. */
  cancel(reason: GrpcError): void;
  pause(): void;
  resume(): void;
}

/** How an attempt ended. */
export interface AttemptOutcome {
  error: GrpcError | undefined;
  trailers: Metadata;
  /** The server never handed the stream to its application (refused, above a GOAWAY's last-stream-id, or never sent): it is safe to send again. */
  neverProcessed: boolean;
  /** The server's `grpc-retry-pushback-ms` trailer, for retry policies (reserved headers are not in `trailers`). */
  pushback: string | undefined;
}

/** A serialized request, and the compressor to send it with (none: uncompressed). */
export type QueuedWrite = readonly [bytes: Uint8Array, compressor: Compressor | undefined];

/** What a call hears from the stream(s) it runs on. */
export interface ResponseListener<Res> {
  /** Response headers of a response that carries messages (not Trailers-Only). */
  headers(rawHeaders: readonly string[]): void;
  /** A response, with its size on the wire. */
  message(response: Res, compressed: boolean, size: number): void;
  /** A compressed response left unopened (only when the setup keepsCompressed). */
  compressedMessage(response: CompressedMessage<Res>, size: number): void;
  /** Called at most once, and never after cancel(). */
  ended(outcome: AttemptOutcome): void;
}

/** What an attempt reports upwards, and where it finds the requests written before its stream opened. */
export interface AttemptListener<Res> extends ResponseListener<Res> {
  /** The requests to send first, once the stream opens; the attempt sends them in order. */
  writtenBeforeOpen(): readonly QueuedWrite[];
}

/** What every attempt of one call shares. */
export interface AttemptSetup<Res> {
  readonly connection: ConnectionManager;
  /** The method path, `/package.Service/Method`. */
  readonly path: string;
  readonly maxReceiveMessageSize: number;
  /** Absolute deadline (ms since the epoch), if any. */
  readonly deadlineAt: number | undefined;
  /** Whether compressed responses are handed over unopened, to be inflated when the application reads them. */
  readonly keepsCompressed: boolean;
  /** Wait through connection failures for a READY connection instead of failing fast. */
  readonly waitForReady: boolean;
  /** Whether trailing metadata of an OK call is read; if not, it is not even parsed. */
  readonly wantsOkTrailers: boolean;
  /** Called unbound. */
  readonly deserialize: (bytes: Uint8Array) => Res;
  /**
   * Request headers, built when the stream opens, so that grpc-timeout counts down from then. The
   * object may be shared by many calls (node:http2 copies it): add to a copy, never to it.
   */
  requestHeaders(): Readonly<http2.OutgoingHttpHeaders>;
}

/**
 * One try of a call on one HTTP/2 stream: request messages out, responses in,
 * and exactly one outcome, from trailers, an HTTP error, a reset or a lost connection.
 */
export class CallAttempt<Res> implements CallStream, ChunkReader<Res> {
  private session: http2.ClientHttp2Session | undefined;
  private stream: http2.ClientHttp2Stream | undefined;
  /** Set when the outcome was reported or the attempt was cancelled. */
  private done = false;
  private halfClosed = false;
  private aborter: AbortController | undefined;
  private httpStatus = 0;
  private trailerHeaders: http2.IncomingHttpHeaders | undefined;
  private rawTrailers: string[] | undefined;
  /** Set while waiting for a connection: takes the attempt out of the queue. */
  private withdraw: (() => void) | undefined;
  /** Made for the first chunk that is not one whole uncompressed message, or when the response is compressed. */
  reader: MessageReader<Res> | undefined;
  private streamError: Error | undefined;
  /** Counts messages and reports the outcome, only while someone observes client calls. */
  private probe: CallProbe | undefined;

  constructor(private readonly setup: AttemptSetup<Res>, private readonly listener: AttemptListener<Res>) {}

  get opened(): boolean {
    return this.stream !== undefined;
  }

  start(): void {
    const { connection } = this.setup;
    this.probe = clientCallProbe(this.setup.path, connection.address);
    const session = connection.readySession();
    if (session) return this.open(session);
    this.withdraw = connection.waitForSession(this.setup.waitForReady, (ready, error) => {
      this.withdraw = undefined;
      if (error) this.report(error, undefined, false);
      else this.open(ready!);
    });
  }

  private open(session: http2.ClientHttp2Session): void {
    const { connection } = this.setup;
    if (this.done) return;
    // A request still open may have to be cancelled mid-way. Node resets an aborted request with
    // RST_STREAM(CANCEL) alone, whereas close(CANCEL) first ends the request stream (END_STREAM),
    // which a server would take for a complete request.
    const requestComplete = this.halfClosed;
    if (!requestComplete) this.aborter = new AbortController();
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(this.setup.requestHeaders(), this.aborter && { signal: this.aborter.signal });
    } catch (err) {
      const cause = connection.lastFailure ?? (err as Error);
      // The session went away before this stream was created: nothing was sent.
      return this.report(new GrpcError(Status.UNAVAILABLE, `could not start the call on ${connection.address}: ${cause.message}`), undefined, true);
    }
    this.session = session;
    connection.callStarted(session);
    this.stream = stream;
    this.listen(stream);
    const queued = this.listener.writtenBeforeOpen();
    for (let i = 0; i < queued.length; i++) {
      const [bytes, compressor] = queued[i];
      writeMessage(stream, bytes, compressor, requestComplete && i === queued.length - 1, this.probe);
    }
    if (requestComplete && queued.length === 0) stream.end();
  }

  write(bytes: Uint8Array, compressor: Compressor | undefined, last: boolean): Promise<void> {
    const stream = this.stream;
    if (this.done || this.halfClosed || !stream) return RESOLVED;
    if (last) this.halfClosed = true;
    return drained(stream, writeMessage(stream, bytes, compressor, last, this.probe));
  }

  /** Half-closes; before the stream opens, marks the request complete so that it opens half-closed. */
  end(): void {
    if (this.halfClosed || this.done) return;
    this.halfClosed = true;
    this.stream?.end();
  }

  cancel(reason: GrpcError): void {
    if (this.done) return;
    this.done = true;
    this.withdraw?.();
    this.reset();
    this.probe?.end(reason.code, reason.details);
  }

  pause(): void {
    this.stream?.pause();
  }

  resume(): void {
    this.stream?.resume();
  }

  /** RST_STREAM(CANCEL), without END_STREAM first if the request was still open. */
  private reset(): void {
    const stream = this.stream;
    if (!stream || stream.destroyed) return;
    if (isTracing('transport')) trace('transport', `${this.setup.path} to ${this.setup.connection.address}: sending RST_STREAM(CANCEL) on stream ${stream.id}`);
    this.halfClosed = true;
    if (this.aborter) this.aborter.abort();
    else stream.close(NGHTTP2_CANCEL);
  }

  /** Ends the attempt with a problem found on our side, and resets the stream. */
  private fail(error: GrpcError): void {
    if (this.done) return;
    this.report(error, undefined, false);
    this.reset();
  }

  private report(error: GrpcError | undefined, trailers: Metadata | undefined, neverProcessed: boolean): void {
    if (this.done) return;
    this.done = true;
    this.probe?.end(error ? error.code : Status.OK, error ? error.details : '');
    const pushback = this.trailerHeaders?.['grpc-retry-pushback-ms'] as string | undefined;
    this.listener.ended({ error, trailers: trailers ?? error?.metadata ?? new Metadata(), neverProcessed, pushback });
  }

  private listen(stream: http2.ClientHttp2Stream): void {
    // Shared listeners that find the attempt on the stream: closures would cost a few hundred bytes per call.
    (stream as AttemptStream)[kAttempt] = this;
    stream.on('response', onStreamResponse);
    stream.on('trailers', onStreamTrailers);
    stream.on('data', onStreamData);
    stream.on('end', onStreamEnd);
    stream.on('error', onStreamError);
    stream.on('close', onStreamClose);
  }

  makeReader(): MessageReader<Res> {
    const { setup } = this;
    return (this.reader = new MessageReader(setup.maxReceiveMessageSize, setup.deserialize, this, setup.keepsCompressed));
  }

  /** From the reader: one response message (left compressed when the setup keepsCompressed). */
  receivedMessage(message: Res | CompressedMessage<Res>, compressed: boolean, size: number): void {
    if (this.done) return;
    this.probe?.received(size);
    if (compressed && this.setup.keepsCompressed) this.listener.compressedMessage(message as CompressedMessage<Res>, size);
    else this.listener.message(message as Res, compressed, size);
  }

  onResponse(headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, flags: number, rawHeaders: string[]): void {
    this.httpStatus = Number(headers[':status']);
    // Trailers-Only: the one HEADERS frame ends the stream. A grpc-status in headers that do not
    // end it means nothing yet; the status comes with the trailers.
    if (flags & NGHTTP2_FLAG_END_STREAM && headers['grpc-status'] !== undefined) {
      this.trailerHeaders = headers;
      this.rawTrailers = rawHeaders;
      return;
    }
    const problem = nonGrpcResponse(this.httpStatus, headers);
    if (problem) return this.fail(problem);
    const encoding = headers['grpc-encoding'] as string | undefined;
    try {
      // Identity responses get a reader only for a chunk that is not one whole message (see wholeFrame).
      if (encoding !== undefined && encoding !== 'identity') this.makeReader().setEncoding(encoding);
    } catch (err) {
      return this.fail(new GrpcError(Status.INTERNAL, `server used an unsupported grpc-encoding: ${(err as Error).message}`));
    }
    this.probe?.headers();
    this.listener.headers(rawHeaders);
  }

  onTrailers(headers: http2.IncomingHttpHeaders, rawHeaders: string[]): void {
    this.trailerHeaders = headers;
    this.rawTrailers = rawHeaders;
  }

  onData(chunk: Buffer): void {
    if (this.done) return;
    try {
      readChunk(this, chunk, this.setup.maxReceiveMessageSize, this.setup.deserialize);
    } catch (err) {
      this.fail(toGrpcError(err, Status.INTERNAL, 'invalid response message'));
    }
  }

  /** Node ends the readable side on a reset or a lost connection too; only trailers make it a real end. */
  onEnd(): void {
    if (!this.done && this.trailerHeaders) this.endWithTrailers();
  }

  onError(err: Error): void {
    this.streamError = err;
  }

  onClose(): void {
    const { setup } = this;
    const stream = this.stream!;
    const session = this.session!;
    setup.connection.callEnded(session);
    if (this.done) return;
    if (this.trailerHeaders) return this.endWithTrailers();
    if (stream.rstCode !== NGHTTP2_NO_ERROR && isTracing('transport')) {
      trace('transport', `${setup.path} to ${setup.connection.address}: stream ${stream.id} reset with ${http2ErrorName(stream.rstCode)}`);
    }
    const streamError = this.streamError;
    // A response that ended cleanly but without trailers: the HTTP status decides.
    if (stream.rstCode === NGHTTP2_NO_ERROR && this.httpStatus !== 0 && !session.destroyed && !streamError) return this.finishFromTrailers();
    const neverProcessed = this.httpStatus === 0 && wasNeverProcessed(stream, streamError);
    this.report(rstStatus(stream, session, streamError ?? setup.connection.lastFailure, setup.connection, setup.deadlineAt), undefined, neverProcessed);
  }

  private endWithTrailers(): void {
    try {
      this.reader?.finish();
    } catch (err) {
      return this.fail(toGrpcError(err, Status.INTERNAL, 'truncated response'));
    }
    this.finishFromTrailers();
  }

  private finishFromTrailers(): void {
    const { error, trailers } = statusFromTrailers(this.trailerHeaders, this.rawTrailers ?? [], this.httpStatus, this.setup.wantsOkTrailers);
    this.report(error, trailers, false);
    // The status came before we half-closed (e.g. an early error on a bidi call): end our side
    // rather than leave the stream open until the session closes.
    if (!this.halfClosed) {
      this.halfClosed = true;
      if (this.stream && !this.stream.destroyed) this.stream.close(NGHTTP2_CANCEL);
    }
  }
}

/** The attempt a stream carries, so that its listeners can be functions shared by every stream. */
const kAttempt = Symbol('tsgrpc.attempt');
type AttemptStream = http2.ClientHttp2Stream & { [kAttempt]: CallAttempt<any> };

function onStreamResponse(this: AttemptStream, headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, flags: number, rawHeaders: string[]): void {
  this[kAttempt].onResponse(headers, flags, rawHeaders);
}
function onStreamTrailers(this: AttemptStream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void {
  this[kAttempt].onTrailers(headers, rawHeaders);
}
function onStreamData(this: AttemptStream, chunk: Buffer): void {
  this[kAttempt].onData(chunk);
}
function onStreamEnd(this: AttemptStream): void {
  this[kAttempt].onEnd();
}
function onStreamError(this: AttemptStream, err: Error): void {
  this[kAttempt].onError(err);
}
function onStreamClose(this: AttemptStream): void {
  this[kAttempt].onClose();
}
