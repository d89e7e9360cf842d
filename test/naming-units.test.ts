import { describe, expect, it } from 'vitest';
import { Status } from '../src/wire/status.js';
import { chooseServiceConfig } from '../src/transport/dns-resolver.js';
import { ConnectivityState } from '../src/transport/connectivity.js';
import { loadBalancerFactory, type BalancerHelper, type Picker, type SubchannelHandle } from '../src/transport/load-balancer.js';
import { registerResolver, resolverFor, type ResolverUpdate } from '../src/transport/naming.js';
import '../src/transport/pick-first.js';
import '../src/transport/round-robin.js';
import { methodConfigFor, parseServiceConfig } from '../src/transport/service-config.js';
import { formatAddress, type Address } from '../src/transport/target-uri.js';
import { RetryThrottle, parsePushback, retryDelayMs } from '../src/client/retry-throttle.js';

function resolveOnce(target: string): Promise<ResolverUpdate> {
  const { uri, factory } = resolverFor(target);
  return new Promise((resolve, reject) => {
    const r = factory.create(uri, { onUpdate: (u) => { r.close(); resolve(u); }, onError: reject }, {});
  });
}

describe('target URIs (gRPC naming doc)', () => {
  it.each([
    ['localhost:50051', 'dns', '', 'localhost:50051'],
    ['127.0.0.1:50051', 'dns', '', '127.0.0.1:50051'],
    ['[::1]:50051', 'dns', '', '[::1]:50051'],
    ['my-svc.ns.svc.cluster.local:8080', 'dns', '', 'my-svc.ns.svc.cluster.local:8080'],
    ['dns:///example.com:443', 'dns', '', 'example.com:443'],
    ['dns://8.8.8.8:53/example.com', 'dns', '8.8.8.8:53', 'example.com'],
    ['DNS:example.com', 'dns', '', 'example.com'],
    ['unix:/tmp/s.sock', 'unix', '', '/tmp/s.sock'],
    ['unix:///tmp/s.sock', 'unix', '', '/tmp/s.sock'],
    ['unix:relative.sock', 'unix', '', 'relative.sock'],
    ['unix-abstract:name', 'unix-abstract', '', 'name'],
    ['ipv4:10.0.0.1:1,10.0.0.2', 'ipv4', '', '10.0.0.1:1,10.0.0.2'],
  ])('%s', (target, scheme, authority, endpoint) => {
    expect(resolverFor(target).uri).toMatchObject({ scheme, authority, endpoint });
  });

  it('rejects an unknown scheme clearly, naming the known ones', () => {
    expect(() => resolverFor('consul://agent/my-service')).toThrow(/unknown scheme "consul" \(known: .*dns.*ipv4/);
    expect(() => resolverFor('')).toThrow(/invalid target ""/);
  });

  it('resolves address lists and sockets without DNS, and rejects bad entries', async () => {
    expect((await resolveOnce('ipv4:127.0.0.1:1,127.0.0.2')).addresses).toEqual([
      { kind: 'tcp', host: '127.0.0.1', port: 1 },
      { kind: 'tcp', host: '127.0.0.2', port: 443 },
    ]);
    expect((await resolveOnce('ipv6:[::1]:7')).addresses).toEqual([{ kind: 'tcp', host: '::1', port: 7 }]);
    expect((await resolveOnce('unix-abstract:sock')).addresses).toEqual([{ kind: 'unix', path: '\0sock' }]);
    await expect(resolveOnce('ipv4:::1')).rejects.toThrow(/is not an IPv4 address|invalid address/);
    await expect(resolveOnce('ipv4:127.0.0.1:99999')).rejects.toThrow(/invalid address/);
  });

  it('resolves DNS names to every address and IP literals without a query', async () => {
    const local = await resolveOnce('localhost:7');
    expect(local.addresses.length).toBeGreaterThan(0);
    for (const a of local.addresses) expect(a).toMatchObject({ kind: 'tcp', port: 7 });
    expect((await resolveOnce('127.0.0.3:9')).addresses).toEqual([{ kind: 'tcp', host: '127.0.0.3', port: 9 }]);
    await expect(resolveOnce('no-such-host.invalid:1')).rejects.toThrow(/DNS resolution of "no-such-host.invalid" failed/);
  });

  it('lets a plug-in resolver own a scheme, as a registry-based discovery would', async () => {
    registerResolver('static-test', {
      create: (uri, listener) => {
        queueMicrotask(() => listener.onUpdate({ addresses: uri.endpoint.split(',').map((p) => ({ kind: 'tcp', host: '127.0.0.1', port: Number(p) })) }));
        return { resolveNow() {}, close() {} };
      },
      defaultAuthority: () => 'static',
    });
    expect((await resolveOnce('static-test:1,2')).addresses.map((a) => formatAddress(a))).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
  });
});

describe('service config', () => {
  const config = parseServiceConfig(JSON.stringify({
    loadBalancingConfig: [{ round_robin: {} }, { pick_first: {} }],
    methodConfig: [
      { name: [{ service: 'pkg.Svc', method: 'Get' }], timeout: '1.5s', waitForReady: true, maxRequestMessageBytes: '1024',
        retryPolicy: { maxAttempts: 9, initialBackoff: '0.1s', maxBackoff: '1s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE', 10] } },
      { name: [{ service: 'pkg.Svc' }], hedgingPolicy: { maxAttempts: 3, hedgingDelay: '0.05s', nonFatalStatusCodes: ['ABORTED'] } },
      { name: [{}], timeout: '10s' },
    ],
    retryThrottling: { maxTokens: 10, tokenRatio: 0.12345 },
  }));

  it('parses policies, limits and method names, capping maxAttempts at 5', () => {
    expect(config.loadBalancing.map((c) => c.name)).toEqual(['round_robin', 'pick_first']);
    const get = methodConfigFor(config, '/pkg.Svc/Get')!;
    expect(get).toMatchObject({ timeoutMs: 1500, waitForReady: true, maxRequestMessageBytes: 1024 });
    expect(get.retryPolicy).toMatchObject({ maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 1000, backoffMultiplier: 2 });
    expect([...get.retryPolicy!.retryableStatusCodes]).toEqual([Status.UNAVAILABLE, Status.ABORTED]);
    expect(methodConfigFor(config, '/pkg.Svc/Put')!.hedgingPolicy).toMatchObject({ maxAttempts: 3, hedgingDelayMs: 50 });
    expect(methodConfigFor(config, '/other.Svc/X')).toEqual({ timeoutMs: 10_000 });
    expect(config.retryThrottling).toEqual({ maxTokens: 10, tokenRatio: 0.123 });
  });

  it.each([
    ['{', /invalid service config: JSON/],
    ['{"methodConfig":[{"name":[{"service":"a"}],"timeout":"1m"}]}', /methodConfig\[0\]\.timeout: "1m" is not a duration/],
    ['{"methodConfig":[{"name":[{"service":"a"}],"retryPolicy":{"maxAttempts":1,"initialBackoff":"1s","maxBackoff":"1s","backoffMultiplier":2,"retryableStatusCodes":[14]}}]}', /maxAttempts: must be at least 2/],
    ['{"methodConfig":[{"name":[{"service":"a"}],"retryPolicy":{"maxAttempts":2,"initialBackoff":"1s","maxBackoff":"1s","backoffMultiplier":2,"retryableStatusCodes":[]}}]}', /retryableStatusCodes: must not be empty/],
    ['{"methodConfig":[{"name":[{"service":"a"}],"retryPolicy":{"maxAttempts":2,"initialBackoff":"1s","maxBackoff":"1s","backoffMultiplier":2,"retryableStatusCodes":["NOPE"]}}]}', /"NOPE" is not a status code/],
    ['{"methodConfig":[{"name":[{"service":"a"}],"retryPolicy":{},"hedgingPolicy":{}}]}', /mutually exclusive/],
    ['{"methodConfig":[{"name":[{"service":"a"},{"service":"a"}]}]}', /duplicate name "\/a\/"/],
    ['{"methodConfig":[{"name":[{"method":"m"}]}]}', /a method name needs a service name/],
    ['{"retryThrottling":{"maxTokens":1001,"tokenRatio":1}}', /maxTokens: must be at most 1000/],
    ['{"loadBalancingConfig":[{"a":{},"b":{}}]}', /exactly one policy name/],
  ])('rejects %s', (json, message) => {
    expect(() => parseServiceConfig(json)).toThrow(message);
  });

  it('picks the TXT record choice for this client by language, hostname and percentage', () => {
    const choices = [
      { clientLanguage: ['go'], serviceConfig: { loadBalancingPolicy: 'go_only' } },
      { percentage: 0, serviceConfig: { loadBalancingPolicy: 'never' } },
      { clientHostname: ['other-host'], serviceConfig: { loadBalancingPolicy: 'elsewhere' } },
      { clientLanguage: ['NODE'], serviceConfig: { loadBalancingPolicy: 'round_robin' } },
    ];
    expect(chooseServiceConfig(choices, () => 0.5, 'this-host')).toEqual({ loadBalancingPolicy: 'round_robin' });
    expect(() => chooseServiceConfig({}, () => 0)).toThrow(/expected a JSON array/);
  });
});

