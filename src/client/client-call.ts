import http2 from 'node:http2';
import type { MethodDefinition } from '../service.js';
import { ACCEPT_ENCODING, compressorFor, type Compressor } from '../wire/compression.js';
import { GrpcError, toGrpcError } from '../wire/error.js';
import { Metadata } from '../wire/metadata.js';
import { Status } from '../wire/status.js';
import { encodeTimeout } from '../wire/timeout.js';
import type { ClientConnection } from '../transport/client-connection.js';
import { checkSendSize, createMessageReader, drained, writeMessage } from '../transport/message-io.js';
import { remainingTime, type CallOptions } from './call-options.js';
import { cancelledError, nonGrpcResponse, rstStatus, statusFromTrailers } from './call-status.js';

const USER_AGENT = 'tsgrpc/0.1.0';
const MAX_TIMER_MS = 2 ** 31 - 1;
const { NGHTTP2_CANCEL } = http2.constants;

/** Where a call delivers its responses and its end. */
export interface ResponseSink<Res> {
  message(response: Res, compressed: boolean): void;
  /** Called exactly once; an error for any status but OK. */
  end(error: GrpcError | undefined, trailers: Metadata): void;
  headers?(metadata: Metadata): void;
  /** Whether end() reads the trailers of a successful call; if not, they are not even parsed. */
  readonly wantsTrailers?: boolean;
}

export interface CallLimits {
  maxReceiveMessageSize: number;
  maxSendMessageSize: number;
}

/**
 * One client call on one HTTP/2 stream: request headers, messages both ways,
 * and exactly one final status, from trailers, an HTTP error, a reset, a
 * deadline, or a cancellation — whichever comes first.
 */
export class ClientCall<Req, Res> {
  private stream: http2.ClientHttp2Stream | undefined;
  private session: http2.ClientHttp2Session | undefined;
  private finished = false;
  private compressor: Compressor | undefined;
  private timer: NodeJS.Timeout | undefined;
  private abortListener: (() => void) | undefined;
  private httpStatus = 0;
  private trailerHeaders: http2.IncomingHttpHeaders | undefined;
  private rawTrailers: string[] | undefined;
  private halfClosed = false;
  private pendingWrites: [Uint8Array, boolean][] | undefined;

  constructor(
    private readonly connection: ClientConnection,
    private readonly method: MethodDefinition<Req, Res>,
    private readonly limits: CallLimits,
    private readonly options: CallOptions,
    private readonly sink: ResponseSink<Res>,
  ) {}

  get isFinished(): boolean {
    return this.finished;
  }

  /** Starts the call. On failure the sink has already been ended. */
  start(): void {
    const { options } = this;
    if (options.signal?.aborted) return this.finish(cancelledError(options.signal));
    const remaining = remainingTime(options);
    if (remaining !== undefined && remaining <= 0) {
      return this.finish(new GrpcError(Status.DEADLINE_EXCEEDED, 'deadline exceeded before the call started'));
    }
    let session: http2.ClientHttp2Session;
    try {
      this.compressor = compressorFor(options.compression);
      session = this.connection.acquire();
    } catch (err) {
      return this.finish(toGrpcError(err, Status.UNAVAILABLE, 'could not start the call'));
    }
    this.session = session;
    this.connection.callStarted(session);
    if (remaining !== undefined && remaining <= MAX_TIMER_MS) {
      this.timer = setTimeout(() => this.cancelWith(new GrpcError(Status.DEADLINE_EXCEEDED, `deadline exceeded after ${Math.round(remaining)} ms`)), remaining);
    }
    if (options.signal) {
      const signal = options.signal;
      this.abortListener = () => this.cancelWith(cancelledError(signal));
      signal.addEventListener('abort', this.abortListener, { once: true });
    }
    this.pendingWrites = [];
    this.connection.whenReady(session, () => this.openStream(session, remaining));
  }

  private openStream(session: http2.ClientHttp2Session, remaining: number | undefined): void {
    const pending = this.pendingWrites!;
    this.pendingWrites = undefined;
    if (this.finished) return this.connection.callEnded(session);
    let stream: http2.ClientHttp2Stream;
    try {
      // Node 24 no longer throws for a destroyed session here, it fails the stream later with a vaguer reason.
      if (session.destroyed) throw new Error('the connection is closed');
      stream = session.request(this.requestHeaders(remaining === undefined ? undefined : remainingTime(this.options)));
    } catch (err) {
      this.connection.callEnded(session);
      const cause = this.connection.lastFailure;
      return this.finish(new GrpcError(Status.UNAVAILABLE, `could not start the call on ${this.connection.address}: ${(cause ?? (err as Error)).message}`));
    }
    this.stream = stream;
    this.listen(stream);
    pending.forEach(([bytes, compressed], i) => {
      const last = this.halfClosed && i === pending.length - 1;
      writeMessage(stream, bytes, compressed ? this.compressor : undefined, last);
    });
    if (this.halfClosed && pending.length === 0) stream.end();
  }

  /** Sends one request; resolves when the stream can take more (dropped silently once the call ended). */
  write(request: Req, compress = true): Promise<void> {
    return this.send(request, compress, false);
  }

  /** Sends the only request and half-closes in the same DATA frame (unary and server-streaming calls). */
  writeLast(request: Req): void {
    void this.send(request, true, true).catch(() => {});
  }

