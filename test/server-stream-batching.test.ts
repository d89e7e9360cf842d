// A sync-iterable handler's run of small messages goes out batched (FrameBatch): the client must still see
// every message, in order, and a status that comes after the messages written before it, whether the run
// ends, throws, or mixes in messages too large or compressed to batch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, GrpcError, Server, Status, type ServerCallContext } from '../src/index.js';
import { probeService, type Req, type Res } from './support/probe.js';

const method = probeService.methods.ServerStream;
const reply = (index: number, size = 8): Res => ({ payload: Buffer.alloc(size, index % 251), index, requestCompressed: false });

describe('server streaming from a sync iterable, batched', () => {
  let server: Server;
  let channel: Channel;
  beforeAll(async () => {
    server = new Server();
    server.addService(probeService, {
      unary: () => reply(0),
      // count messages; failCode: throw after them; responseSize: every 7th message that large; sleepMs > 0: compress
      *serverStream(req: Req, ctx: ServerCallContext) {
        if (req.sleepMs) ctx.setResponseCompression('gzip');
        for (let i = 0; i < (req.count ?? 0); i++) yield reply(i, req.responseSize && i % 7 === 0 ? req.responseSize : 8);
        if (req.failCode) throw new GrpcError(req.failCode, req.failMessage ?? 'failed');
      },
      clientStream: async () => reply(0),
      bidi: async function* () {},
    });
    const port = await server.listen('127.0.0.1:0');
    channel = new Channel(`127.0.0.1:${port}`);
  });
  afterAll(async () => {
    channel.close();
    await server.shutdown(100);
  });

  async function collect(req: Req): Promise<{ indexes: number[]; sizes: number[]; error?: GrpcError }> {
    const indexes: number[] = [];
    const sizes: number[] = [];
    try {
      for await (const r of channel.serverStream<Req, Res>(method, req)) {
        indexes.push(r.index);
        sizes.push(r.payload.length);
      }
      return { indexes, sizes };
    } catch (err) {
      return { indexes, sizes, error: err as GrpcError };
    }
  }

  const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('20,000 small messages (many 64 KiB batches, past the drain limit) arrive complete and in order', async () => {
    const r = await collect({ count: 20_000 });
    expect(r.error).toBeUndefined();
    expect(r.indexes).toEqual(upTo(20_000));
  });

  it('a handler that throws after 1,000 messages: all 1,000 arrive, then its status', async () => {
    const r = await collect({ count: 1000, failCode: Status.FAILED_PRECONDITION, failMessage: 'stop here' });
    expect(r.indexes).toEqual(upTo(1000));
    expect(r.error).toMatchObject({ code: Status.FAILED_PRECONDITION, details: 'stop here' });
  });

  it('large messages between small ones keep their place', async () => {
    const r = await collect({ count: 200, responseSize: 40_000 });
    expect(r.error).toBeUndefined();
    expect(r.indexes).toEqual(upTo(200));
    expect(r.sizes.filter((s) => s === 40_000)).toHaveLength(Math.ceil(200 / 7));
  });

  it('compressed responses (not batched) arrive complete and in order', async () => {
    const r = await collect({ count: 500, sleepMs: 1 });
    expect(r.error).toBeUndefined();
    expect(r.indexes).toEqual(upTo(500));
  });
});
