// Bare node:http2 gRPC-shaped client: one session, hand-rolled framing, no
// library. The ceiling for any gRPC client built on node:http2; the unary
// path (the one the headline targets use) is as lean as node:http2 allows.
import http2 from 'node:http2';
import net from 'node:net';
import { PATHS, type EchoClient } from '../echo.js';
import { CONNECTION_WINDOW, STREAM_WINDOW, Splitter, oneMessage, writeFramed } from '../wire.js';

function headers(path: string): http2.OutgoingHttpHeaders {
  return {
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
  };
}

// node:http2 copies request headers, so one prebuilt object serves every call.
const UNARY_HEADERS = headers(PATHS.unary);

type Done = (err: Error | null, res?: Buffer) => void;

/**
 * The per-call state of a lean unary call, kept on the stream under a symbol
 * so the listeners below are shared functions, not closures made per call.
 */
interface UnaryState {
  cb: Done;
  first?: Buffer;
  more?: Buffer[];
  status?: string;
}
const STATE = Symbol('bench unary call');
type UnaryStream = http2.ClientHttp2Stream & { [STATE]: UnaryState };

function onUnaryData(this: UnaryStream, chunk: Buffer): void {
  const st = this[STATE];
  if (st.first === undefined) st.first = chunk;
  else (st.more ??= []).push(chunk);
}
function onUnaryTrailers(this: UnaryStream, trailers: http2.IncomingHttpHeaders): void {
  this[STATE].status = trailers['grpc-status'] as string | undefined;
}
/**
 * 'close' settles the call, after trailers or a reset. A trailers-only
 * response (no 'response' listener, to keep listeners minimal) has no status
 * here and counts as an error, which is right for every echo in this bench.
 */
function onUnaryClose(this: UnaryStream): void {
  const st = this[STATE];
  const msg = st.status === '0' ? oneMessage(st.first, st.more) : undefined;
  if (msg) st.cb(null, msg);
  else st.cb(new Error(st.status === '0' ? 'not exactly one response message' : `grpc-status ${st.status ?? `missing (rst ${this.rstCode})`}`));
}
function ignore(): void {}

/**
 * A unary call with 4 shared listeners, one state object, one framed
 * buffer, and no promise: the leanest gRPC unary call node:http2 allows.
 */
function unaryCall(session: http2.ClientHttp2Session, payload: Buffer, cb: Done): void {
  const req = session.request(UNARY_HEADERS) as UnaryStream;
  req[STATE] = { cb, first: undefined, more: undefined, status: undefined };
  req.on('data', onUnaryData);
  req.on('trailers', onUnaryTrailers);
  req.on('close', onUnaryClose);
  req.on('error', ignore); // the error surfaces as a reset on 'close'
  writeFramed(req, payload, true);
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
    unaryCb: (payload, cb) => unaryCall(session, payload, cb),
    unary: (payload) => new Promise((resolve, reject) => unaryCall(session, payload, (err, res) => (err ? reject(err) : resolve(res!)))),
    async serverStream(payload) {
      let n = 0;
      const { req, done } = call(session, PATHS.serverStream, () => n++);
      writeFramed(req, payload, true);
      await done;
      return n;
    },
    async clientStream(msg, count) {
      let out: Buffer | undefined;
      const { req, done } = call(session, PATHS.clientStream, (m) => (out = m));
      // Respect backpressure so the bare client does not just buffer everything.
      for (let i = 0; i < count; i++) {
        writeFramed(req, msg, false);
        if (req.writableNeedDrain) await new Promise((r) => req.once('drain', r));
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
          writeFramed(r, msg, false);
        } else r.end();
      });
      writeFramed(req, msg, false);
      await done;
      return rounds;
    },
    close() {
      session.close();
    },
  };
}
