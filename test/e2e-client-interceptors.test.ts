import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Channel, GrpcError, Metadata, Server, Status, createClient, interceptCall,
  type BidiStream, type CallListener, type Client, type ClientCallStatus, type ClientInterceptor, type OutgoingCall,
} from '../src/index.js';
import { Observations, collect, expectGrpcError, probeImplementation, probeService, type Req, type Res } from './support/probe.js';

const text = (r: Res) => Buffer.from(r.payload).toString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A server whose first `failures` calls (counted per method) end UNAVAILABLE, for the retry interceptor.
let unavailableBudget = 0;
let server: Server;
let port: number;
const seen = new Observations();

beforeAll(async () => {
  server = new Server({
    interceptors: [() => ({
      onReceiveMetadata(md, next) {
        if (md.get('flaky') === 'yes' && unavailableBudget > 0) {
          unavailableBudget--;
          throw new GrpcError(Status.UNAVAILABLE, 'try again');
        }
        next(md);
      },
    })],
  });
  server.addService(probeService, probeImplementation(seen));
  port = await server.listen('127.0.0.1:0');
});
afterAll(() => server.forceShutdown());

function channelWith(interceptors: ClientInterceptor[]) {
  const channel = new Channel(`127.0.0.1:${port}`, { interceptors });
  return { channel, client: createClient(probeService, channel) };
}

/** Runs one call of each mode with payloads "a" (and "b" where requests stream). */
async function callAllModes(client: Client) {
  const unary: Res = await client.unary({ payload: Buffer.from('a') });
  const streamed: Res[] = await collect(client.serverStream({ payload: Buffer.from('a'), count: 2 }));
  const counted: Res = await client.clientStream([{ payload: Buffer.from('a') }, { payload: Buffer.from('b') }]);
  const bidi: BidiStream<Req, Res> = client.bidi();
  await bidi.write({ payload: Buffer.from('a') });
  await bidi.write({ payload: Buffer.from('b') });
  bidi.end();
  const echoed: Res[] = await collect(bidi);
  return { unary, streamed, counted, echoed };
}

