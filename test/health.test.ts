import { afterEach, describe, expect, it } from 'vitest';
import { Channel, HealthService, Server, Status, createClient, type Client } from '../src/index.js';
import { healthServiceDefinition } from '../src/health/health-proto.js';
import { expectGrpcError, probeImplementation, probeService, Observations } from './support/probe.js';
import { runTool } from './support/tools.js';

const SERVING = 1;
const NOT_SERVING = 2;
const SERVICE_UNKNOWN = 3;

interface Setup {
  server: Server;
  health: HealthService;
  address: string;
  client: Client;
  channel: Channel;
}

let open: Setup[] = [];
afterEach(() => {
  for (const s of open) {
    s.channel.close();
    s.server.forceShutdown();
  }
  open = [];
});

async function start(health = new HealthService()): Promise<Setup> {
  const server = new Server();
  server.addService(probeService, probeImplementation(new Observations()));
  health.addTo(server);
  const port = await server.listen('127.0.0.1:0');
  const address = `127.0.0.1:${port}`;
  const channel = new Channel(address);
  const setup = { server, health, address, channel, client: createClient(healthServiceDefinition(), channel) };
  open.push(setup);
  return setup;
}

describe('grpc.health.v1.Health with our client', () => {
  it('Check reports the status set for a service and NOT_FOUND for an unknown one', async () => {
    const s = await start();
    s.health.setStatus('e2e.Probe', 'NOT_SERVING');
    expect(await s.client.check({ service: '' })).toMatchObject({ status: SERVING });
    expect(await s.client.check({ service: 'e2e.Probe' })).toMatchObject({ status: NOT_SERVING });
    const err = await expectGrpcError(s.client.check({ service: 'no.Such' }), Status.NOT_FOUND);
    expect(err.details).toContain('no.Such');
    s.health.clearStatus('e2e.Probe');
    await expectGrpcError(s.client.check({ service: 'e2e.Probe' }), Status.NOT_FOUND);
  });

  it('Watch of an unknown service sends SERVICE_UNKNOWN, then each change', async () => {
    const s = await start();
    const watch = s.client.watch({ service: 'later.Service' })[Symbol.asyncIterator]();
    expect((await watch.next()).value).toMatchObject({ status: SERVICE_UNKNOWN });
    s.health.setStatus('later.Service', 'SERVING');
    expect((await watch.next()).value).toMatchObject({ status: SERVING });
    s.health.setStatus('later.Service', 'SERVING'); // no change: nothing sent
    s.health.setStatus('later.Service', 'NOT_SERVING');
    expect((await watch.next()).value).toMatchObject({ status: NOT_SERVING });
    await watch.return?.();
  });

  it('server shutdown sends NOT_SERVING to watchers, ends their streams and does not wait out the grace period', async () => {
    const s = await start(new HealthService({ '': 'SERVING', 'e2e.Probe': 'SERVING' }));
    const whole = s.client.watch({ service: '' })[Symbol.asyncIterator]();
    const probe = s.client.watch({ service: 'e2e.Probe' })[Symbol.asyncIterator]();
    expect((await whole.next()).value).toMatchObject({ status: SERVING });
    expect((await probe.next()).value).toMatchObject({ status: SERVING });
    const started = Date.now();
    const shutdown = s.server.shutdown(60_000);
    expect((await whole.next()).value).toMatchObject({ status: NOT_SERVING });
    expect((await probe.next()).value).toMatchObject({ status: NOT_SERVING });
    expect((await whole.next()).done).toBe(true);
    expect((await probe.next()).done).toBe(true);
    await shutdown;
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(s.health.getStatus('')).toBe('NOT_SERVING');
    s.health.setStatus('', 'SERVING'); // ignored once shut down
    expect(s.health.getStatus('')).toBe('NOT_SERVING');
  });

  it('setStatus rejects a status name it does not know', () => {
    const health = new HealthService();
    expect(() => health.setStatus('x', 'SERVICE_UNKNOWN' as never)).toThrow(/SERVING, NOT_SERVING or UNKNOWN/);
    expect(() => health.setStatus('x', 'serving' as never)).toThrow(TypeError);
  });
});

describe('grpc_health_probe (real binary)', () => {
  it('passes against SERVING and fails against NOT_SERVING and an unknown service', { timeout: 60_000 }, async () => {
    const s = await start();
    s.health.setStatus('e2e.Probe', 'SERVING');
    const ok = await runTool('grpc_health_probe', [`-addr=${s.address}`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout + ok.stderr).toContain('SERVING');
    const okService = await runTool('grpc_health_probe', [`-addr=${s.address}`, '-service=e2e.Probe']);
    expect(okService.code, okService.stderr).toBe(0);

    s.health.setStatus('e2e.Probe', 'NOT_SERVING');
    const down = await runTool('grpc_health_probe', [`-addr=${s.address}`, '-service=e2e.Probe']);
    expect(down.code).not.toBe(0);
    expect(down.stdout + down.stderr).toContain('NOT_SERVING');

    const unknown = await runTool('grpc_health_probe', [`-addr=${s.address}`, '-service=no.Such']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stdout + unknown.stderr).toMatch(/NotFound|not found|unknown/i);
  });
});
