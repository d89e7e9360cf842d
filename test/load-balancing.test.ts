import { afterEach, describe, expect, it } from 'vitest';
import { Channel, ConnectivityState, createClient, type ChannelOptions, type Client } from '../src/index.js';
import { untilState } from './support/connectivity.js';
import { startFleet, tagCalls, type Replica } from './support/fleet.js';
import { callMany, observedPolicy, servedDuring, until } from './support/lb-helpers.js';
import { probeService } from './support/probe.js';
import { StaticNaming } from './support/static-resolver.js';

const { READY, IDLE } = ConnectivityState;
const FAST_RECONNECT = { initialBackoffMs: 100, maxBackoffMs: 500 };
const roundRobin = (name = 'round_robin') => ({ loadBalancingConfig: [{ [name]: {} }] });

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

async function fleet(): Promise<Replica[]> {
  const replicas = await startFleet();
  cleanups.push(() => replicas.forEach((r) => r.kill()));
  return replicas;
}

function connect(target: string, options: ChannelOptions = {}): { channel: Channel; client: Client } {
  const channel = new Channel(target, { ...FAST_RECONNECT, interceptors: [tagCalls], ...options });
  cleanups.push(() => channel.close());
  return { channel, client: createClient(probeService, channel) };
}

const ipv4 = (replicas: Replica[]) => `ipv4:${replicas.map((r) => r.hostPort).join(',')}`;

/** Calls until every listed replica has served one: round_robin connects to all, but not at once. */
async function untilAllServe(client: Client, replicas: Replica[]): Promise<void> {
  const start = replicas.map((r) => r.calls());
  await until(() => replicas.every((r, j) => r.calls() > start[j]), 'every replica served a call', 10_000, () =>
    client.unary({}, { waitForReady: true, timeout: 10_000 }),
  );
}