describe('client interceptors', () => {
  it('a logging interceptor sees every operation of all four call modes, in order', async () => {
    const log: string[] = [];
    const logging: ClientInterceptor = (call, next) => interceptCall(next(), {
      start(metadata, proceed) {
        log.push(`${call.kind} start`);
        proceed(metadata);
      },
      sendMessage(message: Req, proceed) {
        log.push(`${call.kind} send ${Buffer.from(message.payload ?? []).toString()}`);
        proceed(message);
      },
      halfClose(proceed) {
        log.push(`${call.kind} halfClose`);
        proceed();
      },
      onReceiveMetadata(metadata, proceed) {
        log.push(`${call.kind} headers`);
        proceed(metadata);
      },
      onReceiveMessage(message: Res, proceed) {
        log.push(`${call.kind} recv ${message.index}`);
        proceed(message);
      },
      onReceiveStatus(status, proceed) {
        log.push(`${call.kind} status ${status.error?.code ?? Status.OK}`);
        proceed(status);
      },
    });
    const { channel, client } = channelWith([logging]);
    await callAllModes(client);
    channel.close();
    expect(log).toEqual([
      'unary start', 'unary send a', 'unary halfClose', 'unary headers', 'unary recv 0', 'unary status 0',
      'serverStream start', 'serverStream send a', 'serverStream halfClose', 'serverStream headers', 'serverStream recv 0', 'serverStream recv 1', 'serverStream status 0',
      'clientStream start', 'clientStream send a', 'clientStream send b', 'clientStream halfClose', 'clientStream headers', 'clientStream recv 0', 'clientStream status 0',
      'bidi start', 'bidi send a', 'bidi send b', 'bidi halfClose', 'bidi headers', 'bidi recv 0', 'bidi recv 1', 'bidi status 0',
    ]);
  });

  it('reads and changes request metadata, and sees response headers and trailers', async () => {
    const headersSeen: string[] = [];
    const trailersSeen: string[] = [];
    const tagging: ClientInterceptor = (_call, next) => interceptCall(next(), {
      start(metadata, proceed) {
        metadata.set('echo-tag', `seen-${metadata.get('x-user') ?? 'nobody'}`);
        metadata.set('echo-trailer-tag', 'at-the-end');
        proceed(metadata);
      },
      onReceiveMetadata(metadata, proceed) {
        headersSeen.push(String(metadata.get('echo-tag')));
        proceed(metadata);
      },
      onReceiveStatus(status, proceed) {
        trailersSeen.push(String(status.trailers.get('echo-trailer-tag')));
        proceed(status);
      },
    });
    const { channel, client } = channelWith([tagging]);
    let appHeader: Metadata | undefined;
    await client.unary({}, { metadata: new Metadata({ 'x-user': 'ann' }), onHeader: (md: Metadata) => (appHeader = md) });
    expect(seen.contexts.at(-1)!.metadata.get('echo-tag')).toBe('seen-ann');
    expect(headersSeen).toEqual(['seen-ann']);
    expect(trailersSeen).toEqual(['at-the-end']);
    expect(appHeader?.get('echo-tag')).toBe('seen-ann');
    channel.close();
  });

  it('replaces messages in both directions, in all four call modes', async () => {
    const upper: ClientInterceptor = (_call, next) => interceptCall(next(), {
      sendMessage(message: Req, proceed) {
        proceed({ ...message, payload: Buffer.from(Buffer.from(message.payload ?? []).toString().toUpperCase()) });
      },
      onReceiveMessage(message: Res, proceed) {
        proceed({ ...message, payload: Buffer.from(`${text(message)}!`) });
      },
    });
    const { channel, client } = channelWith([upper]);
    const out = await callAllModes(client);
    channel.close();
    expect(text(out.unary)).toBe('A!');
    expect(out.streamed.map(text)).toEqual(['A!', 'A!']);
    expect(text(out.counted)).toBe('2!'); // the server counts payload bytes: "A" + "B"
    expect(out.echoed.map(text)).toEqual(['A!', 'B!']);
  });

  it('drops a message when a hook does not pass it on', async () => {
    const dropB: ClientInterceptor = (_call, next) => interceptCall(next(), {
      sendMessage(message: Req, proceed) {
        if (Buffer.from(message.payload ?? []).toString() !== 'b') proceed(message);
      },
    });
    const { channel, client } = channelWith([dropB]);
    const out = await callAllModes(client);
    channel.close();
    expect(out.echoed.map(text)).toEqual(['a']);
    expect(text(out.counted)).toBe('1');
  });

  it('orders chains: channel interceptors outermost, then per-call ones; responses come back in reverse', async () => {
    const order: string[] = [];
    const named = (name: string): ClientInterceptor => (_call, next) => interceptCall(next(), {
      start(metadata, proceed) {
        order.push(`${name}:start`);
        metadata.add('x-chain', name);
        proceed(metadata);
      },
      sendMessage(message, proceed) {
        order.push(`${name}:send`);
        proceed(message);
      },
      onReceiveMessage(message, proceed) {
        order.push(`${name}:recv`);
        proceed(message);
      },
      onReceiveStatus(status, proceed) {
        order.push(`${name}:status`);
        proceed(status);
      },
    });
    const { channel, client } = channelWith([named('channel1'), named('channel2')]);
    await client.unary({}, { interceptors: [named('call')] });
    channel.close();
    expect(order).toEqual([
      'channel1:start', 'channel2:start', 'call:start',
      'channel1:send', 'channel2:send', 'call:send',
      'call:recv', 'channel2:recv', 'channel1:recv',
      'call:status', 'channel2:status', 'channel1:status',
    ]);
    expect(seen.contexts.at(-1)!.metadata.getAll('x-chain')).toEqual(['channel1', 'channel2', 'call']);
  });

  it('fails a call with a status before it reaches the server, in all four modes', async () => {
    const deny: ClientInterceptor = (call, next) => interceptCall(next(), {
      start() {
        throw new GrpcError(Status.PERMISSION_DENIED, `not allowed: ${call.method.path}`);
      },
    });
    const { channel, client } = channelWith([deny]);
    const before = seen.contexts.length;
    const e1 = await expectGrpcError(client.unary({}), Status.PERMISSION_DENIED);
    expect(e1.details).toBe('not allowed: /e2e.Probe/Unary');
    await expectGrpcError(collect(client.serverStream({ count: 1 })), Status.PERMISSION_DENIED);
    await expectGrpcError(client.clientStream([{}, {}]), Status.PERMISSION_DENIED);
    const bidi: BidiStream<Req, Res> = client.bidi();
    await bidi.write({});
    bidi.end();
    await expectGrpcError(collect(bidi), Status.PERMISSION_DENIED);
    expect(seen.contexts.length).toBe(before);
    channel.close();
  });

  it('fails a call from a response hook, cancelling the call underneath', async () => {
    const rejectBig: ClientInterceptor = (_call, next) => interceptCall(next(), {
      onReceiveMessage(message: Res, proceed) {
        if (message.index >= 2) throw new GrpcError(Status.RESOURCE_EXHAUSTED, 'too many responses');
        proceed(message);
      },
    });
    const { channel, client } = channelWith([rejectBig]);
    const received: number[] = [];
    const abort = seen.nextAbort();
    await expectGrpcError(async () => {
      for await (const r of client.serverStream({ count: 1000, sleepMs: 5 }) as AsyncIterable<Res>) received.push(r.index);
    }, Status.RESOURCE_EXHAUSTED);
    expect(received).toEqual([0, 1]);
    expect(await abort).toMatchObject({ code: Status.CANCELLED });
    // A plain error from a hook becomes INTERNAL.
    const broken: ClientInterceptor = (_call, next) => interceptCall(next(), {
      sendMessage() {
        throw new Error('serializer bug');
      },
    });
    const e = await expectGrpcError(client.unary({}, { interceptors: [broken] }), Status.INTERNAL);
    expect(e.details).toMatch(/serializer bug/);
    channel.close();
  });

  it('async hooks delay operations without reordering them', async () => {
    const slowStart: ClientInterceptor = (_call, next) => interceptCall(next(), {
      async start(metadata, proceed) {
        await sleep(50);
        metadata.set('x-token', 'fetched');
        proceed(metadata);
      },
      async sendMessage(message: Req, proceed) {
        await sleep(Buffer.from(message.payload ?? []).toString() === 'a' ? 30 : 0);
        proceed(message);
      },
    });
    const { channel, client } = channelWith([slowStart]);
    const out = await callAllModes(client);
    expect(out.echoed.map(text)).toEqual(['a', 'b']);
    expect(seen.contexts.at(-1)!.metadata.get('x-token')).toBe('fetched');
    channel.close();
  });

  it('the deadline bounds time spent in interceptors, and cancel reaches a call held in one', async () => {
    const never: ClientInterceptor = (_call, next) => interceptCall(next(), { start: () => new Promise<void>(() => {}) });
    const { channel, client } = channelWith([never]);
    await expectGrpcError(client.unary({}, { timeout: 100 }), Status.DEADLINE_EXCEEDED);
    const stream = client.serverStream({});
    setTimeout(() => stream.cancel('user gave up'), 50);
    const e = await expectGrpcError(collect(stream), Status.CANCELLED);
    expect(e.details).toBe('user gave up');
    channel.close();
  });

  it('a metrics interceptor times every call and records its status', async () => {
    const samples: { method: string; code: number; ms: number; messages: number }[] = [];
    const metrics: ClientInterceptor = (call, next) => {
      const t0 = performance.now();
      let messages = 0;
      return interceptCall(next(), {
        onReceiveMessage(message, proceed) {
          messages++;
          proceed(message);
        },
        onReceiveStatus(status, proceed) {
          samples.push({ method: call.method.name, code: status.error?.code ?? Status.OK, ms: performance.now() - t0, messages });
          proceed(status);
        },
      });
    };
    const { channel, client } = channelWith([metrics]);
    await callAllModes(client);
    await expectGrpcError(client.unary({ sleepMs: 60, failCode: Status.NOT_FOUND }), Status.NOT_FOUND);
    channel.close();
    expect(samples.map((s) => [s.method, s.code, s.messages])).toEqual([
      ['Unary', 0, 1], ['ServerStream', 0, 2], ['ClientStream', 0, 1], ['Bidi', 0, 2], ['Unary', Status.NOT_FOUND, 0],
    ]);
    expect(samples.at(-1)!.ms).toBeGreaterThanOrEqual(50);
  });
});

