// What the grpc-js compatibility module costs over the native API, timed in one run:
// unary 100 B at c=100 for native, compat on one side or both, and grpc-js, in rotated
// rounds (bench/rounds.ts) so machine load hits every contender alike. Reports calls/s,
// client CPU per call (measured in the client process) and server CPU per call (the
// server process's CPU over the run, warmup included, per measured call).
// Usage: node dist/bench/compat-overhead.js   (BENCH_ROUNDS, BENCH_SECONDS, BENCH_WARMUP)
import { runClient } from './clients/launch.js';
import type { Measurement } from './load.js';
import { median, runRounds } from './rounds.js';
import { launchServer } from './servers/launch.js';

const SCENARIO = 'unary-100B-c100';
const PAIRS = {
  native: ['tsgrpc', 'tsgrpc'],
  'compat both sides': ['tsgrpc-compat', 'tsgrpc-compat'],
  'compat client': ['tsgrpc', 'tsgrpc-compat'],
  'compat server': ['tsgrpc-compat', 'tsgrpc'],
  'grpc-js': ['grpc-js', 'grpc-js'],
} as const;
type Pair = keyof typeof PAIRS;

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const warmup = Number(process.env.BENCH_WARMUP ?? 0.5);
const serverCpu = new Map<Pair, number[]>();

const results = await runRounds(Object.keys(PAIRS) as Pair[], rounds, async (pair) => {
  const [serverImpl, clientImpl] = PAIRS[pair];
  const server = await launchServer(serverImpl);
  try {
    const before = server.cpuSeconds();
    const out = await runClient(clientImpl, server.port, seconds, warmup, [SCENARIO]);
    const m = out.get(SCENARIO);
    const list = serverCpu.get(pair) ?? [];
    list.push(m && typeof m !== 'string' ? ((server.cpuSeconds() - before) * 1e6) / Math.max(1, m.calls) : NaN);
    serverCpu.set(pair, list);
    return out;
  } finally {
    await server.stop();
  }
});

const rows: string[] = [];
const perRound = (pair: Pair, f: (m: Measurement) => number | undefined) =>
  (results.get(pair)?.get(SCENARIO)?.rounds ?? []).map((m) => (m ? f(m) ?? NaN : NaN));
const clientCpu = (pair: Pair) => perRound(pair, (m) => m.cpuPerCall);
/**
 * Client CPU ÷ server CPU per round. Both processes run through the same moments of machine
 * load, so a pair whose one side is native uses that side as its control: the compat side's
 * cost is this ratio (or its inverse) against the same ratio for native on both sides.
 */
const sideRatio = (pair: Pair) => median(clientCpu(pair).map((c, i) => c / (serverCpu.get(pair)?.[i] ?? NaN)));
const base = { tp: median(perRound('native', (m) => m.throughput)), client: median(clientCpu('native')), server: median(serverCpu.get('native') ?? []), ratio: sideRatio('native') };
const pct = (x: number, b: number) => (Number.isFinite(x) ? `${x >= b ? '+' : ''}${(((x - b) / b) * 100).toFixed(1)} %` : '–');
rows.push('| pair (server / client) | calls/s | vs native | client CPU µs/call | vs native | server CPU µs/call | vs native | client ÷ server CPU | compat side vs native, same run |');
rows.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const pair of Object.keys(PAIRS) as Pair[]) {
  const tp = median(perRound(pair, (m) => m.throughput));
  const client = median(clientCpu(pair));
  const server = median(serverCpu.get(pair) ?? []);
  const ratio = sideRatio(pair);
  const sameRun = pair === 'compat client' ? pct(ratio, base.ratio) : pair === 'compat server' ? pct(1 / ratio, 1 / base.ratio) : '';
  const [s, c] = PAIRS[pair];
  rows.push(`| ${pair} (${s} / ${c}) | ${Math.round(tp).toLocaleString('en-US')} | ${pct(tp, base.tp)} | ${client.toFixed(1)} | ${pct(client, base.client)} | ${server.toFixed(1)} | ${pct(server, base.server)} | ${ratio.toFixed(3)} | ${sameRun} |`);
}
const errors = [...results.values()].flatMap((byId) => byId.get(SCENARIO)?.rounds ?? []).reduce((n, m) => n + (m ? m.errors : 1), 0);
console.log(`${SCENARIO}, ${rounds} rotated rounds of ${seconds} s (medians), ${errors} failed calls or rounds:\n`);
console.log(rows.join('\n'));
