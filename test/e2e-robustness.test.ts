import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, GrpcError, Server, Status, createClient, encodeFrame, framePrefix, type BidiStream, type ResponseStream } from '../src/index.js';
import { Observations, collect, expectGrpcError, probeImplementation, probeService, startProbe, type ProbeSetup, type Req, type Res } from './support/probe.js';
import { rawRequest, rawServer, statusOf } from './support/raw-http2.js';

const reqType = probeService.methods.Unary;
const frame = (msg: object, compressed = false) => Buffer.concat(encodeFrame(reqType.serializeRequest(msg), compressed));

describe('server facing bad input (raw HTTP/2 client)', () => {
  let p: ProbeSetup;
  let session: http2.ClientHttp2Session;
  beforeAll(async () => {
    p = await startProbe({ maxReceiveMessageSize: 1024 });
    session = http2.connect(`http://127.0.0.1:${p.port}`);
  });
  afterAll(async () => {
    session.close();
    await p.close();
  });

  const good = () => rawRequest(session, { ':path': '/e2e.Probe/Unary' }, frame({ payload: Buffer.from('ok') }));

  async function expectGoodCallStillWorks() {
    const r = await good();
    expect(statusOf(r).code).toBe(Status.OK);
    expect(r.body.length).toBeGreaterThan(5);
  }

  it('answers a wrong content-type with HTTP 415 and says why', async () => {
    const r = await rawRequest(session, { ':path': '/e2e.Probe/Unary', 'content-type': 'application/json' }, Buffer.from('{}'));
    expect(r.headers[':status']).toBe(415);
    expect(r.headers['content-type']).toBe('application/grpc');
    expect(statusOf(r).message).toMatch(/unsupported content-type "application\/json"/);
    await expectGoodCallStillWorks();
  });

  it('answers a malformed grpc-timeout with INTERNAL and a clear message', async () => {
    const r = await rawRequest(session, { ':path': '/e2e.Probe/Unary', 'grpc-timeout': '12 seconds' }, frame({}));
    expect(r.headers[':status']).toBe(200);
    expect(r.headers['content-type']).toBe('application/grpc');
    expect(statusOf(r)).toEqual({ code: Status.INTERNAL, message: expect.stringMatching(/malformed grpc-timeout "12 seconds"/) });
    await expectGoodCallStillWorks();
  });

  it('enforces a received grpc-timeout on its own, without the client cancelling', async () => {
    const r = await rawRequest(session, { ':path': '/e2e.Probe/Unary', 'grpc-timeout': '50m' }, frame({ sleepMs: 5000 }));
    expect(statusOf(r).code).toBe(Status.DEADLINE_EXCEEDED);
  });

  it('answers an unknown grpc-encoding with UNIMPLEMENTED and lists what it accepts', async () => {
    const r = await rawRequest(session, { ':path': '/e2e.Probe/Unary', 'grpc-encoding': 'snappy' }, frame({}, true));
    expect(statusOf(r)).toEqual({ code: Status.UNIMPLEMENTED, message: expect.stringMatching(/"snappy" is not supported/) });
    expect(r.headers['grpc-accept-encoding']).toBe('identity,deflate,gzip');
    await expectGoodCallStillWorks();
  });

  it('lists its encodings only when it refuses one: a plain response carries no grpc-accept-encoding (as grpc-go)', async () => {
    const r = await rawRequest(session, { ':path': '/e2e.Probe/Unary' }, frame({}));
    expect(statusOf(r).code).toBe(Status.OK);
    expect(r.headers['content-type']).toBe('application/grpc');
    expect(r.headers['grpc-accept-encoding']).toBeUndefined();
  });

  it('answers a compressed flag without grpc-encoding with INTERNAL', async () => {
    const r = await rawRequest(session, { ':path': '/e2e.Probe/Unary' }, frame({}, true));
    expect(statusOf(r)).toEqual({ code: Status.INTERNAL, message: expect.stringMatching(/compressed message, but no grpc-encoding/) });
  });

  it('answers an oversized frame with RESOURCE_EXHAUSTED from its header alone', async () => {
    const r = await rawRequest(session, { ':path': '/e2e.Probe/Unary' }, framePrefix(100 << 20));
    expect(statusOf(r)).toEqual({ code: Status.RESOURCE_EXHAUSTED, message: 'received message larger than max (104857600 vs. 1024)' });
    await expectGoodCallStillWorks();
  });

  it('answers a truncated frame with INTERNAL', async () => {
    const r = await rawRequest(session, { ':path': '/e2e.Probe/Unary' }, frame({ payload: Buffer.alloc(100) }).subarray(0, 40));
    expect(statusOf(r)).toEqual({ code: Status.INTERNAL, message: expect.stringMatching(/stream ended inside a message/) });
    await expectGoodCallStillWorks();
  });

  it('answers a half-close without a request message with UNIMPLEMENTED (a cardinality violation)', async () => {
    const r = await rawRequest(session, { ':path': '/e2e.Probe/Unary' });
    expect(statusOf(r)).toEqual({ code: Status.UNIMPLEMENTED, message: expect.stringMatching(/without sending a request message/) });
  });

  it('answers unparseable protobuf with INTERNAL', async () => {
    const r = await rawRequest(session, { ':path': '/e2e.Probe/Unary' }, Buffer.concat(encodeFrame(Buffer.from([0x0a, 0xff, 0xff]))));
    expect(statusOf(r)).toEqual({ code: Status.INTERNAL, message: expect.stringMatching(/could not parse message/) });
  });

  it('survives a client that resets its stream mid-request', async () => {
    const stream = session.request({ ':method': 'POST', ':path': '/e2e.Probe/ClientStream', 'content-type': 'application/grpc' });
    stream.on('error', () => {});
    stream.write(frame({ payload: Buffer.alloc(10) }));
    await new Promise((r) => setTimeout(r, 20));
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await new Promise((r) => stream.on('close', r));
    await expectGoodCallStillWorks();
  });

  it('compresses responses only in an encoding the client accepts', async () => {
    const gz = await startProbe({ compression: 'gzip' });
    const s2 = http2.connect(`http://127.0.0.1:${gz.port}`);
    const body = frame({ responseSize: 2000 });
    const plain = await rawRequest(s2, { ':path': '/e2e.Probe/Unary', 'grpc-accept-encoding': 'identity' }, body);
    expect(plain.headers['grpc-encoding']).toBeUndefined();
    expect(plain.body[0]).toBe(0);
    const packed = await rawRequest(s2, { ':path': '/e2e.Probe/Unary', 'grpc-accept-encoding': 'identity,gzip' }, body);
    expect(packed.headers['grpc-encoding']).toBe('gzip');
    expect(packed.body[0]).toBe(1);
    expect(packed.body.length).toBeLessThan(plain.body.length);
    s2.close();
    await gz.close();
  });

  it('closes the stream after its status even if the client never half-closes (RST_STREAM NO_ERROR)', async () => {
    // ClientStream with a failing message: the status goes out while the client keeps its side open.
    const r = await rawRequest(session, { ':path': '/e2e.Probe/ClientStream' }, frame({ failCode: Status.ABORTED, failMessage: 'early' }), false);
    expect(statusOf(r)).toEqual({ code: Status.ABORTED, message: 'early' });
    expect(r.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
  });

  it('uses Trailers-Only with content-type for errors before any message', async () => {
    const r = await rawRequest(session, { ':path': '/nope.Svc/Call' }, frame({}));
    expect(r.trailers).toBeUndefined();
    expect(r.headers['content-type']).toBe('application/grpc');
    expect(statusOf(r)).toEqual({ code: Status.UNIMPLEMENTED, message: 'unknown method /nope.Svc/Call' });
  });
});

describe('client facing a misbehaving server (raw HTTP/2 server)', () => {
  async function errorFrom(behave: (stream: http2.ServerHttp2Stream) => void) {
    const server = await rawServer((stream) => {
      stream.on('data', () => {});
      behave(stream);
    });
    const channel = new Channel(`127.0.0.1:${server.port}`);
    try {
      await createClient(probeService, channel).unary({});
      throw new Error('expected the call to fail');
    } catch (err) {
      return err as { code: number; details: string };
    } finally {
      channel.close();
      server.close();
    }
  }

  it('maps an HTTP error without grpc-status from the HTTP status', async () => {
    const err = await errorFrom((s) => s.respond({ ':status': 503, 'content-type': 'text/plain' }, { endStream: true }));
    expect(err.code).toBe(Status.UNAVAILABLE);
    expect(err.details).toMatch(/received HTTP status 503/);
    const err404 = await errorFrom((s) => s.respond({ ':status': 404 }, { endStream: true }));
    expect(err404.code).toBe(Status.UNIMPLEMENTED);
  });

  it('rejects a 200 response with a non-gRPC content-type', async () => {
    const err = await errorFrom((s) => { s.respond({ ':status': 200, 'content-type': 'text/html' }); s.end('<html>'); });
    expect(err.code).toBe(Status.UNKNOWN);
    expect(err.details).toMatch(/content-type "text\/html" instead of application\/grpc/);
  });

  it('reports a stream that ends without grpc-status as INTERNAL', async () => {
    const err = await errorFrom((s) => { s.respond({ ':status': 200, 'content-type': 'application/grpc' }); s.end(); });
    expect(err.code).toBe(Status.INTERNAL);
    expect(err.details).toMatch(/without a grpc-status/);
  });

  it('reports a truncated response frame as INTERNAL', async () => {
    const err = await errorFrom((s) => {
      s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
      s.end(Buffer.concat(encodeFrame(Buffer.alloc(50))).subarray(0, 20));
    });
    expect(err.code).toBe(Status.INTERNAL);
    expect(err.details).toMatch(/stream ended inside a message/);
  });

  it('rejects a response in an unknown grpc-encoding', async () => {
    const err = await errorFrom((s) => {
      s.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-encoding': 'lz4' });
      s.end(Buffer.concat(encodeFrame(Buffer.alloc(5), true)));
    });
    expect(err.code).toBe(Status.INTERNAL);
    expect(err.details).toMatch(/unsupported grpc-encoding.*"lz4"/);
  });

  it('maps RST_STREAM codes: REFUSED_STREAM is UNAVAILABLE, CANCEL is CANCELLED', async () => {
    expect((await errorFrom((s) => s.close(http2.constants.NGHTTP2_REFUSED_STREAM))).code).toBe(Status.UNAVAILABLE);
    expect((await errorFrom((s) => s.close(http2.constants.NGHTTP2_CANCEL))).code).toBe(Status.CANCELLED);
    expect((await errorFrom((s) => s.close(http2.constants.NGHTTP2_PROTOCOL_ERROR))).code).toBe(Status.INTERNAL);
  });

  it('closes its side of a bidi stream once the status arrives, even without end()', async () => {
    let serverStreamClosed!: () => void;
    const closed = new Promise<void>((r) => (serverStreamClosed = r));
    const server = await rawServer((s) => {
      s.on('data', () => {});
      s.on('close', () => serverStreamClosed());
      s.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(Status.FAILED_PRECONDITION) }, { endStream: true });
    });
    const channel = new Channel(`127.0.0.1:${server.port}`);
    const call: BidiStream<Req, Res> = createClient(probeService, channel).bidi();
    void call.write({});
    await expectGrpcError(call.status, Status.FAILED_PRECONDITION);
    await closed; // without the client closing its side, the server's stream would stay open
    channel.close();
    server.close();
  });

  it('treats RST_STREAM(NO_ERROR) after trailers as a normal end', async () => {
    const server = await rawServer((s) => {
      s.on('data', () => {});
      s.on('end', () => {
        s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        s.on('wantTrailers', () => {
          s.sendTrailers({ 'grpc-status': '0' });
          setImmediate(() => s.close(http2.constants.NGHTTP2_NO_ERROR)); // as grpc-go does, once trailers are out
        });
        s.end(Buffer.concat(encodeFrame(probeService.methods.Unary.serializeResponse({ index: 7 }))));
      });
    });
    const channel = new Channel(`127.0.0.1:${server.port}`);
    const res: Res = await createClient(probeService, channel).unary({});
    expect(res.index).toBe(7);
    channel.close();
    server.close();
  });
});