/**
 * Retries calls that fail UNAVAILABLE before any response arrived, as a user
 * would write it: every attempt is a fresh call from next(), and the requests
 * sent so far are replayed to it.
 */
function retryOnUnavailable(maxAttempts: number, attemptsMade: number[]): ClientInterceptor {
  return (_call, next) => {
    const sent: unknown[] = [];
    let halfClosed = false;
    let current: OutgoingCall;
    let metadata: Metadata;
    let listener: CallListener;
    let attempts = 0;
    let cancelled = false;
    const attempt = () => {
      attempts++;
      let committed = false; // once a response arrived, the call is this attempt's for good
      current = next();
      current.start(metadata.clone(), {
        onReceiveMetadata(md) {
          committed = true;
          listener.onReceiveMetadata(md);
        },
        onReceiveMessage(m) {
          committed = true;
          listener.onReceiveMessage(m);
        },
        onReceiveStatus(status: ClientCallStatus) {
          if (!committed && !cancelled && status.error?.code === Status.UNAVAILABLE && attempts < maxAttempts) return attempt();
          attemptsMade.push(attempts);
          listener.onReceiveStatus(status);
        },
      });
      for (const m of sent) void current.sendMessage(m);
      if (halfClosed) current.halfClose();
    };
    return {
      start(md, l) {
        metadata = md;
        listener = l;
        attempt();
      },
      sendMessage(message) {
        sent.push(message);
        return current.sendMessage(message);
      },
      halfClose() {
        halfClosed = true;
        current.halfClose();
      },
      cancel(error) {
        cancelled = true;
        current.cancel(error);
      },
    };
  };
}

