import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, Status, createClient, type ChannelOptions, type Client } from '../src/index.js';
import { startFleet, tagCalls, type Replica } from './support/fleet.js';
import { expectGrpcError, probeService } from './support/probe.js';
import { StaticNaming } from './support/static-resolver.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

async function replica(): Promise<Replica> {
  const [r] = await startFleet(['127.0.0.1']);
  cleanups.push(() => r.kill());
  return r;
}

function connect(target: string, options: ChannelOptions = {}): Client {
  const channel = new Channel(target, { interceptors: [tagCalls], ...options });
  cleanups.push(() => channel.close());
  return createClient(probeService, channel);
}

const unaryOnly = [{ service: 'e2e.Probe', method: 'Unary' }];

describe('service config methodConfig', () => {
  it('timeout caps the call deadline of the methods it names, and a shorter call timeout still wins', async () => {
    const r = await replica();
    const client = connect(r.hostPort, { serviceConfig: { methodConfig: [{ name: unaryOnly, timeout: '0.3s' }] } });
    const started = Date.now();
    await expectGrpcError(client.unary({ sleepMs: 5000 }), Status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(4000);
    // The server was told the deadline too (grpc-timeout): far sooner than the 5 s the handler wanted.
    const deadline = r.seen.contexts[0].deadline!;
    expect(deadline.getTime() - started).toBeLessThan(3000);
    const own = connect(r.hostPort, { serviceConfig: { methodConfig: [{ name: unaryOnly, timeout: '30s' }] } });
    await expectGrpcError(own.unary({ sleepMs: 5000 }, { timeout: 200 }), Status.DEADLINE_EXCEEDED);
    // Another method of the service is not named: no deadline.
    const stream = client.serverStream({ sleepMs: 500, count: 1 });
    for await (const _ of stream) void _;
    expect(r.seen.contexts.at(-1)!.deadline).toBeUndefined();
  });

  it('waitForReady applies to calls that do not set it', async () => {
    const probe = net.createServer();
    await new Promise<void>((res) => probe.listen(0, '127.0.0.1', res));
    const deadPort = (probe.address() as net.AddressInfo).port;
    await new Promise((res) => probe.close(res));
    const client = connect(`127.0.0.1:${deadPort}`, {
      initialBackoffMs: 100,
      serviceConfig: { methodConfig: [{ name: [{ service: 'e2e.Probe' }], waitForReady: true }] },
    });
    const waited = await expectGrpcError(client.unary({}, { timeout: 800 }), Status.DEADLINE_EXCEEDED);
    expect(waited.details).toMatch(/deadline exceeded/);
    await expectGrpcError(client.unary({}, { timeout: 20_000, waitForReady: false }), Status.UNAVAILABLE);
  });

  it('maxRequestMessageBytes and maxResponseMessageBytes tighten the channel limits', async () => {
    const r = await replica();
    const client = connect(r.hostPort, { serviceConfig: { methodConfig: [{ name: [{}], maxRequestMessageBytes: 100, maxResponseMessageBytes: '100' }] } });
    await client.unary({ payload: Buffer.alloc(50) });
    await expectGrpcError(client.unary({ payload: Buffer.alloc(200) }), Status.RESOURCE_EXHAUSTED);
    expect(r.calls()).toBe(1); // the oversized request never left
    await expectGrpcError(client.unary({ responseSize: 500 }), Status.RESOURCE_EXHAUSTED);
  });

  it('a config from the resolver applies, and replaces the channel default', async () => {
    const r = await replica();
    const naming = new StaticNaming();
    naming.set([r.address], { methodConfig: [{ name: unaryOnly, maxRequestMessageBytes: 10 }] });
    const client = connect(naming.target(), { serviceConfig: { methodConfig: [{ name: unaryOnly, maxRequestMessageBytes: 1000 }] } });
    await client.unary({}); // resolves the target
    await expectGrpcError(client.unary({ payload: Buffer.alloc(100) }), Status.RESOURCE_EXHAUSTED);
  });
});

describe('service config errors', () => {
  it('a bad channel config fails the constructor, naming the field', () => {
    expect(() => new Channel('127.0.0.1:1', { serviceConfig: '{nope' })).toThrow(/invalid service config: JSON/);
    expect(() => new Channel('127.0.0.1:1', { serviceConfig: { methodConfig: [{ name: [{}], timeout: 'soon' }] } })).toThrow(/methodConfig\[0\]\.timeout/);
  });

  it('a bad retry or hedging policy fails the constructor, naming the field', () => {
    const retry = { maxAttempts: 3, initialBackoff: '0.1s', maxBackoff: '1s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] };
    expect(() => new Channel('127.0.0.1:1', { serviceConfig: { methodConfig: [{ name: [{}], retryPolicy: { ...retry, retryableStatusCodes: [] } }] } })).toThrow(/retryPolicy\.retryableStatusCodes: must not be empty/);
    expect(() => new Channel('127.0.0.1:1', { serviceConfig: { methodConfig: [{ name: [{}], retryPolicy: retry, hedgingPolicy: { maxAttempts: 2 } }] } })).toThrow(/mutually exclusive/);
    expect(() => new Channel('127.0.0.1:1', { serviceConfig: { retryThrottling: { maxTokens: 0, tokenRatio: 0.1 } } })).toThrow(/retryThrottling\.maxTokens/);
    expect(() => new Channel('127.0.0.1:1', { perRpcRetryBufferBytes: -1 })).toThrow(/perRpcRetryBufferBytes/);
  });

  it('a config naming only unknown policies fails calls with a clear reason', async () => {
    const r = await replica();
    const client = connect(r.hostPort, { serviceConfig: { loadBalancingConfig: [{ weighted_magic: {} }] } });
    const err = await expectGrpcError(client.unary({}, { timeout: 5000 }), Status.UNAVAILABLE);
    expect(err.details).toMatch(/no load-balancing policy this channel knows \(weighted_magic\)/);
  });
});
