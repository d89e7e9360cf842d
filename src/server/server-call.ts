import http2 from 'node:http2';
import { ACCEPT_ENCODING, compressorFor, peerAccepts, type Compressor } from '../wire/compression.js';
import { GrpcError } from '../wire/error.js';
import { Metadata, encodeBinaryHeader } from '../wire/metadata.js';
import { percentEncode } from '../wire/percent.js';
import { Status } from '../wire/status.js';
import { FrameBatch, checkSendSize, drained, writeMessage } from '../transport/message-io.js';
import { SINGLE_BUFFER_LIMIT } from '../wire/frame.js';
import { noteResponseSent } from '../transport/server-keepalive.js';
import { peerAddress } from '../transport/peer-address.js';
import { serverCallProbe, type CallProbe } from '../observability/events.js';

type Headers = Record<string, string | string[] | number>;

const streamPeer = (stream: http2.ServerHttp2Stream) => peerAddress(stream.session?.socket);

/** Response headers without metadata or compression: one object for every such call (node:http2 copies it). */
const PLAIN_RESPONSE_HEADERS: Readonly<Headers> = Object.freeze(responseHeaders());
/** Trailers of a call that ended OK without trailing metadata. */
const OK_TRAILERS: Readonly<Headers> = Object.freeze({ 'grpc-status': '0' });

/** The call a stream carries, so that its listeners can be functions shared by every stream rather than closures per call. */
export const kCall = Symbol('tsgrpc.call');
export type CallStream<C> = http2.ServerHttp2Stream & { [kCall]: C };

/**
 * The response side of one server stream: headers, messages and the final
 * status, in that order and at most once each. Knows nothing of handlers.
 * The call context and the dispatcher extend it, so that a call is one object.
 */
export class ServerResponse {
  private headersSent = false;
  private finished = false;
  private abandoned = false;
  /** Made on first use: most calls send no metadata. */
  private pendingHeaders: Metadata | undefined;
  private trailerMetadata: Metadata | undefined;
  private compressor: Compressor | undefined;
  /** The trailers finish() chose, sent when the stream asks for them. */
  private trailersToSend: Headers | undefined;
  /** Per-message switch: false sends the next messages uncompressed even with an encoding set. */
  compressMessages = true;
  /** Messages of a synchronous run not written yet (see write's `batched`). */
  private batch: FrameBatch | undefined;
  /**
   * Whether the response lists the request encodings this server accepts (grpc-accept-encoding): only when
   * it refuses the client's, as doc/compression.md asks. Other responses leave it out, as grpc-go does; it
   * would cost every call a header.
   */
  advertisesEncodings = false;

  constructor(
    protected readonly stream: http2.ServerHttp2Stream,
    private readonly maxSendSize: number,
    private readonly peerAcceptEncoding: string | undefined,
    path: string,
  ) {
    (stream as CallStream<ServerResponse>)[kCall] = this;
    this.probe = serverCallProbe(path, stream, streamPeer);
  }

  /** Counts messages and reports the status, only while someone observes server calls. */
  readonly probe: CallProbe | undefined;

  /** Trailing metadata, sent with the status. */
  get trailers(): Metadata {
    return (this.trailerMetadata ??= new Metadata());
  }

  /** True once a status went out or the stream is gone: nothing more may be written. */
  get isFinished(): boolean {
    return this.finished || this.stream.destroyed;
  }

  /** True once we ended the call with a status (as opposed to the stream vanishing). */
  get statusSent(): boolean {
    return this.finished && !this.abandoned;
  }

  /** The stream closed under us: no status will ever be sent. True the first time. */
  markAbandoned(): boolean {
    if (this.abandoned) return false;
    this.abandoned = true;
    this.finished = true;
    this.probe?.end(Status.CANCELLED, 'the client cancelled the call or the connection was lost');
    return true;
  }

  get headersWereSent(): boolean {
    return this.headersSent;
  }

  /** Chooses the response encoding; ignored (identity) when the client does not accept it. */
  setCompression(name: string): void {
    if (this.headersSent) throw new Error('setResponseCompression must be called before headers are sent');
    const codec = compressorFor(name);
    this.compressor = codec && peerAccepts(this.peerAcceptEncoding, name) ? codec : undefined;
  }

  addHeaders(md: Metadata): void {
    if (this.headersSent) throw new Error('response headers were already sent');
    (this.pendingHeaders ??= new Metadata()).merge(md);
  }

  sendHeaders(): void {
    if (this.headersSent || this.isFinished) return;
    this.headersSent = true;
    noteResponseSent(this.stream);
    this.stream.respond(this.headersToSend(), { waitForTrailers: true });
  }

  private headersToSend(): Headers {
    if (!this.compressor && !this.pendingHeaders) return PLAIN_RESPONSE_HEADERS;
    const headers = responseHeaders();
    if (this.compressor) headers['grpc-encoding'] = this.compressor.name;
    this.pendingHeaders?.writeTo(headers);
    return headers;
  }

