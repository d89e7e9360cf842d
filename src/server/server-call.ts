import http2 from 'node:http2';
import { ACCEPT_ENCODING, compressorFor, peerAccepts, type Compressor } from '../wire/compression.js';
import { GrpcError } from '../wire/error.js';
import { Metadata, encodeBinaryHeader } from '../wire/metadata.js';
import { percentEncode } from '../wire/percent.js';
import { Status } from '../wire/status.js';
import { serverCallProbe, type CallProbe } from '../observability/events.js';
import { checkSendSize, drained, writeMessage } from '../transport/message-io.js';
import { peerAddress } from '../transport/peer-address.js';
import { noteResponseSent } from '../transport/server-keepalive.js';

type Headers = Record<string, string | string[] | number>;

const streamPeer = (stream: http2.ServerHttp2Stream) => peerAddress(stream.session?.socket);

/**
 * The response side of one server stream: headers, messages and the final
 * status, in that order and at most once each. Knows nothing of handlers.
 */
export class ServerResponse {
  private headersSent = false;
  private finished = false;
  private pendingHeaders = new Metadata();
  private compressor: Compressor | undefined;
  /** Per-message switch: false sends the next messages uncompressed even with an encoding set. */
  compressMessages = true;
  readonly trailers = new Metadata();
  /** Counts messages and reports the status, only while someone observes server calls. */
  readonly probe: CallProbe | undefined;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    path: string,
    private readonly maxSendSize: number,
    private readonly peerAcceptEncoding: string | undefined,
  ) {
    this.probe = serverCallProbe(path, stream, streamPeer);
  }

  /** True once a status went out or the stream is gone: nothing more may be written. */
  get isFinished(): boolean {
    return this.finished || this.stream.destroyed;
  }

  /** True once we ended the call with a status (as opposed to the stream vanishing). */
  get statusSent(): boolean {
    return this.finished && !this.abandoned;
  }

  private abandoned = false;

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
    this.pendingHeaders.merge(md);
  }

  sendHeaders(): void {
    if (this.headersSent || this.isFinished) return;
    this.headersSent = true;
    noteResponseSent(this.stream);
    const headers: Headers = { ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': ACCEPT_ENCODING };
    if (this.compressor) headers['grpc-encoding'] = this.compressor.name;
    this.pendingHeaders.writeTo(headers);
    this.stream.respond(headers, { waitForTrailers: true });
  }

  /** Writes one serialized message; false means wait for drained() before the next. */
  write(bytes: Uint8Array): boolean {
    if (this.isFinished) return true;
    this.sendHeaders();
    const compressor = this.compressMessages ? this.compressor : undefined;
    checkSendSize(bytes, this.maxSendSize);
    noteResponseSent(this.stream);
    return writeMessage(this.stream, bytes, compressor, false, this.probe);
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
    this.finished = true;
    this.probe?.end(code, message);
    const trailers: Headers = { 'grpc-status': String(code) };
    if (message) trailers['grpc-message'] = percentEncode(message);
    if (statusDetails) trailers['grpc-status-details-bin'] = encodeBinaryHeader(statusDetails);
    this.trailers.writeTo(trailers);
    if (!this.headersSent) {
      this.headersSent = true;
      noteResponseSent(this.stream);
      const head = { ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': ACCEPT_ENCODING };
      this.stream.respond({ ...head, ...trailers }, { endStream: true });
      this.closeRequestSide();
      return;
    }
    this.stream.once('wantTrailers', () => {
      if (this.stream.destroyed) return;
      this.stream.sendTrailers(trailers);
      this.closeRequestSide();
    });
    this.stream.end();
  }

  /**
   * After the status, a client that is still sending gets RST_STREAM(NO_ERROR), as the spec allows, so
   * the stream does not stay half-open for as long as the client keeps it. Deferred a turn so the
   * trailers are written first.
   */
  private closeRequestSide(): void {
    setImmediate(() => {
      const { stream } = this;
      if (!stream.destroyed && !stream.readableEnded) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    });
  }

  finishWithError(err: GrpcError): void {
    this.trailers.merge(err.metadata);
    this.finish(err.code, err.details, err.statusDetails);
  }

}

/** Replies to a request that is not gRPC at all, with an HTTP status and a gRPC status for gRPC-aware peers. */
export function rejectRequest(stream: http2.ServerHttp2Stream, httpStatus: number, code: Status, message: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    { ':status': httpStatus, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': percentEncode(message) },
    { endStream: true },
  );
}
