// Cross-implementation: grpc-js client → tsgrpc server, over loopback.
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { GrpcError, Server, type ServerCallContext, type ServerOptions } from '../src/index.js';
import {
  CallLog, GrpcJsProbeClient, HEADER_MD, TRAILER_MD, byteCountingProxy, compressible, plain, probeService, sleepUnlessAborted, toGrpcJsMetadata, toTsMetadata,
  type CallSpec, type Mode, type Outcome, type ProbeClient, type ProbeReply, type ProbeRequest, type ProbeServer, type SeenCall,
} from './support/grpcjs-probe.js';
import { crossImplSuite } from './support/grpcjs-suite.js';

const failure = (req: ProbeRequest) => new GrpcError(req.failCode!, req.failMessage ?? '', toTsMetadata(TRAILER_MD));
const stopped = () => new Error('stopped: the call was cancelled');

async function startTsgrpcServer(options: ServerOptions = {}): Promise<ProbeServer> {
  const log = new CallLog();
  const server = new Server(options);
  function open(mode: Mode, ctx: ServerCallContext): SeenCall {
    const seen = log.open(mode, ctx.metadata);
    ctx.signal.addEventListener('abort', () => seen.cancelled(String((ctx.signal.reason as Error)?.message)));
    return seen;
  }
  function received(seen: SeenCall, req: ProbeRequest, ctx: ServerCallContext): void {
    seen.request(req, ctx.requestCompressed);
    if (req.compressResponse) ctx.setResponseCompression('gzip');
  }
  const reply = (ctx: ServerCallContext, r: ProbeReply): ProbeReply => {
    ctx.sendHeader(toTsMetadata(HEADER_MD));
    return r;
  };
  server.addService(probeService, {
    async unary(req: ProbeRequest, ctx: ServerCallContext) {
      received(open('unary', ctx), req, ctx);
      if (!(await sleepUnlessAborted(req.sleepMs, ctx.signal))) throw stopped();
      if (req.failCode) throw failure(req);
      ctx.trailers.merge(toTsMetadata(TRAILER_MD));
      return reply(ctx, { text: `unary:${req.text}`, payload: Buffer.from(req.payload ?? []), index: 0 });
    },
    async *serverStream(req: ProbeRequest, ctx: ServerCallContext) {
      received(open('serverStream', ctx), req, ctx);
      for (let i = 0; i < (req.count ?? 0); i++) yield reply(ctx, { text: `${req.text}#${i}`, payload: Buffer.from(req.payload ?? []), index: i });
      if (!(await sleepUnlessAborted(req.sleepMs, ctx.signal))) throw stopped();
      if (req.failCode) throw failure(req);
      ctx.trailers.merge(toTsMetadata(TRAILER_MD));
    },
    async clientStream(requests: AsyncIterable<ProbeRequest>, ctx: ServerCallContext) {
      const seen = open('clientStream', ctx);
      for await (const r of requests) received(seen, r, ctx);
      const reqs = seen.requests;
      if (!(await sleepUnlessAborted(Math.max(0, ...reqs.map((r) => r.sleepMs ?? 0)), ctx.signal))) throw stopped();
      const failing = reqs.find((r) => r.failCode);
      if (failing) throw failure(failing);
      ctx.trailers.merge(toTsMetadata(TRAILER_MD));
      const payload = Buffer.concat(reqs.map((r) => Buffer.from(r.payload ?? [])));
      return reply(ctx, { text: reqs.map((r) => r.text).join(','), payload, index: reqs.length });
    },
    async *bidi(requests: AsyncIterable<ProbeRequest>, ctx: ServerCallContext) {
      const seen = open('bidi', ctx);
      let index = 0;
      for await (const r of requests) {
        received(seen, r, ctx);
        if (!(await sleepUnlessAborted(r.sleepMs, ctx.signal))) throw stopped();
        if (r.failCode) throw failure(r);
        yield reply(ctx, { text: `echo:${r.text}`, payload: Buffer.from(r.payload ?? []), index: index++ });
      }
      ctx.trailers.merge(toTsMetadata(TRAILER_MD));
    },
  });
  const port = await server.listen('127.0.0.1:0');
  return { port, log, compressesResponses: true, close: () => server.shutdown(1000) };
}

/** Runs one call with a grpc-js client; compression is a channel option, so it keeps one client per setting. */
function grpcJsClient(port: number): ProbeClient {
  const clients = new Map<boolean, grpc.Client>();
  const clientFor = (compress: boolean) => {
    if (!clients.has(compress)) {
      const options = compress ? { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip } : {};
      clients.set(compress, new GrpcJsProbeClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options));
    }
    return clients.get(compress) as unknown as Record<string, (...args: unknown[]) => grpc.ClientDuplexStream<ProbeRequest, ProbeReply>>;
  };
  return {
    close: () => clients.forEach((c) => c.close()),
    call(spec: CallSpec): Promise<Outcome> {
      const stub = clientFor(!!spec.compress);
      const md = toGrpcJsMetadata(spec.metadata ?? {});
      const options: grpc.CallOptions = spec.timeoutMs ? { deadline: Date.now() + spec.timeoutMs } : {};
      const replies: ProbeReply[] = [];
      const onReply = (_err: unknown, r?: ProbeReply) => r && replies.push(r);
      const [first] = spec.requests;
      const call = {
        unary: () => stub.Unary(first, md, options, onReply),
        serverStream: () => stub.ServerStream(first, md, options),
        clientStream: () => stub.ClientStream(md, options, onReply),
        bidi: () => stub.Bidi(md, options),
      }[spec.mode]();
      if (spec.mode === 'clientStream' || spec.mode === 'bidi') {
        for (const r of spec.requests) call.write(r);
        if (!spec.cancelWhen) call.end();
      }
      void spec.cancelWhen?.then(() => call.cancel());
      let headers = {};
      call.on('metadata', (m: grpc.Metadata) => (headers = plain(m)));
      call.on('data', (r: ProbeReply) => replies.push(r));
      call.on('error', () => {}); // reported through 'status'
      return new Promise((resolve) => {
        call.on('status', (s: grpc.StatusObject) =>
          // let any replies still buffered in the stream come out first
          setImmediate(() => resolve({ replies, headers, trailers: plain(s.metadata), error: s.code === 0 ? undefined : { code: s.code, details: s.details } })),
        );
      });
    },
  };
}

describe('grpc-js client → tsgrpc server', () => {
  crossImplSuite({ startServer: startTsgrpcServer, connect: grpcJsClient });

  it('compresses every reply when the server is created with compression: gzip', async () => {
    const server = await startTsgrpcServer({ compression: 'gzip' });
    const proxy = await byteCountingProxy(server.port);
    const client = grpcJsClient(proxy.port);
    try {
      const payload = compressible(256 * 1024);
      const out = await client.call({ mode: 'serverStream', requests: [{ text: 'z', count: 4, payload }] });
      expect(out.error).toBeUndefined();
      expect(out.replies.map((r) => Buffer.from(r.payload).equals(payload))).toEqual([true, true, true, true]);
      expect(proxy.up, 'the request went uncompressed').toBeGreaterThan(payload.length);
      expect(proxy.down, 'bytes sent by the server').toBeLessThan(payload.length / 10);
    } finally {
      client.close();
      proxy.close();
      await server.close();
    }
  });
});
