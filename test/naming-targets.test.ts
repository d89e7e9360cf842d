import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, ConnectivityState, Server, Status, createClient, type ChannelOptions, type Client } from '../src/index.js';
import { untilState } from './support/connectivity.js';
import { TestDnsServer } from './support/dns-server.js';
import { startFleet, tagCalls, taggedCalls, type Replica } from './support/fleet.js';
import { callMany, servedDuring, until } from './support/lb-helpers.js';
import { Observations, expectGrpcError, probeImplementation, probeService } from './support/probe.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function connect(target: string, options: ChannelOptions = {}): { channel: Channel; client: Client } {
  const channel = new Channel(target, { initialBackoffMs: 100, maxBackoffMs: 500, interceptors: [tagCalls], ...options });
  cleanups.push(() => channel.close());
  return { channel, client: createClient(probeService, channel) };
}

async function serve(address: string): Promise<{ port: number; seen: Observations }> {
  const seen = new Observations();
  const server = new Server();
  server.addService(probeService, probeImplementation(seen));
  const port = await server.listen(address);
  cleanups.push(() => server.forceShutdown());
  return { port, seen };
}

/** Three replicas on 127.0.0.1, .2 and .3 sharing one port, as behind a DNS name. */
async function fleetOnOnePort(): Promise<Replica[]> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const [first] = await startFleet(['127.0.0.1']);
    try {
      const rest = await Promise.all(['127.0.0.2', '127.0.0.3'].map(async (host) => {
        const [r] = await startFleet([host]);
        r.kill();
        await r.restartOn(first.port);
        return r;
      }));
      const all = [first, ...rest];
      cleanups.push(() => all.forEach((r) => r.kill()));
      return all;
    } catch {
      first.kill(); // the port was taken on another address: try another
    }
  }
  throw new Error('no port free on 127.0.0.1, .2 and .3 at once');
}

async function dnsServer(): Promise<{ dns: TestDnsServer; port: number }> {
  const dns = new TestDnsServer();
  const port = await dns.start();
  cleanups.push(() => dns.close());
  return { dns, port };
}

