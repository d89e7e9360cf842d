import http2 from 'node:http2';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Channel, GrpcError, Metadata, Server, Status, createClient, encodeFrame, encodeStatusDetails, type Client, type ResponseStream } from '../src/index.js';
import { collect, expectGrpcError, probeImplementation, probeService, Observations, type Req, type Res } from './support/probe.js';
import { rawRequest, rawServer } from './support/raw-http2.js';

const { NGHTTP2_NO_ERROR } = http2.constants;
const methods = probeService.methods;
const response = (index: number) => Buffer.concat(encodeFrame(methods.Unary.serializeResponse({ index })));

/** Runs `use` against a raw HTTP/2 server that plays `behave` on every stream once the request is in. */
async function withServer<T>(behave: (stream: http2.ServerHttp2Stream) => void, use: (client: Client) => Promise<T>): Promise<T> {
  const server = await rawServer((stream) => {
    stream.resume();
    stream.on('end', () => behave(stream));
  });
  const channel = new Channel(`127.0.0.1:${server.port}`);
  try {
    return await use(createClient(probeService, channel));
  } finally {
    channel.close();
    server.close();
  }
}

/** Answers OK with the given DATA, in headers + data + trailers (no Trailers-Only). */
function okWith(body: Buffer) {
  return (s: http2.ServerHttp2Stream) => {
    s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
    s.end(body);
  };
}

describe('client statuses from a misbehaving server (raw HTTP/2 server)', () => {
  it('a HEADERS frame with grpc-status but without END_STREAM is not Trailers-Only', async () => {
    // The status in those headers means nothing: the messages and the trailers that follow count.
    const behave = (s: http2.ServerHttp2Stream) => {
      s.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '13', 'x-early': 'yes' }, { waitForTrailers: true });
      s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
      s.end(Buffer.concat([response(1), response(2)]));
    };
    await withServer(behave, async (client) => {
      const seenHeaders: Metadata[] = [];
      const stream: ResponseStream<Res> = client.serverStream({}, { onHeader: (md: Metadata) => seenHeaders.push(md) });
      expect((await collect(stream)).map((r) => r.index)).toEqual([1, 2]);
      expect(seenHeaders.map((md) => md.get('x-early'))).toEqual(['yes']);
    });
    // And without trailers after them, the call has no status at all.
    const noTrailers = (s: http2.ServerHttp2Stream) => {
      s.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' });
      s.end();
    };
    await withServer(noTrailers, async (client) => {
      const err = await expectGrpcError(collect(client.serverStream({})), Status.INTERNAL);
      expect(err.details).toMatch(/without a grpc-status/);
    });
  });

  it('RST_STREAM(NO_ERROR) before any response is INTERNAL', async () => {
    await withServer((s) => s.close(NGHTTP2_NO_ERROR), async (client) => {
      const err = await expectGrpcError(client.unary({}), Status.INTERNAL);
      expect(err.details).toMatch(/RST_STREAM NO_ERROR/);
    });
  });

  it('a malformed grpc-status-details-bin leaves the status, and richStatus reads as absent', async () => {
    for (const bad of [Buffer.from([0xff, 0xff, 0xff]), Buffer.from([0x0a, 0x01, 0x41]) /* field 1 as a string */]) {
      const behave = (s: http2.ServerHttp2Stream) =>
        s.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '3', 'grpc-message': 'bad', 'grpc-status-details-bin': bad.toString('base64') }, { endStream: true });
      await withServer(behave, async (client) => {
        const err = await expectGrpcError(client.unary({}), Status.INVALID_ARGUMENT);
        expect(err.details).toBe('bad');
        expect(err.statusDetails).toEqual(bad);
        expect(err.richStatus).toBeUndefined();
      });
    }
  });

  it.each([
    ['unary', (c: Client) => c.unary({})],
    ['client-streaming', (c: Client) => c.clientStream([{}, {}])],
  ])('a %s call answered OK with zero or two messages is UNIMPLEMENTED', async (_kind, call) => {
    const none = await withServer(okWith(Buffer.alloc(0)), (client) => expectGrpcError(call(client), Status.UNIMPLEMENTED));
    expect(none.details).toMatch(/without sending a response message/);
    const two = await withServer(okWith(Buffer.concat([response(1), response(2)])), (client) => expectGrpcError(call(client), Status.UNIMPLEMENTED));
    expect(two.details).toMatch(/more than one response message/);
  });
});

/**
 * A server in a worker thread: it resets each stream with CANCEL once the main
 * thread asks (shared[0] = 1), then reports that the reset is on the wire (shared[1] = 1).
 */
