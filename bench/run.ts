// Benchmark entry: `npm run bench` (full, ~4 min) or `node dist/bench/run.js --smoke` (~15 s).
// One scenario at a time, for profiling: see one.ts and prof-summary.ts.
// Env: BENCH_SECONDS, BENCH_WARMUP, BENCH_REPEAT (per scenario: warm-up, then
// best of REPEAT measured runs), BENCH_MEM_CALLS,
// BENCH_MEM_STREAMS, BENCH_MICRO_SECONDS, BENCH_REF_SERVER, BENCH_PIN=0,
// BENCH_GO=0, BENCH_OUT (report path).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PATHS } from './echo.js';
import { ensureH2load, h2loadVersion, runH2load } from './h2load.js';
import { runMemory, type MemRow } from './memory-run.js';
import type { MicroRow } from './micro-frame.js';
import { CLIENT_CPU, pinning, spawnPinned } from './proc.js';
import { runClient } from './clients/launch.js';
import { renderReport, type Row } from './report.js';
import { bestOf } from './load.js';
import { SCENARIOS } from './scenarios.js';
import { CACHE_DIR, buildGoServer, goVersion } from './servers/go.js';
import { launchServer, type RunningServer } from './servers/launch.js';

const smoke = process.argv.includes('--smoke');
const num = (name: string, full: number, quick: number) => Number(process.env[name] ?? (smoke ? quick : full));
const cfg = {
  seconds: num('BENCH_SECONDS', 1, 0.1),
  warmup: num('BENCH_WARMUP', 0.3, 0),
  repeats: num('BENCH_REPEAT', 2, 1),
  memCalls: num('BENCH_MEM_CALLS', 100_000, 2_000),
  memStreams: num('BENCH_MEM_STREAMS', 10_000, 200),
  microSeconds: num('BENCH_MICRO_SECONDS', 0.5, 0.02),
};
const log = (s: string) => console.error(`[bench] ${s}`);
const errText = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0];

function clientsFor(server: string, ref: string): string[] {
  if (server === ref) return ['bare', 'grpc-js', 'tsgrpc'];
  if (server === 'bare') return ['bare'];
  return server === 'go' ? [] : ['grpc-js', 'tsgrpc'];
}

