import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, ConnectivityState, Server, Status, createClient, type BidiStream, type ChannelOptions } from '../src/index.js';
import { untilState } from './support/connectivity.js';
import { H2Proxy } from './support/h2-proxy.js';
import { Observations, collect, expectGrpcError, probeImplementation, probeService, type Req, type Res } from './support/probe.js';

const { IDLE, CONNECTING, READY, TRANSIENT_FAILURE, SHUTDOWN } = ConnectivityState;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A loopback port with nothing listening on it (yet). */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  return port;
}

async function startServer(port = 0): Promise<{ server: Server; port: number }> {
  const server = new Server();
  server.addService(probeService, probeImplementation(new Observations()));
  const bound = await server.listen(`127.0.0.1:${port}`);
  cleanups.push(() => server.forceShutdown());
  return { server, port: bound };
}

function channelTo(port: number, options: ChannelOptions = {}) {
  const channel = new Channel(`127.0.0.1:${port}`, options);
  cleanups.push(() => channel.close());
  return { channel, client: createClient(probeService, channel) };
}

/** Records every state the channel goes through. */
function recordStates(channel: Channel): ConnectivityState[] {
  const states: ConnectivityState[] = [channel.getState()];
  cleanups.push(channel.onStateChange((s) => states.push(s)));
  return states;
}