describe('retries (gRFC A6)', () => {
  it('throttles retries once half the tokens are spent, and earns them back on success', () => {
    const t = new RetryThrottle({ maxTokens: 4, tokenRatio: 0.5 });
    expect(t.allowsRetry).toBe(true);
    t.recordFailure();
    expect(t.allowsRetry).toBe(true); // 3 > 2
    t.recordFailure();
    expect(t.allowsRetry).toBe(false); // 2 is not > 2
    t.recordSuccess();
    expect(t.allowsRetry).toBe(true); // 2.5
    for (let i = 0; i < 100; i++) t.recordFailure();
    for (let i = 0; i < 100; i++) t.recordSuccess();
    expect(t.allowsRetry).toBe(true);
  });

  it('draws backoff uniformly below an exponentially growing, capped ceiling', () => {
    const policy = { initialBackoffMs: 100, maxBackoffMs: 350, backoffMultiplier: 2 };
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, policy, () => 0.999999))).toEqual([100, 200, 350, 350].map((c) => c * 0.999999));
    expect(retryDelayMs(3, policy, () => 0)).toBe(0);
  });

  it('reads grpc-retry-pushback-ms', () => {
    expect(parsePushback(undefined)).toBeUndefined();
    expect(parsePushback('250')).toBe(250);
    expect(parsePushback('-1')).toBe('stop');
    expect(parsePushback('soon')).toBe('stop');
  });
});

