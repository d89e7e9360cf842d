// Delays beyond Node's timer limit (2^31-1 ms, and Infinity) mean "never": Node would run such a
// timer after 1 ms instead.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, ConnectivityState, Server, createClient, encodeFrame, type ServerOptions } from '../src/index.js';
import { Observations, probeImplementation, probeService, type Res } from './support/probe.js';
import { RawH2Client, grpcRequestHeaders } from './support/raw-frames.js';
import { timerUnlessNever } from '../src/util/timers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const frame = (msg: object) => Buffer.concat(encodeFrame(probeService.methods.Unary.serializeRequest(msg)));

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function start(options: ServerOptions = {}): Promise<{ server: Server; port: number }> {
  const server = new Server(options);
  cleanups.push(() => server.forceShutdown());
  server.addService(probeService, probeImplementation(new Observations()));
  return { server, port: await server.listen('127.0.0.1:0') };
}

/** A client that resets a call and then never answers the server's liveness PING: is the connection closed? */
async function closedAfterSilentReset(port: number): Promise<boolean> {
  const client = await RawH2Client.connect(port, { autoReply: false });
  cleanups.push(() => client.socket.destroy());
  const id = client.newStreamId();
  client.write(client.headersFrame(id, grpcRequestHeaders('/e2e.Probe/ServerStream')));
  client.write(client.dataFrame(id, frame({ count: 100, sleepMs: 100 }), true));
  await sleep(100);
  client.write(client.rstFrame(id, 8));
  return Promise.race([client.closed.then(() => true), sleep(1000).then(() => false)]);
}

describe('timeouts beyond the timer limit', () => {
  it('timerUnlessNever arms nothing for Infinity, NaN or 2^31 ms, and fires for shorter delays', async () => {
    for (const never of [Infinity, NaN, 2 ** 31]) expect(timerUnlessNever(() => {}, never)).toBeUndefined();
    let fired = false;
    const timer = timerUnlessNever(() => (fired = true), 5);
    expect(timer).toBeDefined();
    await sleep(50);
    expect(fired).toBe(true);
  });

  it('server keepaliveTimeoutMs: Infinity does not close a connection after a client cancel', async () => {
    const finite = await start({ keepaliveTimeoutMs: 200 });
    expect(await closedAfterSilentReset(finite.port)).toBe(true); // the liveness probe is in play
    const infinite = await start({ keepaliveTimeoutMs: Infinity });
    expect(await closedAfterSilentReset(infinite.port)).toBe(false);
  });

  it('Channel connectTimeoutMs: Infinity connects to a server that takes a while to answer', async () => {
    const { port } = await start();
    // A proxy that holds each connection for 200 ms before relaying it: SETTINGS come late.
    const proxy = net.createServer((inbound) => {
      inbound.pause();
      setTimeout(() => {
        const outbound = net.connect(port, '127.0.0.1');
        inbound.pipe(outbound).pipe(inbound);
        inbound.on('error', () => outbound.destroy());
        outbound.on('error', () => inbound.destroy());
        inbound.resume();
      }, 200);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    cleanups.push(() => proxy.close());
    const channel = new Channel(`127.0.0.1:${(proxy.address() as net.AddressInfo).port}`, { connectTimeoutMs: Infinity });
    cleanups.push(() => channel.close());
    const res = (await createClient(probeService, channel).unary({ payload: Buffer.from('late') })) as Res;
    expect(Buffer.from(res.payload).toString()).toBe('late');
  });

  it('Server.shutdown(Infinity) lets a call in flight finish instead of cutting it', async () => {
    const { server, port } = await start();
    const channel = new Channel(`127.0.0.1:${port}`);
    cleanups.push(() => channel.close());
    const client = createClient(probeService, channel);
    await client.unary({});
    const call = client.unary({ sleepMs: 300, payload: Buffer.from('done') }) as Promise<Res>;
    await sleep(50);
    const closed = server.shutdown(Infinity);
    expect(Buffer.from((await call).payload).toString()).toBe('done');
    await closed;
  });
});

describe('connectivity waits without a deadline', () => {
  async function freePort(): Promise<number> {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
    return port;
  }

  for (const [what, deadline] of [['Infinity', Infinity], ['40 days away', Date.now() + 40 * 86_400_000]] as const) {
    it(`channel.waitForReady(${what}) waits for a server that comes up later`, async () => {
      const port = await freePort();
      const channel = new Channel(`127.0.0.1:${port}`, { initialBackoffMs: 100, maxBackoffMs: 200 });
      cleanups.push(() => channel.close());
      let outcome: unknown = 'pending';
      const ready = channel.waitForReady(deadline).then(() => (outcome = 'ready'), (err: unknown) => (outcome = err));
      await sleep(300);
      expect(outcome).toBe('pending');
      const server = new Server();
      cleanups.push(() => server.forceShutdown());
      server.addService(probeService, probeImplementation(new Observations()));
      await server.listen(`127.0.0.1:${port}`);
      await ready;
      expect(outcome).toBe('ready');
    });
  }

  it('watchState(state, Infinity) waits for a change', async () => {
    const channel = new Channel('127.0.0.1:1');
    cleanups.push(() => channel.close());
    let outcome: unknown = 'pending';
    const watched = channel.watchState(ConnectivityState.IDLE, Infinity).then((changed) => (outcome = changed));
    await sleep(100);
    expect(outcome).toBe('pending');
    channel.close();
    await watched;
    expect(outcome).toBe(true);
  });
});