  /**
   * Writes one serialized message; false means wait for drained() before the next. With `batched`, a small
   * uncompressed message joins a batch that goes out in one write (see FrameBatch): whoever batches must
   * flushBatch() before waiting for anything; other writes and finish() flush it first themselves.
   */
  write(bytes: Uint8Array, batched = false): boolean {
    if (this.isFinished) return true;
    // Before the headers: a first message over the limit then fails as a Trailers-Only response.
    checkSendSize(bytes, this.maxSendSize);
    this.sendHeaders();
    const compressor = this.compressMessages ? this.compressor : undefined;
    noteResponseSent(this.stream);
    if (batched && compressor === undefined && bytes.length <= SINGLE_BUFFER_LIMIT) {
      this.probe?.sent(bytes.length);
      return (this.batch ??= new FrameBatch()).add(this.stream, bytes);
    }
    this.batch?.flush(this.stream);
    return writeMessage(this.stream, bytes, compressor, false, this.probe);
  }

  /** Writes the batched messages, if any. */
  flushBatch(): void {
    if (!this.isFinished) this.batch?.flush(this.stream);
  }

  /** Throws RESOURCE_EXHAUSTED, as write() would, for a message over the send limit. */
  checkSize(bytes: Uint8Array): void {
    checkSendSize(bytes, this.maxSendSize);
  }

  /** Resolves when the stream can take more data (or has closed). */
  drained(): Promise<void> {
    return drained(this.stream, false);
  }

  /** Writes the only response message and ends the call OK, without waiting for drain in between. */
  sendLast(bytes: Uint8Array): void {
    if (this.isFinished) return;
    this.write(bytes);
    this.finish(Status.OK, '');
  }

  /** Ends the call with a status. Before any headers, this is a Trailers-Only response. */
  finish(code: Status, message: string, statusDetails?: Buffer): void {
    if (this.isFinished) return;
    this.batch?.flush(this.stream);
    this.finished = true;
    this.probe?.end(code, message);
    const stream = this.stream;
    if (!this.headersSent) {
      this.headersSent = true;
      noteResponseSent(stream);
      const headers = responseHeaders();
      if (this.advertisesEncodings) headers['grpc-accept-encoding'] = ACCEPT_ENCODING;
      stream.respond(this.trailerHeaders(headers, code, message, statusDetails), { endStream: true });
      this.closeRequestSide();
      return;
    }
    this.trailersToSend = code === Status.OK && !message && !statusDetails && !this.trailerMetadata?.size
      ? OK_TRAILERS
      : this.trailerHeaders({}, code, message, statusDetails);
    // Not once(): its wrapper costs more than the listener, and the event fires once anyway.
    stream.on('wantTrailers', sendTrailersOf);
    stream.end();
  }

  /** The stream asks for the trailers finish() chose. */
  sendTrailers(): void {
    const stream = this.stream;
    if (stream.destroyed) return;
    stream.sendTrailers(this.trailersToSend!);
    this.closeRequestSide();
  }

  private trailerHeaders(into: Headers, code: Status, message: string, statusDetails: Buffer | undefined): Headers {
    into['grpc-status'] = String(code);
    if (message) into['grpc-message'] = percentEncode(message);
    if (statusDetails) into['grpc-status-details-bin'] = encodeBinaryHeader(statusDetails);
    this.trailerMetadata?.writeTo(into);
    return into;
  }

  /**
   * After the status, a client that is still sending gets RST_STREAM(NO_ERROR), as the spec allows, so
   * the stream does not stay half-open for as long as the client keeps it. Deferred a turn so the
   * trailers are written first; nothing to do (and no turn to wait) when the request side has ended.
   */
  private closeRequestSide(): void {
    if (this.stream.readableEnded) return;
    setImmediate(() => {
      const { stream } = this;
      if (!stream.destroyed && !stream.readableEnded) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    });
  }

  finishWithError(err: GrpcError): void {
    if (err.metadata.size > 0) this.trailers.merge(err.metadata);
    this.finish(err.code, err.details, err.statusDetails);
  }
}

function sendTrailersOf(this: CallStream<ServerResponse>): void {
  this[kCall].sendTrailers();
}

/** A fresh literal rather than a copy of the frozen one: V8 copies a frozen object slowly, into a larger one. */
function responseHeaders(): Headers {
  return { ':status': 200, 'content-type': 'application/grpc' };
}

/** Replies to a request that is not gRPC at all, with an HTTP status and a gRPC status for gRPC-aware peers. */
export function rejectRequest(stream: http2.ServerHttp2Stream, httpStatus: number, code: Status, message: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    { ':status': httpStatus, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': percentEncode(message) },
    { endStream: true },
  );
}