  private send(request: Req, compress: boolean, last: boolean): Promise<void> {
    if (this.finished || this.halfClosed) return Promise.resolve();
    let bytes: Uint8Array;
    try {
      bytes = this.method.serializeRequest(request);
      checkSendSize(bytes, this.limits.maxSendMessageSize);
    } catch (err) {
      const error = toGrpcError(err, Status.INTERNAL, 'could not serialize the request');
      this.cancelWith(error);
      return Promise.reject(error);
    }
    if (last) this.halfClosed = true;
    const stream = this.stream;
    if (!stream) {
      // Still waiting for the connection: keep the message until the stream opens.
      this.pendingWrites?.push([bytes, compress]);
      return Promise.resolve();
    }
    const accepted = writeMessage(stream, bytes, compress ? this.compressor : undefined, last);
    return drained(stream, accepted);
  }

  /** Half-closes: no more requests. */
  end(): void {
    if (this.halfClosed || this.finished) return;
    this.halfClosed = true;
    this.stream?.end();
  }

  /** Cancels the call: the stream is reset with CANCEL and the sink ends with `error`. */
  cancelWith(error: GrpcError): void {
    if (this.finished) return;
    this.finish(error);
    if (this.stream && !this.stream.destroyed) this.stream.close(NGHTTP2_CANCEL);
  }

  pause(): void {
    this.stream?.pause();
  }

  resume(): void {
    this.stream?.resume();
  }

  private requestHeaders(remaining: number | undefined): http2.OutgoingHttpHeaders {
    const headers: Record<string, string | string[] | number> = {
      ':method': 'POST',
      ':scheme': this.connection.scheme,
      ':path': this.method.path,
      ':authority': this.connection.authority,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': USER_AGENT,
      'grpc-accept-encoding': ACCEPT_ENCODING,
    };
    if (remaining !== undefined) headers['grpc-timeout'] = encodeTimeout(remaining);
    if (this.compressor) headers['grpc-encoding'] = this.compressor.name;
    this.options.metadata?.writeTo(headers);
    return headers;
  }

  private listen(stream: http2.ClientHttp2Stream): void {
    const reader = createMessageReader(this.limits.maxReceiveMessageSize, this.method.deserializeResponse, (message, compressed) => {
      if (!this.finished) this.sink.message(message, compressed);
    });
    let streamError: Error | undefined;
    stream.on('response', (headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, _flags: number, rawHeaders: string[]) => {
      this.httpStatus = Number(headers[':status']);
      if (headers['grpc-status'] !== undefined) {
        this.trailerHeaders = headers; // Trailers-Only
        this.rawTrailers = rawHeaders;
        return;
      }
      const problem = nonGrpcResponse(this.httpStatus, headers);
      if (problem) return this.cancelWith(problem);
      try {
        reader.setEncoding(headers['grpc-encoding'] as string | undefined);
      } catch (err) {
        return this.cancelWith(new GrpcError(Status.INTERNAL, `server used an unsupported grpc-encoding: ${(err as Error).message}`));
      }
      if (this.options.onHeader || this.sink.headers) {
        const metadata = Metadata.fromRawHeaders(rawHeaders);
        this.options.onHeader?.(metadata);
        this.sink.headers?.(metadata);
      }
    });
    stream.on('trailers', (headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
      this.trailerHeaders = headers;
      this.rawTrailers = rawHeaders;
    });
    stream.on('data', (chunk: Buffer) => {
      if (this.finished) return;
      try {
        reader.decoder.push(chunk);
      } catch (err) {
        this.cancelWith(toGrpcError(err, Status.INTERNAL, 'invalid response message'));
      }
    });
    // Node ends the readable side on a reset or a lost connection too; only trailers make it a real end.
    const endWithTrailers = () => {
      try {
        reader.decoder.finish();
      } catch (err) {
        return this.cancelWith(toGrpcError(err, Status.INTERNAL, 'truncated response'));
      }
      this.finishFromTrailers();
    };
    stream.on('end', () => {
      if (!this.finished && this.trailerHeaders) endWithTrailers();
    });
    stream.on('error', (err) => {
      streamError = err;
    });
    stream.on('close', () => {
      this.connection.callEnded(this.session!);
      if (this.finished) return;
      if (this.trailerHeaders) return endWithTrailers();
      const session = this.session!;
      if (stream.rstCode === http2.constants.NGHTTP2_NO_ERROR && !session.destroyed && !streamError) return this.finishFromTrailers();
      this.finish(rstStatus(stream, session, streamError ?? this.connection.lastFailure, this.connection));
    });
  }

  private finishFromTrailers(): void {
    const wantOkTrailers = !!this.sink.wantsTrailers || !!this.options.onTrailer;
    const { error, trailers } = statusFromTrailers(this.trailerHeaders, this.rawTrailers ?? [], this.httpStatus, wantOkTrailers);
    this.finish(error, trailers);
  }

  private finish(error: GrpcError | undefined, trailers: Metadata = error?.metadata ?? new Metadata()): void {
    if (this.finished) return;
    this.finished = true;
    // The status came before we half-closed (e.g. an early error on a bidi call): writes are
    // dropped from now on, so end our side rather than leave the stream open until the session closes.
    if (!this.halfClosed && this.stream && !this.stream.destroyed) {
      this.halfClosed = true;
      this.stream.close(NGHTTP2_CANCEL);
    }
    clearTimeout(this.timer);
    if (this.abortListener) this.options.signal!.removeEventListener('abort', this.abortListener);
    this.options.onTrailer?.(trailers);
    this.sink.end(error, trailers);
  }
}