async function runMicro(): Promise<MicroRow[]> {
  const script = fileURLToPath(new URL('./micro-frame.js', import.meta.url));
  const child = spawnPinned(CLIENT_CPU, process.execPath, [script, String(cfg.microSeconds), smoke ? '1' : '16'], false);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`micro-frame exited ${code}`);
  return JSON.parse(out) as MicroRow[];
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadBefore = os.loadavg()[0];
  const hasH2load = ensureH2load();
  const goBin = buildGoServer();
  const servers = ['bare', 'grpc-js', 'tsgrpc', ...(goBin ? ['go'] : [])];
  const ref = process.env.BENCH_REF_SERVER ?? (goBin ? 'go' : 'bare');
  const rows: Row[] = [];
  const notes: string[] = [];
  if (!hasH2load) notes.push('h2load unavailable: server-side isolation rows skipped.');
  if (!goBin) notes.push('Go unavailable: grpc-go reference server skipped.');

  for (const impl of servers) {
    log(`server ${impl}`);
    let server: RunningServer;
    try {
      server = await launchServer(impl);
    } catch (e) {
      for (const s of SCENARIOS) rows.push({ section: 'server', scenario: s.id, client: 'h2load', server: impl, m: null, error: errText(e) });
      continue;
    }
    try {
      for (const s of hasH2load ? SCENARIOS : []) {
        const row: Row = { section: 'server', scenario: s.id, client: 'h2load', server: impl, m: null };
        try {
          row.m = await bestOf(cfg.repeats, () =>
            runH2load(s, server.port, PATHS[s.kind], cfg.seconds, cfg.warmup, CACHE_DIR, () => server.cpuSeconds()),
          );
        } catch (e) {
          row.error = errText(e);
        }
        rows.push(row);
      }
      for (const client of clientsFor(impl, ref)) {
        log(`  client ${client}`);
        const res = await runClient(client, server.port, cfg.seconds, cfg.warmup, cfg.repeats);
        for (const s of SCENARIOS) {
          const r = res.get(s.id)!;
          const base = { scenario: s.id, client, server: impl, m: typeof r === 'string' ? null : r, error: typeof r === 'string' ? r : undefined };
          if (impl === ref) rows.push({ section: 'client', ...base });
          if (impl !== 'go' && (client === impl || client !== 'bare')) rows.push({ section: 'pair', ...base });
        }
      }
    } finally {
      await server.stop();
    }
  }

  const memory: MemRow[] = [];
  for (const impl of ['tsgrpc', 'grpc-js']) {
    log(`memory ${impl}`);
    try {
      memory.push(...(await runMemory(impl, cfg.memCalls, cfg.memStreams, smoke ? 20 : 90)));
    } catch (e) {
      notes.push(`memory ${impl} failed: ${errText(e)}`);
    }
  }
  log('frame micro-benchmark');
  let micro: MicroRow[] = [];
  try {
    micro = await runMicro();
  } catch (e) {
    notes.push(`frame micro-benchmark failed: ${errText(e)}`);
  }

  const env = Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_')).map(([k, v]) => `${k}=${v} `).join('');
  const cmd = process.env.npm_lifecycle_event === 'bench' ? `${env}npm run bench` : `${env}node dist/bench/run.js${smoke ? ' --smoke' : ''}`;
  const grpcJsVersion = createRequire(import.meta.url)('@grpc/grpc-js/package.json').version;
  const header = [
    `Date: ${new Date().toISOString()}; total run time ${((Date.now() - started) / 1000).toFixed(0)} s`,
    `Command: \`${cmd}\`${smoke ? ' (smoke mode: numbers are not meaningful)' : ''}`,
    `Machine: ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}`,
    `Node ${process.version}; ${goVersion() ?? 'Go: not present'}; @grpc/grpc-js ${grpcJsVersion}; ${hasH2load ? h2loadVersion() : 'h2load: not present'}`,
    `Load average (1 min) before/after the run: ${loadBefore.toFixed(2)} / ${os.loadavg()[0].toFixed(2)} (other work on the machine skews results)`,
    `Per scenario: ${cfg.warmup} s warm-up, then best of ${cfg.repeats} × ${cfg.seconds} s measured; one HTTP/2 connection; ` +
      (pinning() ? 'server pinned to CPU 1, load generator (Node client or h2load) to CPU 0; grpc-go with GOMAXPROCS=1.' : 'no CPU pinning.'),
  ];
  notes.push(
    'Ratios compare throughput within this run. "bare" is a hand-rolled node:http2 gRPC-shaped server/client (bench/servers/bare.ts, bench/clients/bare.ts): the ceiling on node:http2.',
    'Messages are raw bytes (identity serializers) on every implementation. MB/s counts request payload (10^6 B); the same amount flows back.',
    'Streaming latency is per 1000-message call; ping-pong latency is per round trip on one bidi stream. Under h2load the bidi row is one message per bidi stream (h2load cannot ping-pong).',
    'The bare implementations use a 1 MiB stream / 16 MiB connection flow-control window (as tsgrpc does) and TCP_NODELAY; h2load uses its defaults (2^30-1 windows).',
    'Frame micro-benchmark: encodeFrame returns [prefix, payload] without copying payloads over 16 KiB, so its 1 MiB encode MB/s counts bytes framed, not bytes copied.',
    'Timing on a shared 2-core machine is noisy (other processes compete for the same cores); best-of-N per scenario reduces but does not remove this. Compare ratios, and re-run before drawing conclusions from differences under ~15%.',
  );
  const logPath = new URL('../../bench/OPTIMIZATION-LOG.md', import.meta.url);
  const optimizationLog = existsSync(logPath) ? `\n${readFileSync(logPath, 'utf8')}` : '';
  const md = renderReport({ header, refServer: ref === 'go' ? 'grpc-go' : ref, rows, memory, micro, notes }) + optimizationLog;
  const outPath = process.env.BENCH_OUT ?? (smoke ? `${CACHE_DIR}/RESULTS.smoke.md` : fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url)));
  writeFileSync(outPath, md);
  process.stdout.write(md);
  log(`wrote ${outPath}`);
}

await main();