describe('waitForReady and fail-fast', () => {
  it('a waitForReady call waits for a server that comes up after 1 s', async () => {
    const port = await freePort();
    const { client } = channelTo(port);
    const started = Date.now();
    const call = client.unary({ payload: Buffer.from('late') }, { waitForReady: true, timeout: 5000 }) as Promise<Res>;
    await sleep(1000);
    await startServer(port);
    const res = await call;
    expect(Buffer.from(res.payload).toString()).toBe('late');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('without waitForReady the same call fails fast with UNAVAILABLE, long before its deadline', async () => {
    const port = await freePort();
    const { client } = channelTo(port);
    const started = Date.now();
    const err = await expectGrpcError(client.unary({}, { timeout: 3000 }), Status.UNAVAILABLE);
    expect(err.details).toMatch(/ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a waitForReady call whose deadline passes first fails with DEADLINE_EXCEEDED and says what it waited for', async () => {
    const port = await freePort();
    const { client } = channelTo(port, { initialBackoffMs: 50, maxBackoffMs: 100 });
    const err = await expectGrpcError(client.unary({}, { waitForReady: true, timeout: 300 }), Status.DEADLINE_EXCEEDED);
    expect(err.details).toMatch(/while waiting for a connection to 127\.0\.0\.1:\d+ \(last error: .*ECONNREFUSED/);
  });

  it('in TRANSIENT_FAILURE, plain calls fail at once while waitForReady calls of every mode wait and then succeed', async () => {
    const port = await freePort();
    const { channel, client } = channelTo(port, { initialBackoffMs: 100, maxBackoffMs: 200 });
    channel.getState(true);
    await untilState(channel, TRANSIENT_FAILURE);
    const options = { waitForReady: true, timeout: 10_000 };
    const unary = client.unary({ payload: Buffer.from('u') }, options) as Promise<Res>;
    const serverStream = collect<Res>(client.serverStream({ count: 3 }, options));
    const clientStream = client.clientStream([{ payload: Buffer.from('ab') }, { payload: Buffer.from('c') }], options) as Promise<Res>;
    const bidi: BidiStream<Req, Res> = client.bidi(options);
    void bidi.write({ payload: Buffer.from('b') });
    bidi.end();
    await expectGrpcError(client.unary({}), Status.UNAVAILABLE);
    await sleep(300);
    await startServer(port);
    expect(Buffer.from((await unary).payload).toString()).toBe('u');
    expect(await serverStream).toHaveLength(3);
    expect(Buffer.from((await clientStream).payload).toString()).toBe('3');
    expect((await collect(bidi)).map((r) => Buffer.from(r.payload).toString())).toEqual(['b']);
    expect(channel.getState()).toBe(READY);
  });

  it('a waiting call can be cancelled, and closing the channel fails the calls still waiting', async () => {
    const port = await freePort();
    const { channel, client } = channelTo(port, { initialBackoffMs: 50, maxBackoffMs: 100 });
    const controller = new AbortController();
    const cancelled = expectGrpcError(client.unary({}, { waitForReady: true, signal: controller.signal }), Status.CANCELLED);
    const waiting = expectGrpcError(client.unary({}, { waitForReady: true }), Status.UNAVAILABLE);
    await sleep(200);
    controller.abort();
    await cancelled;
    channel.close();
    expect((await waiting).details).toMatch(/channel is closed/);
    expect(channel.getState()).toBe(SHUTDOWN);
    await expectGrpcError(client.unary({}, { waitForReady: true }), Status.UNAVAILABLE);
  });
});

describe('connectivity state', () => {
  it('goes IDLE -> CONNECTING -> TRANSIENT_FAILURE, stays there through reconnect attempts, then READY and SHUTDOWN', async () => {
    const port = await freePort();
    const { channel } = channelTo(port, { initialBackoffMs: 100, maxBackoffMs: 100 });
    const states = recordStates(channel);
    expect(channel.getState()).toBe(IDLE);
    expect(await channel.watchState(IDLE, Date.now() + 200)).toBe(false); // nothing happens without a call or tryToConnect
    expect(channel.getState(true)).toBe(IDLE);
    expect(channel.getState()).toBe(CONNECTING);
    await untilState(channel, TRANSIENT_FAILURE);
    await sleep(600); // several backoff periods: attempts continue, the channel stays in TRANSIENT_FAILURE
    expect(states).toEqual([IDLE, CONNECTING, TRANSIENT_FAILURE]);
    await startServer(port);
    await untilState(channel, READY);
    channel.close();
    expect(states).toEqual([IDLE, CONNECTING, TRANSIENT_FAILURE, READY, SHUTDOWN]);
    expect(await channel.watchState(READY)).toBe(true);
  });

  it('waitForReady() on the channel connects and resolves when READY, or rejects at its deadline', async () => {
    const port = await freePort();
    const { channel } = channelTo(port, { initialBackoffMs: 50, maxBackoffMs: 100 });
    await expectGrpcError(channel.waitForReady(Date.now() + 300), Status.DEADLINE_EXCEEDED);
    await startServer(port);
    await channel.waitForReady(Date.now() + 5000);
    expect(channel.getState()).toBe(READY);
  });

  it('a lost connection takes a READY channel back to IDLE; the next call reconnects', async () => {
    const { server, port } = await startServer();
    const { channel, client } = channelTo(port);
    await client.unary({});
    expect(channel.getState()).toBe(READY);
    server.forceShutdown();
    await untilState(channel, IDLE);
    await startServer(port);
    await client.unary({});
    expect(channel.getState()).toBe(READY);
  });
});

describe('idle timeout', () => {
  it('drops the connection after idleTimeoutMs without calls and goes IDLE; the next call reconnects', async () => {
    const { port } = await startServer();
    const proxy = await H2Proxy.start(port);
    cleanups.push(() => proxy.close());
    const { channel, client } = channelTo(proxy.port, { idleTimeoutMs: 300 });
    // A call longer than the timeout keeps the connection.
    await client.unary({ sleepMs: 600 });
    expect(channel.getState()).toBe(READY);
    await untilState(channel, IDLE, 5000);
    await sleep(100);
    expect(proxy.connections[0].closed).toBe(true);
    await client.unary({});
    expect(channel.getState()).toBe(READY);
    expect(proxy.connections).toHaveLength(2);
  });

  it('stays connected without an idle timeout (idleTimeoutMs: 0), and rejects a negative one', async () => {
    const { port } = await startServer();
    const { channel, client } = channelTo(port, { idleTimeoutMs: 0 });
    await client.unary({});
    await sleep(400);
    expect(channel.getState()).toBe(READY);
    expect(() => new Channel(`127.0.0.1:${port}`, { idleTimeoutMs: -1 })).toThrow(/idleTimeoutMs/);
  });
});