describe('a retry-on-UNAVAILABLE interceptor', () => {
  const flaky = () => ({ metadata: new Metadata({ flaky: 'yes' }) });

  it('retries each call mode until it succeeds', async () => {
    const attempts: number[] = [];
    const { channel, client } = channelWith([retryOnUnavailable(3, attempts)]);
    unavailableBudget = 2;
    expect(text(await client.unary({ payload: Buffer.from('x') }, flaky()))).toBe('x');
    unavailableBudget = 2;
    expect((await collect<Res>(client.serverStream({ count: 3 }, flaky()))).map((r) => r.index)).toEqual([0, 1, 2]);
    unavailableBudget = 1;
    expect(text(await client.clientStream([{ payload: Buffer.from('xy') }, { payload: Buffer.from('z') }], flaky()))).toBe('3');
    unavailableBudget = 1;
    const bidi: BidiStream<Req, Res> = client.bidi(flaky());
    await bidi.write({ payload: Buffer.from('p') });
    bidi.end();
    expect((await collect<Res>(bidi)).map(text)).toEqual(['p']);
    expect(attempts).toEqual([3, 3, 2, 2]);
    channel.close();
  });

  it('gives up after the last attempt with the last status, and leaves other errors alone', async () => {
    const attempts: number[] = [];
    const { channel, client } = channelWith([retryOnUnavailable(3, attempts)]);
    unavailableBudget = 5;
    const e = await expectGrpcError(client.unary({}, flaky()), Status.UNAVAILABLE);
    expect(e.details).toBe('try again');
    unavailableBudget = 0;
    await expectGrpcError(client.unary({ failCode: Status.ABORTED }), Status.ABORTED);
    expect(attempts).toEqual([3, 1]);
    channel.close();
  });

  it('retries a server that is not up yet, and reports its connection error after the last attempt', async () => {
    const attempts: number[] = [];
    const late = new Server();
    late.addService(probeService, probeImplementation(new Observations()));
    const latePort = await late.listen('127.0.0.1:0');
    await late.shutdown(0);
    const channel = new Channel(`127.0.0.1:${latePort}`, { interceptors: [retryOnUnavailable(2, attempts)], initialBackoffMs: 20, maxBackoffMs: 20 });
    const e = await expectGrpcError(createClient(probeService, channel).unary({}, { timeout: 5000 }), Status.UNAVAILABLE);
    expect(e.details).toMatch(/ECONNREFUSED|cannot connect/);
    expect(attempts).toEqual([2]);
    channel.close();
  });
});
