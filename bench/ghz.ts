// ghz (github.com/bojand/ghz), a third-party Go gRPC load generator, as a
// client against the tsgrpc, grpc-js and grpc-go servers. It sends
// grpc-timeout on every call (its --timeout, 10 s here) and encodes protobuf
// from the .proto itself. Built by `bash tools/build.sh` (pinned in tools/go).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makePayload } from './echo.js';
import type { Measurement } from './load.js';
import { ORDERS_PROTO, sampleOrderJson } from './orders.js';
import { CLIENT_CPU, pinning } from './proc.js';

export const GHZ = fileURLToPath(new URL('../../tools/.cache/bin/ghz', import.meta.url));
const ECHO_PROTO = fileURLToPath(new URL('../../bench/echo.proto', import.meta.url));

export interface GhzScenario {
  id: string;
  title: string;
  proto: string;
  call: string;
  data: () => string;
  concurrency: number;
}

export const GHZ_SCENARIOS: GhzScenario[] = [
  {
    id: 'ghz-unary-100B-c100',
    title: 'ghz, bench.Echo/Unary, 100 B bytes field, c=100',
    proto: ECHO_PROTO,
    call: 'bench.Echo.Unary',
    data: () => JSON.stringify({ data: makePayload(100).toString('base64') }),
    concurrency: 100,
  },
  {
    id: 'ghz-proto-order-c100',
    title: 'ghz, benchmsg.Orders/Echo (protobuf Order), c=100',
    proto: ORDERS_PROTO,
    call: 'benchmsg.Orders.Echo',
    data: sampleOrderJson,
    concurrency: 100,
  },
];

export const hasGhz = () => existsSync(GHZ);

interface GhzReport {
  count: number;
  total: number;
  rps: number;
  latencyDistribution: { percentage: number; latency: number }[] | null;
  statusCodeDistribution: Record<string, number>;
  errorDistribution: Record<string, number> | null;
}

/**
 * One ghz run of `seconds` (-z) over one connection, after a warm-up run
 * when `warmup` > 0; with `fixedCount` (smoke mode) exactly 2 × concurrency
 * calls instead, which complete even on a cold server.
 */
export async function runGhz(s: GhzScenario, port: number, seconds: number, warmup: number, serverCpu?: () => number, fixedCount = false): Promise<Measurement> {
  if (warmup > 0) await ghz(s, port, warmup);
  const c0 = serverCpu?.();
  const m = await ghz(s, port, seconds, fixedCount ? 2 * s.concurrency : undefined);
  if (c0 !== undefined) m.cpuPerCall = ((serverCpu!() - c0) * 1e6) / Math.max(1, m.calls);
  return m;
}

/**
 * When -z runs out, ghz cancels the calls still in flight (at most -c of
 * them) and closes the connection; those calls are not counted as errors.
 */
const END_OF_RUN = /the client connection is closing|transport is closing/;

async function ghz(s: GhzScenario, port: number, seconds: number, calls?: number): Promise<Measurement> {
  const args = [
    '--insecure', '--proto', s.proto, '--call', s.call, '-d', s.data(),
    '--connections', '1', '-c', String(s.concurrency),
    ...(calls ? ['-n', String(calls)] : ['-z', `${Math.max(1, Math.round(seconds * 1000))}ms`]), '--timeout', '10s',
    '-O', 'json', `127.0.0.1:${port}`,
  ];
  // One core, like h2load and the Node clients.
  const [file, argv] = pinning() ? ['taskset', ['-c', CLIENT_CPU, GHZ, ...args]] : [GHZ, args];
  const out = await new Promise<string>((resolve, reject) =>
    execFile(file, argv, { timeout: Math.ceil((seconds + 30) * 1000), maxBuffer: 16 << 20, env: { ...process.env, GOMAXPROCS: '1' } }, (err, stdout, stderr) =>
      err && !stdout ? reject(new Error(`ghz failed: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
  const r = JSON.parse(out) as GhzReport;
  const ok = r.statusCodeDistribution?.OK ?? 0;
  const cancelledAtEnd = Object.entries(r.errorDistribution ?? {}).filter(([e]) => END_OF_RUN.test(e)).reduce((n, [, c]) => n + c, 0);
  const errors = Math.max(r.count - ok - Math.min(cancelledAtEnd, s.concurrency), ok === 0 ? 1 : 0);
  const lat = (p: number) => (r.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? NaN) / 1e6;
  const secs = r.total / 1e9;
  return {
    calls: ok,
    errors,
    firstError: ok === 0 ? 'no call completed' : errors ? Object.keys(r.errorDistribution ?? r.statusCodeDistribution).filter((e) => !END_OF_RUN.test(e)).join('; ').slice(0, 200) : undefined,
    seconds: secs,
    throughput: ok / secs,
    p50: lat(50),
    p99: lat(99),
  };
}