/** A subchannel whose state the test drives. */
class FakeSubchannel implements SubchannelHandle {
  state: ConnectivityState = ConnectivityState.IDLE;
  lastFailure: Error | undefined;
  connects = 0;
  released = false;
  private listeners = new Set<(s: ConnectivityState) => void>();
  constructor(readonly address: Address) {}
  connect(): void {
    this.connects++;
    if (this.state === ConnectivityState.IDLE) this.set(ConnectivityState.CONNECTING);
  }
  watch(listener: (s: ConnectivityState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  release(): void {
    this.released = true;
  }
  set(state: ConnectivityState, failure?: string): void {
    this.state = state;
    if (failure) this.lastFailure = new Error(failure);
    for (const l of [...this.listeners]) l(state);
  }
}

function harness(policy: string) {
  const subchannels = new Map<string, FakeSubchannel>();
  const states: ConnectivityState[] = [];
  let picker: Picker | undefined;
  let resolutions = 0;
  const helper: BalancerHelper = {
    createSubchannel(address) {
      const s = new FakeSubchannel(address);
      subchannels.set(formatAddress(address), s);
      return s;
    },
    update(state, p) {
      states.push(state);
      picker = p;
    },
    requestResolution: () => resolutions++,
  };
  const lb = loadBalancerFactory(policy)!(helper);
  const addrs = (...ports: number[]): Address[] => ports.map((port) => ({ kind: 'tcp', host: '127.0.0.1', port }));
  const sub = (port: number) => subchannels.get(`127.0.0.1:${port}`)!;
  const pickPort = () => {
    const p = picker!.pick();
    return p.kind === 'ready' ? (p.subchannel.address as { port: number }).port : p.kind;
  };
  return { lb, addrs, sub, pickPort, states, resolutions: () => resolutions, picker: () => picker! };
}

describe('pick_first', () => {
  it('connects lazily, in address order, and fails over to the next address', () => {
    const h = harness('pick_first');
    h.lb.updateAddresses(h.addrs(1, 2, 3), {});
    expect(h.sub(1).connects).toBe(0); // IDLE until a call arrives
    h.lb.exitIdle();
    expect(h.sub(1).state).toBe(ConnectivityState.CONNECTING);
    expect(h.pickPort()).toBe('wait');
    h.sub(1).set(ConnectivityState.TRANSIENT_FAILURE, 'refused');
    expect(h.sub(2).state).toBe(ConnectivityState.CONNECTING);
    h.sub(2).set(ConnectivityState.READY);
    expect(h.pickPort()).toBe(2);
    expect(h.sub(1).released && h.sub(3).released).toBe(true);
  });

  it('reports TRANSIENT_FAILURE with the last reason after every address failed, and re-resolves', () => {
    const h = harness('pick_first');
    h.lb.updateAddresses(h.addrs(1, 2), {});
    h.lb.exitIdle();
    h.sub(1).set(ConnectivityState.TRANSIENT_FAILURE, 'refused 1');
    h.sub(2).set(ConnectivityState.TRANSIENT_FAILURE, 'refused 2');
    expect(h.states.at(-1)).toBe(ConnectivityState.TRANSIENT_FAILURE);
    const pick = h.picker().pick();
    expect(pick.kind === 'fail' && pick.error.message).toMatch(/no address could be reached: refused 2/);
    expect(h.resolutions()).toBe(1);
  });

  it('goes IDLE and re-resolves when the chosen connection drops, then follows the new address order', () => {
    const h = harness('pick_first');
    h.lb.updateAddresses(h.addrs(1, 2), {});
    h.lb.exitIdle();
    h.sub(1).set(ConnectivityState.READY);
    h.sub(1).set(ConnectivityState.IDLE);
    expect(h.states.at(-1)).toBe(ConnectivityState.IDLE);
    expect(h.resolutions()).toBe(1);
    h.lb.updateAddresses(h.addrs(3, 1), {});
    h.lb.exitIdle();
    expect(h.sub(3).state).toBe(ConnectivityState.CONNECTING);
  });
});

describe('round_robin', () => {
  it('spreads picks evenly over READY subchannels and skips failed ones', () => {
    const h = harness('round_robin');
    h.lb.updateAddresses(h.addrs(1, 2, 3), {});
    expect(h.pickPort()).toBe('wait');
    for (const p of [1, 2, 3]) h.sub(p).set(ConnectivityState.READY);
    const counts = new Map<unknown, number>();
    for (let i = 0; i < 300; i++) {
      const port = h.pickPort();
      counts.set(port, (counts.get(port) ?? 0) + 1);
    }
    expect([...counts.values()]).toEqual([100, 100, 100]);
    h.sub(2).set(ConnectivityState.TRANSIENT_FAILURE, 'gone');
    expect(h.resolutions()).toBe(1);
    expect(h.sub(2).connects).toBe(2); // reconnect requested (after its backoff)
    const after = new Set(Array.from({ length: 10 }, () => h.pickPort()));
    expect(after).toEqual(new Set([1, 3]));
  });

  it('keeps existing subchannels across updates and drops removed ones', () => {
    const h = harness('round_robin');
    h.lb.updateAddresses(h.addrs(1, 2), {});
    h.sub(1).set(ConnectivityState.READY);
    const first = h.sub(1);
    h.lb.updateAddresses(h.addrs(1, 3), {});
    expect(h.sub(1)).toBe(first);
    expect(h.sub(2).released).toBe(true);
    expect(h.states.at(-1)).toBe(ConnectivityState.READY);
  });

  it('is TRANSIENT_FAILURE only when every subchannel failed', () => {
    const h = harness('round_robin');
    h.lb.updateAddresses(h.addrs(1, 2), {});
    h.sub(1).set(ConnectivityState.TRANSIENT_FAILURE, 'a');
    expect(h.states.at(-1)).not.toBe(ConnectivityState.TRANSIENT_FAILURE);
    h.sub(2).state = ConnectivityState.TRANSIENT_FAILURE;
    h.sub(2).lastFailure = new Error('b');
    h.sub(1).set(ConnectivityState.TRANSIENT_FAILURE, 'a');
    expect(h.states.at(-1)).toBe(ConnectivityState.TRANSIENT_FAILURE);
  });
});
