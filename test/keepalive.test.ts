import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, ConnectivityState, Server, Status, createClient, encodeFrame, type BidiStream, type ServerOptions } from '../src/index.js';
import * as grpc from '@grpc/grpc-js';
import { expectBackoffOnTheWire, expectPingBackoff, untilState } from './support/connectivity.js';
import { H2Proxy } from './support/h2-proxy.js';
import { Observations, expectGrpcError, probeImplementation, probeService, type Req, type Res } from './support/probe.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A server that lets clients ping as often as they like, so only the client side is under test. */
const PERMISSIVE: ServerOptions = { keepaliveMinPingIntervalMs: 0, keepalivePermitWithoutCalls: true };

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

async function serverBehindProxy(options: ServerOptions = PERMISSIVE) {
  const seen = new Observations();
  const server = new Server(options);
  server.addService(probeService, probeImplementation(seen));
  const port = await server.listen('127.0.0.1:0');
  const proxy = await H2Proxy.start(port);
  cleanups.push(() => server.forceShutdown(), () => proxy.close());
  return { server, port, proxy, seen };
}

function channelTo(port: number, options: ConstructorParameters<typeof Channel>[1] = {}) {
  const channel = new Channel(`127.0.0.1:${port}`, options);
  cleanups.push(() => channel.close());
  return { channel, client: createClient(probeService, channel) };
}

describe('client keepalive', () => {
  it('fails a streaming call on a frozen server with UNAVAILABLE within keepaliveTime + keepaliveTimeout', async () => {
    const { proxy } = await serverBehindProxy();
    const { client } = channelTo(proxy.port, { keepaliveTimeMs: 200, keepaliveTimeoutMs: 300 });
    const call: BidiStream<Req, Res> = client.bidi();
    const responses = call[Symbol.asyncIterator]();
    await call.write({});
    expect((await responses.next()).done).toBe(false);
    proxy.freeze();
    const frozenAt = Date.now();
    const err = await expectGrpcError(responses.next(), Status.UNAVAILABLE);
    expect(err.details).toMatch(/keepalive ping not acknowledged within 300 ms/);
    // 500 ms in theory; the slack is for a loaded machine, far below "never".
    expect(Date.now() - frozenAt).toBeLessThan(5000);
    expect(proxy.connections[0].clientPings.length).toBeGreaterThan(0);
  });

  it('without keepalive the same call stays hung (what keepalive fixes)', async () => {
    const { proxy } = await serverBehindProxy();
    const { client } = channelTo(proxy.port);
    const call: BidiStream<Req, Res> = client.bidi();
    const responses = call[Symbol.asyncIterator]();
    await call.write({});
    await responses.next();
    proxy.freeze();
    const outcome = await Promise.race([responses.next().then(() => 'ended', () => 'failed'), sleep(1500).then(() => 'still waiting')]);
    expect(outcome).toBe('still waiting');
    call.cancel();
    expect(proxy.connections[0].clientPings).toHaveLength(0);
  });

  it('pings only while calls are in flight unless keepalivePermitWithoutCalls', async () => {
    const { proxy } = await serverBehindProxy();
    const quiet = channelTo(proxy.port, { keepaliveTimeMs: 50 });
    await quiet.client.unary({});
    // A slow first call (connecting on a busy machine) may outlast one interval and ping: only idle time counts.
    const duringFirstCall = proxy.connections[0].clientPings.length;
    await sleep(500);
    expect(proxy.connections[0].clientPings).toHaveLength(duringFirstCall);
    // The same channel pings during a call that lasts several intervals.
    await quiet.client.unary({ sleepMs: 400 });
    expect(proxy.connections[0].clientPings.length - duringFirstCall).toBeGreaterThanOrEqual(2);

    const chatty = channelTo(proxy.port, { keepaliveTimeMs: 50, keepalivePermitWithoutCalls: true });
    await chatty.client.unary({});
    await sleep(500);
    expect(proxy.connections[1].clientPings.length).toBeGreaterThanOrEqual(3);
  });

  it('with keepalivePermitWithoutCalls, an idle connection to a frozen server is dropped and the channel leaves READY', async () => {
    const { proxy } = await serverBehindProxy();
    const { channel, client } = channelTo(proxy.port, { keepaliveTimeMs: 100, keepaliveTimeoutMs: 200, keepalivePermitWithoutCalls: true });
    await client.unary({});
    expect(channel.getState()).toBe(ConnectivityState.READY);
    proxy.freeze();
    await untilState(channel, ConnectivityState.IDLE, 5000);
  });

  it('rejects nonsensical keepalive values instead of ignoring them', () => {
    expect(() => new Channel('127.0.0.1:1', { keepaliveTimeMs: 0 })).toThrow(/keepaliveTimeMs must be a positive number/);
    expect(() => new Channel('127.0.0.1:1', { keepaliveTimeoutMs: -5 })).toThrow(/keepaliveTimeoutMs/);
    expect(() => new Server({ keepaliveTimeMs: Number.NaN })).toThrow(/keepaliveTimeMs must be a positive number/);
  });
});

