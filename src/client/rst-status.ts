import http2 from 'node:http2';
import { GrpcError } from '../wire/error.js';
import { Status } from '../wire/status.js';

const C = http2.constants;

/** The status of a stream that closed without trailers: a reset by the peer, or a lost connection. */
export function rstStatus(
  stream: http2.ClientHttp2Stream,
  session: http2.ClientHttp2Session,
  cause: Error | undefined,
  target: { address: string },
): GrpcError {
  const sessionGone = session.destroyed;
  const code = stream.rstCode;
  if (code === C.NGHTTP2_REFUSED_STREAM) {
    return new GrpcError(Status.UNAVAILABLE, 'the server refused the stream (RST_STREAM REFUSED_STREAM); it was not processed');
  }
  if (code === C.NGHTTP2_CANCEL && !sessionGone) return new GrpcError(Status.CANCELLED, 'the server cancelled the stream (RST_STREAM CANCEL)');
  if (code === C.NGHTTP2_ENHANCE_YOUR_CALM) return new GrpcError(Status.RESOURCE_EXHAUSTED, 'the server reset the stream with ENHANCE_YOUR_CALM');
  if (code === C.NGHTTP2_INADEQUATE_SECURITY) return new GrpcError(Status.PERMISSION_DENIED, 'the server reset the stream with INADEQUATE_SECURITY');
  if (sessionGone || isConnectionError(cause)) {
    const reason = cause ? `: ${cause.message}` : '';
    return new GrpcError(Status.UNAVAILABLE, `connection to ${target.address} was lost or could not be made${reason}`);
  }
  if (code === C.NGHTTP2_NO_ERROR) {
    return new GrpcError(Status.INTERNAL, 'the server closed the stream (RST_STREAM NO_ERROR) before sending a status');
  }
  return new GrpcError(Status.INTERNAL, `the server reset the stream with HTTP/2 error code ${code}${cause ? `: ${cause.message}` : ''}`);
}

function isConnectionError(err: Error | undefined): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  return /^E[A-Z]+$/.test(code) || code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_SESSION_ERROR' || code === 'ERR_HTTP2_ERROR';
}
