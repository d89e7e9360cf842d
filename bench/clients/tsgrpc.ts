// bench.Echo client on tsgrpc, using its documented call styles.
import { Channel, createClient, interceptCall, type ClientInterceptor } from '../../src/index.js';
import type { EchoClient } from '../echo.js';
import { TSGRPC_MAX_MESSAGE, tsgrpcEcho } from '../servers/tsgrpc-def.js';
import { tsgrpcOrders } from '../servers/orders-tsgrpc.js';

interface BidiCall extends AsyncIterable<Buffer> {
  write(m: Buffer): Promise<void>;
  end(): void;
}
interface TsgrpcEchoStub {
  unary(req: Buffer): Promise<Buffer>;
  serverStream(req: Buffer): AsyncIterable<Buffer>;
  clientStream(reqs: AsyncIterable<Buffer>): Promise<Buffer>;
  bidi(): BidiCall;
}

async function* repeat(msg: Buffer, count: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < count; i++) yield msg;
}

/** A pass-through interceptor with every hook set: the cost of the interceptor layer itself. */
const passThrough: ClientInterceptor = (_call, next) => interceptCall(next(), {
  start: (md, proceed) => proceed(md),
  sendMessage: (m, proceed) => proceed(m),
  onReceiveMessage: (m, proceed) => proceed(m),
  onReceiveStatus: (s, proceed) => proceed(s),
});

export async function connectTsgrpc(port: number, intercepted = false): Promise<EchoClient> {
  const channel = new Channel(`127.0.0.1:${port}`, {
    maxReceiveMessageSize: TSGRPC_MAX_MESSAGE,
    maxSendMessageSize: TSGRPC_MAX_MESSAGE,
    ...(intercepted ? { interceptors: [passThrough] } : {}),
  });
  const stub = createClient(tsgrpcEcho, channel) as unknown as TsgrpcEchoStub;
  const orders = createClient(await tsgrpcOrders(), channel) as unknown as { echo(o: object): Promise<object> };
  return {
    unary: (payload) => stub.unary(payload),
    order: (msg) => orders.echo(msg),
    async serverStream(payload) {
      let n = 0;
      for await (const _ of stub.serverStream(payload)) n++;
      return n;
    },
    async clientStream(msg, count) {
      return (await stub.clientStream(repeat(msg, count))).readUInt32BE(0);
    },
    async pingPong(msg, next) {
      const call = stub.bidi();
      // Drive the iterator by hand: breaking out of for-await would cancel the call.
      const it = call[Symbol.asyncIterator]();
      let rounds = 0;
      let t0 = performance.now();
      await call.write(msg);
      for (;;) {
        if ((await it.next()).done) throw new Error('bidi stream ended early');
        rounds++;
        if (!next(performance.now() - t0)) break;
        t0 = performance.now();
        await call.write(msg);
      }
      call.end();
      while (!(await it.next()).done);
      return rounds;
    },
    close() {
      channel.close();
    },
  };
}