describe('server keepalive', () => {
  it('pings clients and closes the connection of a client that stops answering, aborting its calls', async () => {
    const { proxy, seen } = await serverBehindProxy({ ...PERMISSIVE, keepaliveTimeMs: 200, keepaliveTimeoutMs: 300 });
    const { client } = channelTo(proxy.port);
    const aborted = seen.nextAbort();
    const call: BidiStream<Req, Res> = client.bidi();
    const responses = call[Symbol.asyncIterator]();
    await call.write({});
    await responses.next();
    proxy.freeze();
    const frozenAt = Date.now();
    expect(((await aborted) as { code: number }).code).toBe(Status.CANCELLED);
    expect(Date.now() - frozenAt).toBeLessThan(5000);
    expect(proxy.connections[0].serverPings.length).toBeGreaterThan(0);
    call.cancel();
  });

  it('keeps a healthy client that answers its pings', async () => {
    const { proxy } = await serverBehindProxy({ ...PERMISSIVE, keepaliveTimeMs: 50, keepaliveTimeoutMs: 1000 });
    const { client } = channelTo(proxy.port);
    await client.unary({});
    await sleep(500);
    await client.unary({});
    expect(proxy.connections).toHaveLength(1);
    expect(proxy.connections[0].serverPings.length).toBeGreaterThanOrEqual(3);
    expect(proxy.connections[0].closed).toBe(false);
  });
});

/** A raw HTTP/2 client that pings on command and records the server's GOAWAY. */
async function rawPinger(port: number) {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  cleanups.push(() => session.destroy());
  const goaways: { code: number; debug: string }[] = [];
  session.on('goaway', (code, _last, data) => goaways.push({ code, debug: data?.toString() ?? '' }));
  await new Promise((r) => session.once('remoteSettings', r));
  const ping = () => new Promise<boolean>((resolve) => {
    try {
      session.ping((err) => resolve(!err));
    } catch {
      resolve(false);
    }
  });
  return { session, goaways, ping };
}

