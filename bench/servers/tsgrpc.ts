// bench.Echo served by tsgrpc, using its documented handler styles.
import { Server, type ServerInterceptor } from '../../src/index.js';
import { countReply, streamCount, type EchoServer } from '../echo.js';
import { TSGRPC_MAX_MESSAGE, tsgrpcEcho } from './tsgrpc-def.js';
import { tsgrpcOrders, tsgrpcOrdersImpl } from './orders-tsgrpc.js';

const impl = {
  async Unary(req: Buffer) {
    return req;
  },
  // A sync generator: responses computed without awaiting stream out with no promise per message.
  *ServerStream(req: Buffer) {
    const n = streamCount(req);
    for (let i = 0; i < n; i++) yield req;
  },
  async ClientStream(reqs: AsyncIterable<Buffer>) {
    let n = 0;
    for await (const _ of reqs) n++;
    return countReply(n);
  },
  async *Bidi(reqs: AsyncIterable<Buffer>) {
    for await (const r of reqs) yield r;
  },
};

/** A pass-through interceptor with every hook set: the cost of the interceptor layer itself. */
const passThrough: ServerInterceptor = () => ({
  onReceiveMetadata: (md, next) => next(md),
  onReceiveMessage: (m, next) => next(m),
  sendMessage: (m, next) => next(m),
  sendStatus: (s, next) => next(s),
});

export async function startTsgrpc(intercepted = false): Promise<EchoServer> {
  const server = new Server({
    maxReceiveMessageSize: TSGRPC_MAX_MESSAGE,
    maxSendMessageSize: TSGRPC_MAX_MESSAGE,
    ...(intercepted ? { interceptors: [passThrough] } : {}),
  });
  server.addService(tsgrpcEcho, impl);
  server.addService(await tsgrpcOrders(), tsgrpcOrdersImpl);
  const port = await server.listen('127.0.0.1:0');
  return { port, close: () => server.shutdown(100) };
}
