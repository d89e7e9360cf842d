// Bare node:http2 gRPC-shaped echo server: no library, hand-rolled framing.
// It is the ceiling for any gRPC server built on node:http2; the unary path
// (the one the headline targets use) is as lean as node:http2 allows:
// 4 shared listeners, one framed buffer, reused header objects.
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { PATHS, countReply, streamCount, type EchoServer } from '../echo.js';
import { CONNECTION_WINDOW, STREAM_WINDOW, Splitter, oneMessage, writeFramed } from '../wire.js';

const RESPONSE_HEADERS = { ':status': 200, 'content-type': 'application/grpc' };
const OK_TRAILERS = { 'grpc-status': '0' };
const UNIMPLEMENTED = { ...RESPONSE_HEADERS, 'grpc-status': '12' };
const WAIT_TRAILERS = { waitForTrailers: true };

// Unary: the request's data chunks live on the stream under symbols, so the
// listeners are shared functions (no closure, no state object per call).
const FIRST = Symbol('first chunk');
const MORE = Symbol('later chunks');
type UnaryStream = http2.ServerHttp2Stream & { [FIRST]?: Buffer; [MORE]?: Buffer[] };

function ignore(): void {}
function sendOk(this: http2.ServerHttp2Stream): void {
  if (!this.destroyed) this.sendTrailers(OK_TRAILERS);
}
function onUnaryData(this: UnaryStream, chunk: Buffer): void {
  if (this[FIRST] === undefined) this[FIRST] = chunk;
  else (this[MORE] ??= []).push(chunk);
}
function onUnaryEnd(this: UnaryStream): void {
  // h2load resets in-flight streams when its duration ends.
  if (this.destroyed) return;
  const msg = oneMessage(this[FIRST], this[MORE]);
  if (!msg) {
    this.respond(UNIMPLEMENTED, { endStream: true });
    return;
  }
  this.respond(RESPONSE_HEADERS, WAIT_TRAILERS);
  this.on('wantTrailers', sendOk);
  writeFramed(this, msg, true);
}

function respond(stream: http2.ServerHttp2Stream): void {
  stream.respond(RESPONSE_HEADERS, WAIT_TRAILERS);
  stream.on('wantTrailers', sendOk);
}

function onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  const path = headers[':path'];
  stream.on('error', ignore);
  if (path === PATHS.unary) {
    (stream as UnaryStream)[FIRST] = undefined;
    stream.on('data', onUnaryData);
    stream.on('end', onUnaryEnd);
    return;
  }
  if (path === PATHS.bidi) {
    respond(stream);
    const split = new Splitter((m) => writeFramed(stream, m, false));
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
    if (path === PATHS.serverStream && msgs.length === 1) {
      respond(stream);
      const n = streamCount(msgs[0]);
      for (let i = 0; i < n; i++) writeFramed(stream, msgs[0], false);
    } else if (path === PATHS.clientStream) {
      respond(stream);
      writeFramed(stream, countReply(msgs.length), false);
    } else {
      stream.respond(UNIMPLEMENTED, { endStream: true });
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
