// Bare node:http2 gRPC-shaped echo server: no library, hand-rolled framing.
// It is the ceiling for any gRPC server built on node:http2.
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { PATHS, countReply, streamCount, type EchoServer } from '../echo.js';
import { CONNECTION_WINDOW, STREAM_WINDOW, Splitter, frame } from '../wire.js';

const RESPONSE_HEADERS = { ':status': 200, 'content-type': 'application/grpc' };
const OK_TRAILERS = { 'grpc-status': '0' };

function respond(stream: http2.ServerHttp2Stream): void {
  stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.destroyed || stream.sendTrailers(OK_TRAILERS));
}

function writeAll(stream: http2.ServerHttp2Stream, payload: Buffer): void {
  const parts = frame(payload);
  if (parts.length === 1) {
    stream.write(parts[0]);
    return;
  }
  stream.cork();
  for (const b of parts) stream.write(b);
  stream.uncork();
}

function onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  const path = headers[':path'];
  stream.on('error', () => {});
  if (path === PATHS.bidi) {
    respond(stream);
    const split = new Splitter((m) => writeAll(stream, m));
    stream.on('data', (c: Buffer) => split.push(c));
    stream.on('end', () => stream.destroyed || stream.end());
    return;
  }
  // Unary-request methods: collect the messages, answer at end of request.
  const msgs: Buffer[] = [];
  const split = new Splitter((m) => msgs.push(m));
  stream.on('data', (c: Buffer) => split.push(c));
  stream.on('end', () => {
    // h2load resets in-flight streams when its duration ends.
    if (stream.destroyed) return;
    if (path === PATHS.unary && msgs.length === 1) {
      respond(stream);
      writeAll(stream, msgs[0]);
    } else if (path === PATHS.serverStream && msgs.length === 1) {
      respond(stream);
      const n = streamCount(msgs[0]);
      for (let i = 0; i < n; i++) writeAll(stream, msgs[0]);
    } else if (path === PATHS.clientStream) {
      respond(stream);
      writeAll(stream, countReply(msgs.length));
    } else {
      stream.respond({ ...RESPONSE_HEADERS, 'grpc-status': '12' }, { endStream: true });
      return;
    }
    stream.end();
  });
}

export async function startBare(): Promise<EchoServer> {
  const server = http2.createServer({ settings: { initialWindowSize: STREAM_WINDOW } });
  server.on('session', (s) => s.setLocalWindowSize(CONNECTION_WINDOW));
  // Small header/data/trailer writes must not wait on Nagle's algorithm.
  server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  server.on('stream', onStream);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