describe('server keepalive enforcement', () => {
  async function server(options: ServerOptions) {
    const s = new Server(options);
    s.addService(probeService, probeImplementation(new Observations()));
    const port = await s.listen('127.0.0.1:0');
    cleanups.push(() => s.forceShutdown());
    return port;
  }

  it('by default answers pings without calls with GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings") after two strikes', async () => {
    const { goaways, ping, session } = await rawPinger(await server({}));
    // The first ping sets the clock; the next three are strikes; the third strike is one too many.
    for (let i = 0; i < 3; i++) expect(await ping()).toBe(true);
    expect(goaways).toHaveLength(0);
    await ping();
    await new Promise((r) => (session.closed ? r(undefined) : session.once('close', r)));
    expect(goaways).toEqual([{ code: http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, debug: 'too_many_pings' }]);
  });

  it('allows pings at keepaliveMinPingIntervalMs, and sends away a client that pings faster', async () => {
    const { goaways, ping, session } = await rawPinger(await server({ keepaliveMinPingIntervalMs: 150, keepalivePermitWithoutCalls: true }));
    for (let i = 0; i < 5; i++) {
      expect(await ping()).toBe(true);
      await sleep(250);
    }
    expect(goaways).toHaveLength(0);
    for (let i = 0; i < 4; i++) await ping();
    await new Promise((r) => (session.closed ? r(undefined) : session.once('close', r)));
    expect(goaways.map((g) => g.debug)).toEqual(['too_many_pings']);
  });

  it('does not count pings that follow a response from the server', async () => {
    const port = await server({});
    const { goaways, ping, session } = await rawPinger(port);
    const unary = probeService.methods.Unary;
    for (let i = 0; i < 6; i++) {
      expect(await ping()).toBe(true);
      const stream = session.request({ ':method': 'POST', ':path': unary.path, 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('data', () => {});
      stream.end(Buffer.concat([Buffer.from([0, 0, 0, 0, 0])]));
      await new Promise((r) => stream.on('close', r));
    }
    expect(goaways).toHaveLength(0);
  });
  it('does not count pings sent while a large response is still arriving (as grpc-go clients ping to estimate bandwidth)', async () => {
    const port = await server({});
    // A 16 KiB stream window makes the 1 MB response trickle out long after the handler wrote it.
    const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 16 * 1024 } });
    session.on('error', () => {});
    cleanups.push(() => session.destroy());
    const goaways: number[] = [];
    session.on('goaway', (code) => goaways.push(code));
    const unary = probeService.methods.Unary;
    const body = Buffer.concat(encodeFrame(unary.serializeRequest({ responseSize: 1_000_000 })));
    const stream = session.request({ ':method': 'POST', ':path': unary.path, 'content-type': 'application/grpc', te: 'trailers' });
    let received = 0;
    let pings = 0;
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      // One ping per 32 KiB received: the server has sent more response bytes between any two of them.
      if (received >= (pings + 1) * 32 * 1024 && pings < 20) {
        pings++;
        session.ping(() => {});
      }
    });
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on('trailers', (t) => (trailers = t));
    stream.end(body);
    await new Promise((r) => stream.on('close', r));
    expect(pings).toBe(20);
    expect(goaways).toEqual([]);
    expect(trailers['grpc-status']).toBe('0');
  });
});

describe('too_many_pings backoff', () => {
  it('our client doubles its keepalive interval after each too_many_pings GOAWAY from our server, until it complies', async () => {
    const { proxy } = await serverBehindProxy({ keepaliveMinPingIntervalMs: 300, keepalivePermitWithoutCalls: true });
    const { channel } = channelTo(proxy.port, { keepaliveTimeMs: 100, keepalivePermitWithoutCalls: true });
    await expectPingBackoff(channel, proxy);
  });

  it('grpc-js, as a client of our server, gets the same too_many_pings and backs off the same way', async () => {
    const { proxy } = await serverBehindProxy({ keepaliveMinPingIntervalMs: 300, keepalivePermitWithoutCalls: true });
    const client = new grpc.Client(`127.0.0.1:${proxy.port}`, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 100,
      'grpc.keepalive_permit_without_calls': 1,
    });
    cleanups.push(() => client.close());
    const channel = client.getChannel();
    const { READY } = grpc.connectivityState;
    const until = async (want: (s: grpc.connectivityState) => boolean) => {
      const deadline = Date.now() + 10_000;
      for (let s = channel.getConnectivityState(false); !want(s); s = channel.getConnectivityState(false)) {
        if (Date.now() > deadline) throw new Error(`grpc-js channel stuck in ${grpc.connectivityState[s]}`);
        await new Promise<void>((resolve) => channel.watchConnectivityState(s, deadline, () => resolve()));
      }
    };
    for (let i = 0; i < 2; i++) {
      channel.getConnectivityState(true);
      await until((s) => s === READY);
      await until((s) => s !== READY);
    }
    channel.getConnectivityState(true);
    await until((s) => s === READY);
    await sleep(2500);
    expect(channel.getConnectivityState(false)).toBe(READY);
    expectBackoffOnTheWire(proxy);
  });
});
