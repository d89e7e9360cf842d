import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata, Status, type BidiStream, type ResponseStream } from '../src/index.js';
import { collect, expectGrpcError, startProbe, type ProbeSetup, type Req, type Res } from './support/probe.js';

let p: ProbeSetup;
beforeAll(async () => {
  p = await startProbe({ maxReceiveMessageSize: 16 << 20 }, { maxReceiveMessageSize: 16 << 20 });
});
afterAll(() => p.close());

describe('all four call modes', () => {
  it('unary returns the response', async () => {
    const res: Res = await p.client.unary({ payload: Buffer.from('ping') });
    expect(Buffer.from(res.payload).toString()).toBe('ping');
  });

  it('server streaming yields every message in order', async () => {
    const out = await collect<Res>(p.client.serverStream({ count: 50, responseSize: 10 }));
    expect(out.map((r) => r.index)).toEqual([...Array(50).keys()]);
  });

  it('client streaming consumes an async iterable', async () => {
    async function* reqs() {
      for (let i = 0; i < 20; i++) yield { payload: Buffer.alloc(i) };
    }
    const res: Res = await p.client.clientStream(reqs());
    expect(Buffer.from(res.payload).toString()).toBe(String((19 * 20) / 2));
  });

  it('bidi interleaves writes and reads', async () => {
    const call: BidiStream<Req, Res> = p.client.bidi();
    const it = call[Symbol.asyncIterator]();
    for (let i = 0; i < 5; i++) {
      await call.write({ payload: Buffer.from(`m${i}`) });
      const { value } = await it.next();
      expect(Buffer.from(value!.payload).toString()).toBe(`m${i}`);
    }
    call.end();
    expect((await it.next()).done).toBe(true);
  });

  it.each([0, 1 << 20, 8 << 20])('carries %d-byte messages both ways in all modes', async (size) => {
    const payload = Buffer.alloc(size, 0xab);
    const unary: Res = await p.client.unary({ payload });
    expect(Buffer.from(unary.payload).equals(payload)).toBe(true);
    const streamed = await collect<Res>(p.client.serverStream({ count: 2, responseSize: size }));
    expect(streamed.map((r) => r.payload.length)).toEqual(size === 0 ? [0, 0] : [size, size]);
    const counted: Res = await p.client.clientStream([{ payload }, { payload }]);
    expect(Buffer.from(counted.payload).toString()).toBe(String(2 * size));
    const call: BidiStream<Req, Res> = p.client.bidi();
    void call.write({ payload });
    call.end();
    const echoed = await collect(call);
    expect(echoed).toHaveLength(1);
    expect(Buffer.from(echoed[0].payload).equals(payload)).toBe(true);
  });

  it('streams from sync iterables too (function* and arrays), with backpressure', async () => {
    const { Server, Channel, createClient } = await import('../src/index.js');
    const { probeService } = await import('./support/probe.js');
    const server = new Server();
    server.addService(probeService, {
      *serverStream(req: Req) {
        for (let i = 0; i < (req.count ?? 0); i++) yield { index: i, payload: Buffer.alloc(32 * 1024) };
      },
      bidi: () => [{ index: 1 }, { index: 2 }],
    });
    const port = await server.listen('127.0.0.1:0');
    const channel = new Channel(`127.0.0.1:${port}`);
    const client = createClient(probeService, channel);
    const many = await collect<Res>(client.serverStream({ count: 500 }));
    expect(many.map((r) => r.index)).toEqual([...Array(500).keys()]);
    const call: BidiStream<Req, Res> = client.bidi();
    call.end();
    expect((await collect(call)).map((r) => r.index)).toEqual([1, 2]);
    channel.close();
    server.forceShutdown();
  });

  it('applies backpressure: a slow reader of a large stream does not make the server buffer everything', async () => {
    const stream: ResponseStream<Res> = p.client.serverStream({ count: 400, responseSize: 64 * 1024 });
    let n = 0;
    for await (const r of stream) {
      expect(r.index).toBe(n++);
      if (n % 100 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(n).toBe(400);
  });

  it('serves several services on one server, each reachable through the same channel', async () => {
    const { Server, Channel, createClient, loadProtoSync } = await import('../src/index.js');
    const { probeService, probeImplementation, Observations } = await import('./support/probe.js');
    const greeter = loadProtoSync(new URL('../examples/greeter.proto', import.meta.url).pathname).services['demo.Greeter'];
    const server = new Server();
    server.addService(probeService, probeImplementation(new Observations()));
    server.addService(greeter, { sayHello: (req: { name: string }) => ({ message: `hi ${req.name}` }) });
    expect(() => server.addService(greeter, {})).toThrow('service demo.Greeter is already registered');
    const port = await server.listen('127.0.0.1:0');
    const channel = new Channel(`127.0.0.1:${port}`);
    const [hello, probe] = await Promise.all([
      createClient(greeter, channel).sayHello({ name: 'x' }),
      createClient(probeService, channel).unary({ payload: Buffer.from('y') }),
    ]);
    expect(hello.message).toBe('hi x');
    expect(Buffer.from(probe.payload).toString()).toBe('y');
    channel.close();
    server.forceShutdown();
  });

  it('runs many concurrent calls on one channel', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => p.client.unary({ payload: Buffer.from(String(i)) }) as Promise<Res>),
    );
    expect(results.map((r) => Buffer.from(r.payload).toString())).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  });
});