describe('connections', () => {
  it('a server that vanishes mid-stream gives UNAVAILABLE, and the channel reconnects afterwards', async () => {
    const seen = new Observations();
    let server = new Server();
    server.addService(probeService, probeImplementation(seen));
    const port = await server.listen('127.0.0.1:0');
    const channel = new Channel(`127.0.0.1:${port}`, { initialBackoffMs: 50, maxBackoffMs: 100 });
    const client = createClient(probeService, channel);
    const stream: ResponseStream<Res> = client.serverStream({ count: 1000, sleepMs: 10 });
    const err = await expectGrpcError(async () => {
      for await (const r of stream) if (r.index === 2) server.forceShutdown();
    }, Status.UNAVAILABLE);
    expect(err.details).toMatch(/connection to 127\.0\.0\.1:\d+ was lost/);
    // Nothing listens now: calls fail fast with UNAVAILABLE and say why.
    const down = await expectGrpcError(client.unary({}), Status.UNAVAILABLE);
    expect(down.details).toMatch(/ECONNREFUSED|cannot connect/);
    server = new Server();
    server.addService(probeService, probeImplementation(seen));
    await server.listen(`127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 150));
    const res: Res = await client.unary({ payload: Buffer.from('back') });
    expect(Buffer.from(res.payload).toString()).toBe('back');
    channel.close();
    server.forceShutdown();
  });

  it('a server that accepts TCP but never speaks HTTP/2 fails calls after the connect timeout', async () => {
    const net = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const channel = new Channel(`127.0.0.1:${port}`, { connectTimeoutMs: 200 });
    const err = await expectGrpcError(createClient(probeService, channel).unary({}), Status.UNAVAILABLE);
    expect(err.details).toMatch(/no HTTP\/2 SETTINGS from the server within 200 ms/);
    channel.close();
    for (const s of sockets) s.destroy();
    silent.close();
  });

  it('a client that vanishes mid-stream aborts the server handler', async () => {
    const p = await startProbe();
    const aborted = p.seen.nextAbort();
    const stream: ResponseStream<Res> = p.client.serverStream({ count: 1000, sleepMs: 10 });
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    // Drop the TCP connection under the call, as a crashed client would.
    (p.channel as unknown as { connection: { readySession(): http2.ClientHttp2Session } }).connection.readySession().destroy();
    p.channel.close();
    expect(((await aborted) as { code: number }).code).toBe(Status.CANCELLED);
    p.server.forceShutdown();
  });

  it('queues calls beyond MAX_CONCURRENT_STREAMS instead of failing them', async () => {
    const p = await startProbe({ maxConcurrentStreams: 2 });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => p.client.unary({ sleepMs: 20, payload: Buffer.from([i]) }) as Promise<Res>));
    expect(results.map((r) => r.payload[0])).toEqual([...Array(20).keys()]);
    await p.close();
  });

  it('graceful shutdown lets in-flight calls finish and refuses new connections', async () => {
    const p = await startProbe();
    const inflight = p.client.unary({ sleepMs: 300, payload: Buffer.from('done') }) as Promise<Res>;
    await new Promise((r) => setTimeout(r, 50));
    const stopped = p.server.shutdown(5000);
    const res = await inflight;
    expect(Buffer.from(res.payload).toString()).toBe('done');
    await stopped;
    const fresh = new Channel(`127.0.0.1:${p.port}`);
    await expectGrpcError(createClient(probeService, fresh).unary({}), Status.UNAVAILABLE);
    fresh.close();
    p.channel.close();
  });

  it('graceful shutdown cancels calls still running after the grace period', async () => {
    const p = await startProbe();
    const aborted = p.seen.nextAbort();
    const inflight = expectGrpcError(p.client.unary({ sleepMs: 10_000 }), Status.UNAVAILABLE);
    await new Promise((r) => setTimeout(r, 50));
    await p.server.shutdown(100);
    expect(((await aborted) as { code: number }).code).toBe(Status.CANCELLED);
    await inflight;
    p.channel.close();
  });

  it('forceShutdown drops the connections: calls before or after response headers end UNAVAILABLE, not INTERNAL', async () => {
    const p = await startProbe();
    const waiting = expectGrpcError(p.client.unary({ sleepMs: 10_000 }), Status.UNAVAILABLE);
    const stream: ResponseStream<Res> = p.client.serverStream({ count: 1000, sleepMs: 50 });
    const responses = stream[Symbol.asyncIterator]();
    await responses.next();
    p.server.forceShutdown();
    const streamError = await (async () => {
      for (;;) await responses.next();
    })().catch((e: GrpcError) => e);
    expect(streamError.code).toBe(Status.UNAVAILABLE);
    expect((await waiting).details).toMatch(/connection .* was lost/);
    p.channel.close();
  });

  it('serves on a unix socket', async () => {
    const path = `/tmp/tsgrpc-test-${process.pid}.sock`;
    const server = new Server();
    server.addService(probeService, probeImplementation(new Observations()));
    await server.listen(`unix:${path}`);
    const channel = new Channel(`unix:${path}`);
    const out = await collect<Res>(createClient(probeService, channel).serverStream({ count: 3 }));
    expect(out).toHaveLength(3);
    channel.close();
    server.forceShutdown();
  });
});