const RESETTING_SERVER = `
const http2 = require('node:http2');
const { parentPort, workerData } = require('node:worker_threads');
const shared = new Int32Array(workerData);
const server = http2.createServer();
server.on('stream', (stream) => {
  stream.on('error', () => {});
  stream.resume();
  const wait = setInterval(() => {
    if (Atomics.load(shared, 0) !== 1) return;
    clearInterval(wait);
    stream.close(http2.constants.NGHTTP2_CANCEL);
    setTimeout(() => { Atomics.store(shared, 1, 1); Atomics.notify(shared, 1); }, 50);
  }, 2);
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => server.close());
`;

describe('a CANCEL reset at or after the deadline', () => {
  it('is DEADLINE_EXCEEDED, even when it is processed before the client\'s own deadline timer', { timeout: 30_000 }, async () => {
    const shared = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(RESETTING_SERVER, { eval: true, workerData: shared.buffer });
    const port = await new Promise<number>((resolve) => worker.once('message', resolve));
    const channel = new Channel(`127.0.0.1:${port}`);
    try {
      const timeoutMs = 400;
      const deadlineAt = Date.now() + timeoutMs;
      const call = createClient(probeService, channel).unary({}, { timeout: timeoutMs });
      // Block this thread from before the deadline until after it, while the worker resets the stream.
      // When it unblocks, the reset is read before the deadline timer runs (timers due in a later
      // iteration of the event loop), so the reset alone decides the status.
      setTimeout(() => {
        Atomics.store(shared, 0, 1);
        Atomics.wait(shared, 1, 0, 10_000);
        while (Date.now() < deadlineAt + 20) { /* past the deadline */ }
      }, timeoutMs / 2);
      const err = await expectGrpcError(call, Status.DEADLINE_EXCEEDED);
      expect(err.details).toMatch(/server cancelled the stream at the deadline/);
    } finally {
      channel.close();
      worker.postMessage('close');
      await worker.terminate();
    }
  });
});

describe('-bin values are sent unpadded (both sides)', () => {
  it('the server sends grpc-status-details-bin and -bin trailers without padding', async () => {
    const rich = { code: Status.INVALID_ARGUMENT, message: 'x', details: [] }; // 4 bytes: base64 needs padding
    expect(encodeStatusDetails(rich).length % 3).not.toBe(0);
    const server = new Server();
    server.addService(probeService, {
      unary: () => { throw new GrpcError(Status.INVALID_ARGUMENT, 'x', new Metadata({ 'why-bin': Buffer.from([7]) }), encodeStatusDetails(rich)); },
    });
    const port = await server.listen('127.0.0.1:0');
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const r = await rawRequest(session, { ':path': methods.Unary.path }, Buffer.concat(encodeFrame(methods.Unary.serializeRequest({}))));
      const headers = r.trailers ?? r.headers;
      expect(headers['grpc-status-details-bin']).toBe(encodeStatusDetails(rich).toString('base64').replace(/=+$/, ''));
      expect(headers['why-bin']).toBe('Bw');
    } finally {
      session.close();
      server.forceShutdown();
    }
  });

  it('the client sends -bin metadata without padding, and the server reads it', async () => {
    let received: http2.IncomingHttpHeaders | undefined;
    const server = await rawServer((s, headers) => {
      received = headers;
      s.resume();
      s.on('end', () => okWith(response(0))(s));
    });
    const channel = new Channel(`127.0.0.1:${server.port}`);
    try {
      await createClient(probeService, channel).unary({}, { metadata: new Metadata({ 'one-bin': Buffer.from([1]), 'two-bin': Buffer.from([1, 2]), 'three-bin': Buffer.from([1, 2, 3]) }) });
      expect([received!['one-bin'], received!['two-bin'], received!['three-bin']]).toEqual(['AQ', 'AQI', 'AQID']);
    } finally {
      channel.close();
      server.close();
    }
    // Our own server accepts both forms.
    const seen = new Observations();
    const ours = new Server();
    ours.addService(probeService, probeImplementation(seen));
    const port = await ours.listen('127.0.0.1:0');
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      await rawRequest(session, { ':path': methods.Unary.path, 'a-bin': 'AQI', 'b-bin': 'AQI=' }, Buffer.concat(encodeFrame(methods.Unary.serializeRequest({} as Req))));
      expect(seen.contexts[0].metadata.get('a-bin')).toEqual(Buffer.from([1, 2]));
      expect(seen.contexts[0].metadata.get('b-bin')).toEqual(Buffer.from([1, 2]));
    } finally {
      session.close();
      ours.forceShutdown();
    }
  });
});
