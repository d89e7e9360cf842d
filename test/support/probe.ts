import { fileURLToPath } from 'node:url';
import {
  Channel, GrpcError, Metadata, Server, createClient, loadProtoSync,
  type ChannelOptions, type Client, type ServerCallContext, type ServerOptions, type ServiceDefinition,
} from '../../src/index.js';

export const probeProto = loadProtoSync(fileURLToPath(new URL('../fixtures/e2e.proto', import.meta.url)));
export const probeService: ServiceDefinition = probeProto.services['e2e.Probe'];

export interface Req { payload?: Uint8Array; sleepMs?: number; count?: number; failCode?: number; failMessage?: string; responseSize?: number }
export interface Res { payload: Uint8Array; index: number; requestCompressed: boolean }

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });

/** What the server saw, for assertions from the client side. */
export class Observations {
  contexts: ServerCallContext[] = [];
  private nextCallWaiters: ((ctx: ServerCallContext) => void)[] = [];

  record(ctx: ServerCallContext): void {
    this.contexts.push(ctx);
    for (const w of this.nextCallWaiters.splice(0)) w(ctx);
  }

  /** Resolves with the abort reason of the next call the server receives after this point. */
  nextAbort(): Promise<unknown> {
    return new Promise((resolve) => {
      this.nextCallWaiters.push((ctx) => {
        if (ctx.signal.aborted) resolve(ctx.signal.reason);
        else ctx.signal.addEventListener('abort', () => resolve(ctx.signal.reason), { once: true });
      });
    });
  }
}

function respond(req: Req, index: number, ctx: ServerCallContext): Res {
  const size = req.responseSize ?? 0;
  const payload = size > 0 ? Buffer.alloc(size, index % 251) : (req.payload ?? Buffer.alloc(0));
  return { payload, index, requestCompressed: ctx.requestCompressed };
}

function maybeFail(req: Req): void {
  if (req.failCode) throw new GrpcError(req.failCode, req.failMessage ?? '');
}

export function probeImplementation(seen: Observations) {
  return {
    async unary(req: Req, ctx: ServerCallContext) {
      seen.record(ctx);
      echoMetadata(ctx);
      if (req.sleepMs) await sleep(req.sleepMs, ctx.signal);
      maybeFail(req);
      return respond(req, 0, ctx);
    },
    async *serverStream(req: Req, ctx: ServerCallContext) {
      seen.record(ctx);
      echoMetadata(ctx);
      for (let i = 0; i < (req.count ?? 1); i++) {
        if (req.sleepMs) await sleep(req.sleepMs, ctx.signal);
        if (ctx.signal.aborted) return;
        yield respond(req, i, ctx);
      }
      maybeFail(req);
    },
    async clientStream(requests: AsyncIterable<Req>, ctx: ServerCallContext) {
      seen.record(ctx);
      echoMetadata(ctx);
      let total = 0;
      let last: Req = {};
      for await (const r of requests) {
        total += r.payload?.length ?? 0;
        last = r;
        if (r.sleepMs) await sleep(r.sleepMs, ctx.signal);
        maybeFail(r);
      }
      return { payload: Buffer.from(String(total)), index: 0, requestCompressed: ctx.requestCompressed, ...(last.responseSize ? { payload: Buffer.alloc(last.responseSize) } : {}) };
    },
    async *bidi(requests: AsyncIterable<Req>, ctx: ServerCallContext) {
      seen.record(ctx);
      echoMetadata(ctx);
      let i = 0;
      for await (const r of requests) {
        if (r.sleepMs) await sleep(r.sleepMs, ctx.signal);
        maybeFail(r);
        yield respond(r, i++, ctx);
      }
    },
  };
}

/** Headers "echo-*" come back as response headers, "echo-trailer-*" as trailers. */
function echoMetadata(ctx: ServerCallContext): void {
  const headers = new Metadata();
  for (const [key, value] of ctx.metadata) {
    if (key.startsWith('echo-trailer-')) ctx.trailers.add(key, value);
    else if (key.startsWith('echo-')) headers.add(key, value);
  }
  if (headers.size > 0) ctx.sendHeader(headers);
}

export interface ProbeSetup {
  server: Server;
  port: number;
  channel: Channel;
  client: Client;
  seen: Observations;
  close(): Promise<void>;
}

export async function startProbe(serverOptions: ServerOptions = {}, channelOptions: ChannelOptions = {}): Promise<ProbeSetup> {
  const seen = new Observations();
  const server = new Server(serverOptions);
  server.addService(probeService, probeImplementation(seen));
  const port = await server.listen('127.0.0.1:0');
  const channel = new Channel(`127.0.0.1:${port}`, channelOptions);
  const client = createClient(probeService, channel);
  return {
    server, port, channel, client, seen,
    async close() {
      channel.close();
      server.forceShutdown();
    },
  };
}

export async function expectGrpcError(promise: Promise<unknown> | (() => Promise<unknown>), code: number): Promise<GrpcError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    if (!(err instanceof GrpcError)) throw new Error(`expected a GrpcError, got ${String(err)}`);
    if (err.code !== code) throw new Error(`expected code ${code}, got ${err.code}: ${err.details}`);
    return err;
  }
  throw new Error(`expected a GrpcError with code ${code}, but the call succeeded`);
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}