describe('round_robin', () => {
  it('spreads 3,000 calls evenly over servers on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (±10 %)', async () => {
    const replicas = await fleet();
    const { client } = connect(ipv4(replicas), { serviceConfig: roundRobin() });
    await untilAllServe(client, replicas);
    let failures: unknown[] = [];
    const served = await servedDuring(replicas, async () => (failures = await callMany(client, 3000, 30)));
    expect(failures).toEqual([]);
    for (const n of served) {
      expect(n).toBeGreaterThanOrEqual(900);
      expect(n).toBeLessThanOrEqual(1100);
    }
  });

  it('moves traffic off a killed server with no failed waitForReady call, and back once it returns', async () => {
    const replicas = await fleet();
    const policy = observedPolicy('round_robin');
    const { channel, client } = connect(ipv4(replicas), { serviceConfig: roundRobin(policy.name) });
    await untilAllServe(client, replicas);
    const victim = replicas[1];
    victim.kill();
    await until(() => policy.stateOf(victim.hostPort) !== READY, 'the client saw the killed server go');
    // The killed server is reconnected (and refused) over and over meanwhile: calls never wait on it or fail for it.
    let failures: unknown[] = [];
    const served = await servedDuring(replicas, async () => (failures = await callMany(client, 600, 20, { waitForReady: true })));
    expect(failures).toEqual([]);
    expect(served[1]).toBe(0);
    expect(served[0] + served[2]).toBe(600);
    expect(Math.abs(served[0] - served[2])).toBeLessThanOrEqual(60);
    expect(channel.getState()).toBe(READY);
    // Fail-fast calls too: one failed subchannel out of three is not a failed channel.
    expect(await callMany(client, 60, 5)).toEqual([]);
    await victim.restart();
    await until(() => policy.stateOf(victim.hostPort) === READY, 'round_robin reconnected the restarted server');
    const after = await servedDuring(replicas, () => callMany(client, 300, 10));
    expect(after).toEqual([100, 100, 100]);
  });
  it('with a retry policy, calls in flight on a server killed mid-call are retried on the others: none fails', async () => {
    const replicas = await fleet();
    const retryPolicy = { maxAttempts: 5, initialBackoff: '0.05s', maxBackoff: '0.2s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] };
    const { client } = connect(ipv4(replicas), {
      serviceConfig: { ...roundRobin(), methodConfig: [{ name: [{ service: 'e2e.Probe' }], retryPolicy }] },
    });
    await untilAllServe(client, replicas);
    const victim = replicas[0];
    const before = replicas.map((r) => r.calls());
    // Each call takes 30 ms on the server, so about ten are in flight on the victim when it dies.
    const load = callMany(client, 600, 30, {}, { sleepMs: 30 });
    await until(() => victim.calls() - before[0] >= 50, 'the victim served some of the load');
    victim.kill();
    expect(await load).toEqual([]);
    const served = replicas.map((r, i) => r.calls() - before[i]);
    // Every call succeeded once; the attempts lost with the victim were made again elsewhere.
    expect(served[0] + served[1] + served[2]).toBeGreaterThan(600);
  });
});

describe('pick_first', () => {
  it('uses the first address that connects and fails over in address order', async () => {
    const replicas = await fleet();
    const [, second, third] = replicas;
    replicas[0].kill(); // nothing listens at the first address
    const { channel, client } = connect(ipv4(replicas));
    expect(await servedDuring(replicas, () => callMany(client, 50, 5, { waitForReady: true }))).toEqual([0, 50, 0]);
    expect(channel.getState()).toBe(READY);
    second.kill();
    await untilState(channel, IDLE);
    let failures: unknown[] = [];
    const served = await servedDuring(replicas, async () => (failures = await callMany(client, 50, 5, { waitForReady: true })));
    expect(failures).toEqual([]);
    expect(served).toEqual([0, 0, 50]);
    // Once connected it stays put, even when an earlier address comes back.
    await second.restart();
    expect(await servedDuring(replicas, () => callMany(client, 20, 2))).toEqual([0, 0, 20]);
    expect(third.calls()).toBeGreaterThan(0);
  });
});

describe('resolver plug-ins', () => {
  it('a registered scheme feeds the channel addresses, re-resolution after a GOAWAY, and a new address set', async () => {
    const replicas = await fleet();
    const [a, b, c] = replicas;
    const naming = new StaticNaming();
    naming.set([a.address]);
    const { channel, client } = connect(naming.target('my-service'));
    expect(naming.targets).toEqual([]); // resolution starts with the first call
    expect(await servedDuring(replicas, () => callMany(client, 10, 2))).toEqual([10, 0, 0]);
    expect(naming.targets).toEqual([expect.objectContaining({ scheme: naming.scheme, endpoint: 'my-service' })]);
    // A graceful shutdown (GOAWAY) makes the channel ask the resolver again.
    await a.server.shutdown(1000);
    await untilState(channel, IDLE);
    expect(naming.resolveNowCalls).toBeGreaterThan(0);
    naming.set([b.address, c.address]);
    expect(await servedDuring(replicas, () => callMany(client, 20, 4, { waitForReady: true }))).toEqual([0, 20, 0]);
    // The resolver's service config switches the policy: now every address gets calls.
    naming.set([c.address, b.address], roundRobin());
    await untilAllServe(client, [b, c]);
    const served = await servedDuring(replicas, () => callMany(client, 200, 10));
    expect(served).toEqual([0, 100, 100]);
  });

  it('a resolver error fails fast calls with its reason while waitForReady calls wait for addresses', async () => {
    const replicas = await fleet();
    const naming = new StaticNaming(); // publishes nothing yet: every resolution fails
    const { client } = connect(naming.target());
    await expect(client.unary({}, { timeout: 5000 })).rejects.toMatchObject({ code: 14, details: expect.stringMatching(/no addresses published yet/) });
    const waiting = client.unary({}, { waitForReady: true, timeout: 10_000 });
    naming.set([replicas[2].address]);
    await waiting;
    expect(replicas[2].calls()).toBe(1);
  });

  it('closes its resolver at the idle timeout and starts a new one for the next call', async () => {
    const replicas = await fleet();
    const naming = new StaticNaming();
    naming.set([replicas[0].address]);
    const { channel, client } = connect(naming.target(), { idleTimeoutMs: 300 });
    await client.unary({});
    expect(naming.open).toBe(1);
    await untilState(channel, IDLE);
    expect(naming.open).toBe(0);
    naming.set([replicas[1].address]);
    await client.unary({});
    expect(replicas.map((r) => r.calls())).toEqual([1, 1, 0]);
  });
});