describe('channel targets', () => {
  it('dials host:port, dns:///, ipv4:, ipv6:, unix: (relative, absolute, ///) and unix-abstract:', async () => {
    const tcp = await serve('127.0.0.1:0');
    const v6 = await serve('[::1]:0');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrpc-naming-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const sock = path.join(dir, 's.sock');
    const unix = await serve(`unix:${sock}`);
    const abstractName = `tsgrpc-test-${process.pid}-${Date.now()}`;
    const abstract = await serve(`unix:\0${abstractName}`);
    const targets: [string, Observations][] = [
      [`127.0.0.1:${tcp.port}`, tcp.seen],
      [`localhost:${tcp.port}`, tcp.seen],
      [`dns:///127.0.0.1:${tcp.port}`, tcp.seen],
      [`ipv4:127.0.0.1:${tcp.port}`, tcp.seen],
      [`ipv6:[::1]:${v6.port}`, v6.seen],
      [`[::1]:${v6.port}`, v6.seen],
      [`unix:${sock}`, unix.seen],
      [`unix://${sock}`, unix.seen],
      [`unix:${path.relative(process.cwd(), sock)}`, unix.seen],
      [`unix-abstract:${abstractName}`, abstract.seen],
    ];
    for (const [target, seen] of targets) {
      const before = taggedCalls(seen.contexts);
      await connect(target).client.unary({}, { timeout: 10_000 });
      expect(taggedCalls(seen.contexts), target).toBe(before + 1);
    }
  });

  it('rejects unknown schemes and malformed targets with a clear error', async () => {
    expect(() => new Channel('consul://agent/service')).toThrow(/unknown scheme "consul" \(known: .*dns.*ipv4.*unix/);
    expect(() => new Channel('')).toThrow(/invalid target ""/);
    // Address lists are checked when resolved: the call says why.
    const bad = connect('ipv4:::1');
    await expect(bad.client.unary({}, { timeout: 5000 })).rejects.toMatchObject({ code: Status.UNAVAILABLE, details: expect.stringMatching(/not an IPv4 address|invalid address/) });
  });
});

describe('DNS resolution (a DNS server on 127.0.0.1)', () => {
  it('uses every A record, and the TXT service config only when enabled', async () => {
    const replicas = await fleetOnOnePort();
    const { dns, port: dnsPort } = await dnsServer();
    dns.records.set('replicas.test', { A: ['127.0.0.1', '127.0.0.2', '127.0.0.3'] });
    const config = { serviceConfig: { loadBalancingConfig: [{ round_robin: {} }] } };
    dns.records.set('_grpc_config.replicas.test', { TXT: [`grpc_config=${JSON.stringify([config])}`] });
    const target = `dns://127.0.0.1:${dnsPort}/replicas.test:${replicas[0].port}`;

    const plain = connect(target);
    expect(await servedDuring(replicas, () => callMany(plain.client, 30, 3))).toEqual([30, 0, 0]); // pick_first, first record
    expect(dns.queriesFor('_grpc_config.replicas.test', 'TXT')).toEqual([]);

    const configured = connect(target, { serviceConfigFromDns: true });
    await until(() => replicas.every((r) => r.calls() > 0), 'round_robin reached every replica', 10_000, () => callMany(configured.client, 3, 3));
    expect(dns.queriesFor('_grpc_config.replicas.test', 'TXT').length).toBeGreaterThan(0);
    const served = await servedDuring(replicas, () => callMany(configured.client, 300, 10, { waitForReady: true }));
    expect(served).toEqual([100, 100, 100]);
  });

  it('re-resolves when a connection fails, no more often than the minimum interval, and follows the new records', async () => {
    const replicas = await fleetOnOnePort();
    const { dns, port: dnsPort } = await dnsServer();
    dns.records.set('svc.test', { A: ['127.0.0.1', '127.0.0.2'] });
    const { channel, client } = connect(`dns://127.0.0.1:${dnsPort}/svc.test:${replicas[0].port}`, { dnsMinResolutionIntervalMs: 1000 });
    expect(await servedDuring(replicas, () => callMany(client, 10, 1))).toEqual([10, 0, 0]);
    expect(dns.queriesFor('svc.test', 'A')).toHaveLength(1);
    // The first address goes away and the name now points at .3 only.
    dns.records.set('svc.test', { A: ['127.0.0.3'] });
    replicas[0].kill();
    // (Until transparent retry lands, a call racing the kill can meet REFUSED_STREAM: wait until the client noticed.)
    await untilState(channel, ConnectivityState.IDLE);
    // Calls fail over to .2 at once, and move to .3 when the next resolution (held back by the minimum interval) arrives.
    const failures: unknown[] = [];
    await until(() => replicas[2].calls() > 0, 'calls reached the new address', 10_000, async () => {
      failures.push(...(await callMany(client, 1, 1, { waitForReady: true })));
      await new Promise((r) => setTimeout(r, 5));
    });
    expect(failures).toEqual([]);
    expect(await servedDuring(replicas, () => callMany(client, 20, 2))).toEqual([0, 0, 20]);
    const times = dns.queriesFor('svc.test', 'A').map((q) => q.at);
    expect(times.length).toBeGreaterThanOrEqual(2);
    // Timers fire late, never early; but these are arrival times at the DNS server, and the first query may
    // have been delayed on its way more than the next: allow for that, well below the 1 s interval.
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(700);
  });

  it('an IP literal is dialed without any query, even with TXT service configs enabled', async () => {
    const [replica] = await startFleet(['127.0.0.2']);
    cleanups.push(() => replica.kill());
    const { dns, port: dnsPort } = await dnsServer();
    const { client } = connect(`dns://127.0.0.1:${dnsPort}/127.0.0.2:${replica.port}`, { serviceConfigFromDns: true });
    await client.unary({}, { timeout: 10_000 });
    expect(replica.calls()).toBe(1);
    expect(dns.queries).toEqual([]);
  });

  it('a name with no records fails fast calls with the DNS error', async () => {
    const { port: dnsPort } = await dnsServer();
    const { client } = connect(`dns://127.0.0.1:${dnsPort}/missing.test:443`);
    const err = await expectGrpcError(client.unary({}, { timeout: 5000 }), Status.UNAVAILABLE);
    expect(err.details).toMatch(/DNS resolution of "missing.test" failed/);
  });
});
