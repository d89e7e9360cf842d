import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Status, type BidiStream, type ResponseStream } from '../src/index.js';
import { collect, expectGrpcError, startProbe, type ProbeSetup, type Req, type Res } from './support/probe.js';

let p: ProbeSetup;
beforeAll(async () => {
  p = await startProbe();
});
afterAll(() => p.close());

describe('deadlines', () => {
  it('unary: client gets DEADLINE_EXCEEDED and the server signal fires', async () => {
    const aborted = p.seen.nextAbort();
    const started = Date.now();
    await expectGrpcError(p.client.unary({ sleepMs: 5000 }, { timeout: 100 }), Status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(2000);
    const reason = (await aborted) as { code: number };
    expect([Status.DEADLINE_EXCEEDED, Status.CANCELLED]).toContain(reason.code);
    expect(p.seen.contexts.at(-1)!.deadline).toBeInstanceOf(Date);
  });

  it('accepts an absolute Date deadline and sends it as grpc-timeout', async () => {
    await p.client.unary({}, { deadline: new Date(Date.now() + 5000) });
    const deadline = p.seen.contexts.at(-1)!.deadline!.getTime();
    expect(deadline - Date.now()).toBeGreaterThan(3000);
    expect(deadline - Date.now()).toBeLessThanOrEqual(5100);
  });

  it('fails at once when the deadline has already passed', async () => {
    const err = await expectGrpcError(p.client.unary({}, { deadline: new Date(Date.now() - 1) }), Status.DEADLINE_EXCEEDED);
    expect(err.details).toMatch(/before the call started/);
  });

  it('applies to every streaming mode', async () => {
    await expectGrpcError(collect(p.client.serverStream({ count: 10, sleepMs: 1000 }, { timeout: 100 })), Status.DEADLINE_EXCEEDED);
    await expectGrpcError(p.client.clientStream([{ sleepMs: 2000 }], { timeout: 100 }), Status.DEADLINE_EXCEEDED);
    const call: BidiStream<Req, Res> = p.client.bidi({ timeout: 100 });
    void call.write({ sleepMs: 2000 });
    await expectGrpcError(collect(call), Status.DEADLINE_EXCEEDED);
  });
});

describe('cancellation', () => {
  it('an AbortSignal cancels a server stream; both sides see it', async () => {
    const controller = new AbortController();
    const aborted = p.seen.nextAbort();
    const stream: ResponseStream<Res> = p.client.serverStream({ count: 1000, sleepMs: 10 }, { signal: controller.signal });
    const got: Res[] = [];
    const err = await expectGrpcError(async () => {
      for await (const r of stream) {
        got.push(r);
        if (got.length === 3) controller.abort();
      }
    }, Status.CANCELLED);
    expect(err.details).toBe('call cancelled by the client');
    expect(got).toHaveLength(3);
    expect(((await aborted) as { code: number }).code).toBe(Status.CANCELLED);
  });

  it('breaking out of the iteration cancels the call on the server', async () => {
    const aborted = p.seen.nextAbort();
    for await (const r of p.client.serverStream({ count: 1000, sleepMs: 5 }) as ResponseStream<Res>) {
      if (r.index === 2) break;
    }
    expect(((await aborted) as { code: number }).code).toBe(Status.CANCELLED);
  });

  it('bidi cancel() ends the client side with CANCELLED and aborts the handler', async () => {
    const aborted = p.seen.nextAbort();
    const call: BidiStream<Req, Res> = p.client.bidi();
    await call.write({ payload: Buffer.from('a') });
    const first = await call[Symbol.asyncIterator]().next();
    expect(first.done).toBe(false);
    call.cancel();
    await expectGrpcError(call.status, Status.CANCELLED);
    expect(((await aborted) as { code: number }).code).toBe(Status.CANCELLED);
  });

  it('a signal aborted before the call never sends it', async () => {
    const before = p.seen.contexts.length;
    await expectGrpcError(p.client.unary({}, { signal: AbortSignal.abort() }), Status.CANCELLED);
    expect(p.seen.contexts.length).toBe(before);
  });

  it('a failing request source cancels a client stream with its reason', async () => {
    async function* broken() {
      yield { payload: Buffer.from('x') };
      throw new Error('source broke');
    }
    const err = await expectGrpcError(p.client.clientStream(broken()), Status.CANCELLED);
    expect(err.details).toBe('the request stream failed: source broke');
  });
});

describe('compression', () => {
  const big = Buffer.from('compressible '.repeat(20_000));

  it.each(['gzip', 'deflate'] as const)('client sends %s-compressed requests in every mode', async (encoding) => {
    const res: Res = await p.client.unary({ payload: big }, { compression: encoding });
    expect(Buffer.from(res.payload).equals(big)).toBe(true);
    expect(res.requestCompressed).toBe(true);
    const streamed: Res = await p.client.clientStream([{ payload: big }, { payload: big }], { compression: encoding });
    expect(Buffer.from(streamed.payload).toString()).toBe(String(2 * big.length));
    expect(streamed.requestCompressed).toBe(true);
  });

  it.each(['gzip', 'deflate'] as const)('server sends %s-compressed responses', async (encoding) => {
    const { Server, Channel, createClient } = await import('../src/index.js');
    const { probeService, probeImplementation, Observations } = await import('./support/probe.js');
    const server = new Server({ compression: encoding });
    server.addService(probeService, probeImplementation(new Observations()));
    const port = await server.listen('127.0.0.1:0');
    const channel = new Channel(`127.0.0.1:${port}`);
    const client = createClient(probeService, channel);
    const stream: ResponseStream<Res> = client.serverStream({ count: 3, responseSize: 100_000 });
    const out = await collect(stream);
    expect(out.map((r) => r.payload.length)).toEqual([100_000, 100_000, 100_000]);
    expect(stream.lastMessageCompressed).toBe(true);
    const call: BidiStream<Req, Res> = client.bidi({ compression: encoding });
    await call.write({ payload: big });
    await call.write({ payload: big }, { compress: false });
    call.end();
    const echoed = await collect(call);
    expect(echoed.map((r) => r.requestCompressed)).toEqual([true, false]);
    expect(echoed.every((r) => Buffer.from(r.payload).equals(big))).toBe(true);
    channel.close();
    server.forceShutdown();
  });

  it('a decompression bomb is refused with RESOURCE_EXHAUSTED', async () => {
    const { Server, Channel, createClient } = await import('../src/index.js');
    const { probeService, probeImplementation, Observations } = await import('./support/probe.js');
    const server = new Server({ maxReceiveMessageSize: 64 * 1024 });
    server.addService(probeService, probeImplementation(new Observations()));
    const port = await server.listen('127.0.0.1:0');
    const channel = new Channel(`127.0.0.1:${port}`);
    const err = await expectGrpcError(createClient(probeService, channel).unary({ payload: Buffer.alloc(1 << 20) }, { compression: 'gzip' }), Status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/decompressed message larger than max/);
    channel.close();
    server.forceShutdown();
  });
});

describe('message size limits', () => {
  it('server receive limit gives RESOURCE_EXHAUSTED; the channel keeps working', async () => {
    const small = await startProbe({ maxReceiveMessageSize: 1000 });
    const err = await expectGrpcError(small.client.unary({ payload: Buffer.alloc(5000) }), Status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/received message larger than max \(\d+ vs\. 1000\)/);
    const ok: Res = await small.client.unary({ payload: Buffer.alloc(10) });
    expect(ok.payload.length).toBe(10);
    await small.close();
  });

  it('client receive limit gives RESOURCE_EXHAUSTED', async () => {
    const small = await startProbe({}, { maxReceiveMessageSize: 1000 });
    const err = await expectGrpcError(small.client.unary({ responseSize: 5000 }), Status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/received message larger than max \(\d+ vs\. 1000\)/);
    await small.close();
  });

  it('send limits on both sides give RESOURCE_EXHAUSTED', async () => {
    const small = await startProbe({ maxSendMessageSize: 1000 }, { maxSendMessageSize: 1000 });
    const e1 = await expectGrpcError(small.client.unary({ payload: Buffer.alloc(5000) }), Status.RESOURCE_EXHAUSTED);
    expect(e1.details).toMatch(/sent message larger than max \(\d+ vs\. 1000\)/);
    const e2 = await expectGrpcError(small.client.unary({ responseSize: 5000 }), Status.RESOURCE_EXHAUSTED);
    expect(e2.details).toMatch(/sent message larger than max \(5\d+ vs\. 1000\)/);
    await small.close();
  });
});
