import http2 from 'node:http2';
import { GrpcError } from '../wire/error.js';
import { Metadata } from '../wire/metadata.js';
import { percentDecode } from '../wire/percent.js';
import { Status, parseStatusCode, statusFromHttp } from '../wire/status.js';
import { http2ErrorName } from '../wire/http2-errors.js';

/**
 * How a client call's final status is decided, from whatever ended it:
 * response headers that are not gRPC, trailers (or Trailers-Only headers),
 * a stream reset or lost connection, or the caller's AbortSignal.
 */

const C = http2.constants;
const EMPTY_METADATA = new Metadata();
/** The status of an OK call whose trailing metadata nobody reads: shared, since nothing in it changes. */
const OK_UNREAD: FinalStatus = Object.freeze({ error: undefined, trailers: EMPTY_METADATA });

/** A response that is not a gRPC response: its HTTP status is mapped per doc/http-grpc-status-mapping.md. */
export function nonGrpcResponse(httpStatus: number, headers: http2.IncomingHttpHeaders): GrpcError | undefined {
  const contentType = headers['content-type'];
  if (httpStatus !== 200) {
    return new GrpcError(statusFromHttp(httpStatus), `received HTTP status ${httpStatus} (content-type ${JSON.stringify(contentType ?? '')}) instead of a gRPC response`);
  }
  if (!contentType || !/^application\/grpc(?:[+;]|$)/.test(contentType)) {
    return new GrpcError(Status.UNKNOWN, `received content-type ${JSON.stringify(contentType ?? '')} instead of application/grpc`);
  }
  return undefined;
}

export interface FinalStatus {
  error: GrpcError | undefined;
  trailers: Metadata;
}

/**
 * The status in trailers (or in Trailers-Only headers). Without any, the HTTP
 * status decides. Trailing metadata of an OK call is parsed only when wanted.
 */
export function statusFromTrailers(
  trailers: http2.IncomingHttpHeaders | undefined,
  rawTrailers: readonly string[],
  httpStatus: number,
  wantOkTrailers: boolean,
): FinalStatus {
  if (!trailers) {
    const code = httpStatus === 200 ? Status.INTERNAL : statusFromHttp(httpStatus);
    return { error: new GrpcError(code, 'the server ended the stream without a grpc-status'), trailers: EMPTY_METADATA };
  }
  const code = parseStatusCode(trailers['grpc-status'] as string | undefined);
  if (code === Status.OK && !wantOkTrailers) return OK_UNREAD;
  const metadata = Metadata.fromRawHeaders(rawTrailers);
  if (code === undefined) return { error: new GrpcError(Status.INTERNAL, 'trailers arrived without a grpc-status', metadata), trailers: metadata };
  if (code === Status.OK) return { error: undefined, trailers: metadata };
  const message = percentDecode(String(trailers['grpc-message'] ?? ''));
  const detailsRaw = trailers['grpc-status-details-bin'];
  const details = typeof detailsRaw === 'string' ? Buffer.from(detailsRaw, 'base64') : undefined;
  return { error: new GrpcError(code, message, metadata, details), trailers: metadata };
}

export function cancelledError(signal: AbortSignal): GrpcError {
  const reason = signal.reason;
  if (reason instanceof GrpcError) return reason;
  const why = reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : '';
  return new GrpcError(Status.CANCELLED, `call cancelled by the client${why}`);
}

/** The status of a stream that closed without trailers: a reset by the peer, or a lost connection. */
export function rstStatus(
  stream: http2.ClientHttp2Stream,
  session: http2.ClientHttp2Session,
  cause: Error | undefined,
  target: { address: string },
  deadlineAt: number | undefined,
): GrpcError {
  const sessionGone = session.destroyed;
  const code = stream.rstCode;
  if (code === C.NGHTTP2_REFUSED_STREAM) {
    return new GrpcError(Status.UNAVAILABLE, 'the server refused the stream (RST_STREAM REFUSED_STREAM); it was not processed');
  }
  if (code === C.NGHTTP2_CANCEL && !sessionGone) {
    // A server whose copy of the deadline expired first resets with CANCEL; past the deadline, that is what it means.
    if (deadlineAt !== undefined && Date.now() >= deadlineAt) {
      return new GrpcError(Status.DEADLINE_EXCEEDED, 'deadline exceeded (the server cancelled the stream at the deadline)');
    }
    return new GrpcError(Status.CANCELLED, 'the server cancelled the stream (RST_STREAM CANCEL)');
  }
  if (code === C.NGHTTP2_ENHANCE_YOUR_CALM) return new GrpcError(Status.RESOURCE_EXHAUSTED, 'the server reset the stream with ENHANCE_YOUR_CALM');
  if (code === C.NGHTTP2_INADEQUATE_SECURITY) return new GrpcError(Status.PERMISSION_DENIED, 'the server reset the stream with INADEQUATE_SECURITY');
  if (sessionGone || isConnectionError(cause)) {
    const reason = cause ? `: ${cause.message}` : '';
    return new GrpcError(Status.UNAVAILABLE, `connection to ${target.address} was lost or could not be made${reason}`);
  }
  if (code === C.NGHTTP2_NO_ERROR) {
    return new GrpcError(Status.INTERNAL, 'the server closed the stream (RST_STREAM NO_ERROR) before sending a status');
  }
  return new GrpcError(Status.INTERNAL, `the server reset the stream with ${http2ErrorName(code)}${cause ? `: ${cause.message}` : ''}`);
}

/**
 * Whether a stream that closed before any response never reached the server's
 * application: refused (RST_STREAM REFUSED_STREAM, which is also how nghttp2 closes
 * streams above a GOAWAY's last-stream-id), or never sent because the session was going away.
 */
export function wasNeverProcessed(stream: http2.ClientHttp2Stream, cause: Error | undefined): boolean {
  if (stream.rstCode === C.NGHTTP2_REFUSED_STREAM) return true;
  return (cause as NodeJS.ErrnoException | undefined)?.code === 'ERR_HTTP2_GOAWAY_SESSION';
}

function isConnectionError(err: Error | undefined): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  return /^E[A-Z]+$/.test(code) || code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_SESSION_ERROR' || code === 'ERR_HTTP2_ERROR';
}
