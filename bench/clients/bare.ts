// Bare node:http2 gRPC-shaped client: one session, hand-rolled framing, no
// library. The ceiling for any gRPC client built on node:http2.
import http2 from 'node:http2';
import net from 'node:net';
import { PATHS, type EchoClient } from '../echo.js';
import { CONNECTION_WINDOW, STREAM_WINDOW, Splitter, frame } from '../wire.js';

function headers(path: string): http2.OutgoingHttpHeaders {
  return {
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
  };
}

/** Runs one call: `onMsg` sees every response message; resolves at end of response. */
function call(
  session: http2.ClientHttp2Session,
  path: string,
  onMsg: (m: Buffer, req: http2.ClientHttp2Stream) => void,
): { req: http2.ClientHttp2Stream; done: Promise<void> } {
  const req = session.request(headers(path));
  const split = new Splitter((m) => onMsg(m, req));
  const done = new Promise<void>((resolve, reject) => {
    let status: string | undefined;
    req.on('trailers', (t) => (status = t['grpc-status'] as string));
    req.on('response', (h) => {
      if (h['grpc-status'] !== undefined) status = h['grpc-status'] as string;
    });
    req.on('data', (c: Buffer) => split.push(c));
    req.on('error', reject);
    req.on('end', () => (status === '0' ? resolve() : reject(new Error(`grpc-status ${status}`))));
  });
  return { req, done };
}

function send(req: http2.ClientHttp2Stream, payload: Buffer, end: boolean): void {
  const parts = frame(payload);
  if (parts.length > 1) req.cork();
  for (let i = 0; i < parts.length - 1; i++) req.write(parts[i]);
  if (end) req.end(parts[parts.length - 1]);
  else req.write(parts[parts.length - 1]);
  if (parts.length > 1) req.uncork();
}

export async function connectBare(port: number): Promise<EchoClient> {
  const session = http2.connect(`http://127.0.0.1:${port}`, {
    settings: { initialWindowSize: STREAM_WINDOW },
    // Small writes must not wait on Nagle's algorithm.
    createConnection: () => net.connect({ host: '127.0.0.1', port, noDelay: true }),
  });
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  session.setLocalWindowSize(CONNECTION_WINDOW);
  return {
    async unary(payload) {
      let out: Buffer | undefined;
      const { req, done } = call(session, PATHS.unary, (m) => (out = m));
      send(req, payload, true);
      await done;
      return out!;
    },
    async serverStream(payload) {
      let n = 0;
      const { req, done } = call(session, PATHS.serverStream, () => n++);
      send(req, payload, true);
      await done;
      return n;
    },
    async clientStream(msg, count) {
      let out: Buffer | undefined;
      const { req, done } = call(session, PATHS.clientStream, (m) => (out = m));
      // Respect backpressure so the bare client does not just buffer everything.
      for (let i = 0; i < count; i++) {
        let ok = true;
        for (const part of frame(msg)) ok = req.write(part);
        if (!ok) await new Promise((r) => req.once('drain', r));
      }
      req.end();
      await done;
      return out!.readUInt32BE(0);
    },
    async pingPong(msg, next) {
      let rounds = 0;
      let t0 = performance.now();
      const { req, done } = call(session, PATHS.bidi, (_m, r) => {
        rounds++;
        const now = performance.now();
        if (next(now - t0)) {
          t0 = performance.now();
          send(r, msg, false);
        } else r.end();
      });
      send(req, msg, false);
      await done;
      return rounds;
    },
    close() {
      session.close();
    },
  };
}