describe('metadata', () => {
  it('travels both ways, with -bin values and repeated keys', async () => {
    const md = new Metadata()
      .add('echo-ascii', 'hello').add('echo-ascii', 'again')
      .set('echo-data-bin', Buffer.from([0, 1, 2, 255]))
      .set('echo-trailer-tag', 'end')
      .set('echo-trailer-blob-bin', Buffer.from([9, 8, 7]));
    let headers: Metadata | undefined;
    let trailers: Metadata | undefined;
    await p.client.unary({}, { metadata: md, onHeader: (h: Metadata) => (headers = h), onTrailer: (t: Metadata) => (trailers = t) });
    const seen = p.seen.contexts.at(-1)!.metadata;
    expect(seen.getAll('echo-ascii')).toEqual(['hello', 'again']);
    expect(seen.get('echo-data-bin')).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(seen.get('user-agent')).toMatch(/^tsgrpc\//);
    expect(p.seen.contexts.at(-1)!.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(p.seen.contexts.at(-1)!.method).toBe('/e2e.Probe/Unary');
    expect(seen.has('grpc-timeout') || seen.has('content-type') || seen.has('te')).toBe(false);
    expect(headers!.getAll('echo-ascii')).toEqual(['hello', 'again']);
    expect(headers!.get('echo-data-bin')).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(trailers!.get('echo-trailer-tag')).toBe('end');
    expect(trailers!.get('echo-trailer-blob-bin')).toEqual(Buffer.from([9, 8, 7]));
    expect(trailers!.has('grpc-status')).toBe(false);
  });

  it('exposes headers and trailers of streaming calls as promises', async () => {
    const md = new Metadata({ 'echo-x': 'y', 'echo-trailer-z': 'w' });
    const stream: ResponseStream<Res> = p.client.serverStream({ count: 2 }, { metadata: md });
    expect((await stream.headers).get('echo-x')).toBe('y');
    await collect(stream);
    expect((await stream.trailers).get('echo-trailer-z')).toBe('w');
    await expect(stream.status).resolves.toBeUndefined();
  });
});

describe('status', () => {
  it.each([
    [Status.INVALID_ARGUMENT, 'plain message'],
    [Status.NOT_FOUND, 'ünïcødé ✓ 日本語 🚀'],
    [Status.FAILED_PRECONDITION, '\t\ntrailing %20 percent % and newline\r\n'],
    [Status.PERMISSION_DENIED, ''],
  ])('delivers code %d with message %j intact, in every mode', async (code, message) => {
    const req = { failCode: code, failMessage: message };
    const e1 = await expectGrpcError(p.client.unary(req), code);
    expect(e1.details).toBe(message);
    const e2 = await expectGrpcError(collect(p.client.serverStream({ ...req, count: 2 })), code);
    expect(e2.details).toBe(message);
    const e3 = await expectGrpcError(p.client.clientStream([req]), code);
    expect(e3.details).toBe(message);
    const call: BidiStream<Req, Res> = p.client.bidi();
    void call.write(req);
    call.end();
    expect((await expectGrpcError(collect(call), code)).details).toBe(message);
  });

  it('carries grpc-status-details-bin as a decoded google.rpc.Status, with trailing metadata', async () => {
    const { Server, Channel, createClient, GrpcError, encodeStatusDetails } = await import('../src/index.js');
    const { probeService } = await import('./support/probe.js');
    const rich = { code: Status.INVALID_ARGUMENT, message: 'bad field', details: [{ typeUrl: 'type.googleapis.com/google.rpc.BadRequest', value: Buffer.from([10, 3, 1, 2, 3]) }] };
    const server = new Server();
    server.addService(probeService, {
      unary: () => { throw new GrpcError(Status.INVALID_ARGUMENT, 'bad field', new Metadata({ 'why-bin': Buffer.from([7]) }), encodeStatusDetails(rich)); },
    });
    const port = await server.listen('127.0.0.1:0');
    const channel = new Channel(`127.0.0.1:${port}`);
    const err = await expectGrpcError(createClient(probeService, channel).unary({}), Status.INVALID_ARGUMENT);
    expect(err.richStatus).toEqual(rich);
    expect(err.metadata.get('why-bin')).toEqual(Buffer.from([7]));
    expect(err.metadata.has('grpc-status-details-bin')).toBe(false);
    channel.close();
    server.forceShutdown();
  });

  it('keeps messages received before an error status', async () => {
    const got: Res[] = [];
    const err = await expectGrpcError(async () => {
      for await (const r of p.client.serverStream({ count: 3, failCode: Status.ABORTED, failMessage: 'late' })) got.push(r);
    }, Status.ABORTED);
    expect(got).toHaveLength(3);
    expect(err.details).toBe('late');
  });

  it('turns a non-GrpcError throw into UNKNOWN without leaking its message', async () => {
    const { Server, Channel, createClient } = await import('../src/index.js');
    const { probeService } = await import('./support/probe.js');
    const leaks: unknown[] = [];
    const server = new Server({ onHandlerError: (e) => leaks.push(e) });
    server.addService(probeService, { unary: () => { throw new Error('secret database password'); } });
    const port = await server.listen('127.0.0.1:0');
    const channel = new Channel(`127.0.0.1:${port}`);
    const err = await expectGrpcError(createClient(probeService, channel).unary({}), Status.UNKNOWN);
    expect(err.details).not.toContain('secret');
    expect(err.details).toBe('/e2e.Probe/Unary failed with an unexpected error');
    expect((leaks[0] as Error).message).toBe('secret database password');
    channel.close();
    server.forceShutdown();
  });

  it('answers unknown services and methods with UNIMPLEMENTED, and unregistered handlers too', async () => {
    const { Channel, Server, createClient } = await import('../src/index.js');
    const { probeService } = await import('./support/probe.js');
    const channel = new Channel(`127.0.0.1:${p.port}`);
    const fake = {
      name: 'Nope', path: '/e2e.Nope/Unary', requestStream: false, responseStream: false,
      serializeRequest: (b: Buffer) => b, deserializeRequest: (b: Uint8Array) => b,
      serializeResponse: (b: Buffer) => b, deserializeResponse: (b: Uint8Array) => b,
    };
    const e1 = await expectGrpcError(channel.unary(fake, Buffer.alloc(0)), Status.UNIMPLEMENTED);
    expect(e1.details).toBe('unknown method /e2e.Nope/Unary');
    await expectGrpcError(channel.unary({ ...fake, path: '/e2e.Probe/Missing' }, Buffer.alloc(0)), Status.UNIMPLEMENTED);
    channel.close();
    const partial = new Server();
    partial.addService(probeService, { unary: () => ({}) });
    const port = await partial.listen('127.0.0.1:0');
    const partialChannel = new Channel(`127.0.0.1:${port}`);
    const err = await expectGrpcError(collect(createClient(probeService, partialChannel).serverStream({})), Status.UNIMPLEMENTED);
    expect(err.details).toBe('unknown method /e2e.Probe/ServerStream');
    partialChannel.close();
    partial.forceShutdown();
  });
});
