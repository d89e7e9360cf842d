import { afterEach, describe, expect, it } from 'vitest';
import {
  Channel, GrpcError, Metadata, Server, Status, createClient,
  type BidiStream, type Client, type ServerInterceptor, type ServerOptions,
} from '../src/index.js';
import { Observations, collect, expectGrpcError, probeImplementation, probeService, type Req, type Res } from './support/probe.js';

const text = (r: Res) => Buffer.from(r.payload).toString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

async function start(options: ServerOptions) {
  const seen = new Observations();
  const server = new Server(options);
  server.addService(probeService, probeImplementation(seen));
  const port = await server.listen('127.0.0.1:0');
  const channel = new Channel(`127.0.0.1:${port}`);
  cleanup.push(() => {
    channel.close();
    server.forceShutdown();
  });
  return { seen, client: createClient(probeService, channel) };
}

async function callAllModes(client: Client, metadata?: Metadata) {
  const unary: Res = await client.unary({ payload: Buffer.from('a') }, { metadata });
  const streamed: Res[] = await collect(client.serverStream({ payload: Buffer.from('a'), count: 2 }, { metadata }));
  const counted: Res = await client.clientStream([{ payload: Buffer.from('a') }, { payload: Buffer.from('b') }], { metadata });
  // Ping-pong, so the order of events on the server is fixed.
  const bidi: BidiStream<Req, Res> = client.bidi({ metadata });
  const responses = bidi[Symbol.asyncIterator]();
  const echoed: Res[] = [];
  for (const payload of ['a', 'b']) {
    await bidi.write({ payload: Buffer.from(payload) });
    echoed.push((await responses.next()).value);
  }
  bidi.end();
  expect((await responses.next()).done).toBe(true);
  return { unary, streamed, counted, echoed };
}

/** Checks a bearer token before any handler runs. */
const requireToken = (token: string): ServerInterceptor => () => ({
  onReceiveMetadata(metadata, next) {
    if (metadata.get('authorization') !== `Bearer ${token}`) {
      throw new GrpcError(Status.UNAUTHENTICATED, 'missing or wrong bearer token');
    }
    next(metadata);
  },
});

describe('server interceptors', () => {
  it('an auth-check interceptor refuses calls without the token in all four modes; the handler never runs', async () => {
    const { seen, client } = await start({ interceptors: [requireToken('s3cret')] });
    const e = await expectGrpcError(client.unary({}), Status.UNAUTHENTICATED);
    expect(e.details).toBe('missing or wrong bearer token');
    const wrong = new Metadata({ authorization: 'Bearer guess' });
    await expectGrpcError(collect(client.serverStream({ count: 2 }, { metadata: wrong })), Status.UNAUTHENTICATED);
    await expectGrpcError(client.clientStream([{}, {}], { metadata: wrong }), Status.UNAUTHENTICATED);
    const bidi: BidiStream<Req, Res> = client.bidi({ metadata: wrong });
    void bidi.write({}).catch(() => {});
    bidi.end();
    await expectGrpcError(collect(bidi), Status.UNAUTHENTICATED);
    expect(seen.contexts).toHaveLength(0);
    const out = await callAllModes(client, new Metadata({ authorization: 'Bearer s3cret' }));
    expect(out.echoed.map(text)).toEqual(['a', 'b']);
    expect(seen.contexts).toHaveLength(4);
  });

  it('a logging interceptor sees metadata, messages both ways and the status of each mode', async () => {
    const log: string[] = [];
    const logging: ServerInterceptor = (ctx, method) => {
      const tag = method.kind;
      return {
        onReceiveMetadata(md, next) {
          log.push(`${tag} ${ctx.method} user=${md.get('x-user')}`);
          next(md);
        },
        onReceiveMessage(m: Req, next) {
          log.push(`${tag} recv ${Buffer.from(m.payload ?? []).toString()}`);
          next(m);
        },
        onReceiveHalfClose(next) {
          log.push(`${tag} halfClose`);
          next();
        },
        sendMetadata(md, next) {
          log.push(`${tag} headers`);
          next(md);
        },
        sendMessage(m: Res, next) {
          log.push(`${tag} send ${m.index}`);
          next(m);
        },
        sendStatus(status, next) {
          log.push(`${tag} status ${status.error?.code ?? Status.OK}`);
          next(status);
        },
      };
    };
    const { client } = await start({ interceptors: [logging] });
    await callAllModes(client, new Metadata({ 'x-user': 'ann' }));
    expect(log).toEqual([
      'unary /e2e.Probe/Unary user=ann', 'unary recv a', 'unary halfClose', 'unary send 0', 'unary headers', 'unary status 0',
      'serverStream /e2e.Probe/ServerStream user=ann', 'serverStream recv a', 'serverStream halfClose',
      'serverStream send 0', 'serverStream headers', 'serverStream send 1', 'serverStream status 0',
      'clientStream /e2e.Probe/ClientStream user=ann', 'clientStream recv a', 'clientStream recv b', 'clientStream halfClose',
      'clientStream send 0', 'clientStream headers', 'clientStream status 0',
      'bidi /e2e.Probe/Bidi user=ann', 'bidi recv a', 'bidi send 0', 'bidi headers', 'bidi recv b', 'bidi send 1', 'bidi halfClose', 'bidi status 0',
    ]);
  });

  it('changes request metadata, messages both ways, response headers and trailers', async () => {
    const rewrite: ServerInterceptor = () => ({
      onReceiveMetadata(md, next) {
        const changed = md.clone();
        changed.set('echo-added', 'by-interceptor');
        next(changed);
      },
      onReceiveMessage(m: Req, next) {
        next({ ...m, payload: Buffer.from(Buffer.from(m.payload ?? []).toString().toUpperCase()) });
      },
      sendMetadata(md, next) {
        md.set('x-server', 'tsgrpc');
        next(md);
      },
      sendMessage(m: Res, next) {
        next({ ...m, payload: Buffer.from(`${text(m)}?`) });
      },
      sendStatus(status, next) {
        status.trailers.set('x-handled-by', 'rewrite');
        next(status);
      },
    });
    const { seen, client } = await start({ interceptors: [rewrite] });
    let headers: Metadata | undefined;
    let trailers: Metadata | undefined;
    const res: Res = await client.unary({ payload: Buffer.from('a') }, { onHeader: (md: Metadata) => (headers = md), onTrailer: (md: Metadata) => (trailers = md) });
    expect(text(res)).toBe('A?');
    expect(seen.contexts[0].metadata.get('echo-added')).toBe('by-interceptor');
    // The handler echoed "echo-added" as a header through ctx.sendHeader, which went through sendMetadata too.
    expect(headers?.get('echo-added')).toBe('by-interceptor');
    expect(headers?.get('x-server')).toBe('tsgrpc');
    expect(trailers?.get('x-handled-by')).toBe('rewrite');
    const out = await callAllModes(client);
    expect(out.streamed.map(text)).toEqual(['A?', 'A?']);
    expect(text(out.counted)).toBe('2?');
    expect(out.echoed.map(text)).toEqual(['A?', 'B?']);
  });

  it('runs chains as documented: the first interceptor sees requests first and responses last', async () => {
    const order: string[] = [];
    const named = (name: string): ServerInterceptor => () => ({
      onReceiveMetadata(md, next) {
        order.push(`${name}:metadata`);
        next(md);
      },
      onReceiveMessage(m, next) {
        order.push(`${name}:recv`);
        next(m);
      },
      sendMessage(m, next) {
        order.push(`${name}:send`);
        next(m);
      },
      sendStatus(s, next) {
        order.push(`${name}:status`);
        next(s);
      },
    });
    const { client } = await start({ interceptors: [named('outer'), named('inner')] });
    await client.unary({});
    expect(order).toEqual([
      'outer:metadata', 'inner:metadata', 'outer:recv', 'inner:recv',
      'inner:send', 'outer:send', 'inner:status', 'outer:status',
    ]);
  });

  it('fails a call with a status from any hook, and can replace the status of a failed call', async () => {
    const limitMessages: ServerInterceptor = () => {
      let count = 0;
      return {
        onReceiveMessage(m, next) {
          if (++count > 2) throw new GrpcError(Status.RESOURCE_EXHAUSTED, 'at most 2 requests per call');
          next(m);
        },
        sendStatus(status, next) {
          // Hide internal details of NOT_FOUND errors.
          if (status.error?.code === Status.NOT_FOUND) next({ ...status, error: new GrpcError(Status.NOT_FOUND, 'no such thing') });
          else next(status);
        },
      };
    };
    const { seen, client } = await start({ interceptors: [limitMessages] });
    const e = await expectGrpcError(client.clientStream([{}, {}, {}]), Status.RESOURCE_EXHAUSTED);
    expect(e.details).toBe('at most 2 requests per call');
    expect(seen.contexts).toHaveLength(1); // the handler had started on the first two
    const bidi: BidiStream<Req, Res> = client.bidi();
    for (let i = 0; i < 3; i++) await bidi.write({});
    bidi.end();
    await expectGrpcError(collect(bidi), Status.RESOURCE_EXHAUSTED);
    const hidden = await expectGrpcError(client.unary({ failCode: Status.NOT_FOUND, failMessage: 'row 42 missing in table users' }), Status.NOT_FOUND);
    expect(hidden.details).toBe('no such thing');
  });

  it('a plain error thrown by a hook is reported like a handler error (UNKNOWN, onHandlerError)', async () => {
    const reported: unknown[] = [];
    const broken: ServerInterceptor = () => ({
      onReceiveMetadata() {
        throw new Error('database down');
      },
    });
    const { client } = await start({ interceptors: [broken], onHandlerError: (err) => reported.push(err) });
    const e = await expectGrpcError(client.unary({}), Status.UNKNOWN);
    expect(e.details).not.toMatch(/database/);
    expect((reported[0] as Error).message).toBe('database down');
  });

  it('a metrics interceptor times each call and records its outcome, cancellations included', async () => {
    const samples: { method: string; code: number; ms: number }[] = [];
    const metrics: ServerInterceptor = (ctx) => {
      const t0 = performance.now();
      const record = (code: number) => samples.push({ method: ctx.method, code, ms: performance.now() - t0 });
      return {
        sendStatus(status, next) {
          record(status.error?.code ?? Status.OK);
          next(status);
        },
        onCancel(reason) {
          record(reason.code);
        },
      };
    };
    const { seen, client } = await start({ interceptors: [metrics] });
    await callAllModes(client);
    await expectGrpcError(client.unary({ failCode: Status.ALREADY_EXISTS }), Status.ALREADY_EXISTS);
    await expectGrpcError(client.unary({ sleepMs: 5000 }, { timeout: 100 }), Status.DEADLINE_EXCEEDED);
    const abort = seen.nextAbort();
    const stream = client.serverStream({ count: 100, sleepMs: 20 });
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    stream.cancel();
    await abort;
    for (let i = 0; i < 100 && samples.length < 7; i++) await sleep(20);
    // The client's deadline timer starts before the server's (which counts from when the headers arrive), so
    // under load the client's reset can reach the server first: the server then sees a cancel, as grpc-go's does.
    const expired = samples[5]?.code === Status.CANCELLED ? Status.CANCELLED : Status.DEADLINE_EXCEEDED;
    expect(samples.map((s) => [s.method.split('/').pop(), s.code])).toEqual([
      ['Unary', 0], ['ServerStream', 0], ['ClientStream', 0], ['Bidi', 0],
      ['Unary', Status.ALREADY_EXISTS], ['Unary', expired], ['ServerStream', Status.CANCELLED],
    ]);
    expect(samples[5].ms).toBeGreaterThanOrEqual(50);
  });

  it('async hooks (e.g. a token lookup) delay the handler without losing messages', async () => {
    const slowAuth: ServerInterceptor = () => ({
      async onReceiveMetadata(md, next) {
        await sleep(50);
        next(md);
      },
      async sendMessage(m, next) {
        await sleep(5);
        next(m);
      },
    });
    const { client } = await start({ interceptors: [slowAuth] });
    const out = await callAllModes(client);
    expect(out.echoed.map(text)).toEqual(['a', 'b']);
    expect(out.streamed.map((r) => r.index)).toEqual([0, 1]);
  });
});
