// Server-side isolation: every server under the same native load generator,
// h2load (Debian's nghttp2-client), so only server cost is measured.
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { CLIENT_CPU, pinning } from './proc.js';
import { h2loadBody, percentile, throughput, type Scenario } from './scenarios.js';
import type { Measurement } from './load.js';

const has = () => spawnSync('h2load', ['--version']).status === 0;

/** True when h2load is usable; installs nghttp2-client via apt when root. */
export function ensureH2load(): boolean {
  if (has()) return true;
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version']).status !== 0) return false;
  console.error('[bench] installing nghttp2-client for h2load ...');
  const opts = { stdio: 'ignore' as const, timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  spawnSync('apt-get', ['update', '-qq'], opts);
  spawnSync('apt-get', ['install', '-y', '-qq', 'nghttp2-client'], opts);
  return has();
}

export function h2loadVersion(): string {
  return spawnSync('h2load', ['--version'], { encoding: 'utf8' }).stdout.trim();
}

/**
 * Runs h2load for `warmup` then `seconds` (two invocations, so that
 * `serverCpu` — the server's CPU seconds so far — brackets only the measured one).
 */
export async function runH2load(
  s: Scenario,
  port: number,
  path: string,
  seconds: number,
  warmup: number,
  cacheDir: string,
  serverCpu?: () => number,
  fixedCount = false,
): Promise<Measurement> {
  if (warmup > 0) await h2load(s, port, path, warmup, cacheDir);
  const c0 = serverCpu?.();
  const m = await h2load(s, port, path, seconds, cacheDir, fixedCount ? smokeCalls(s) : undefined);
  if (c0 !== undefined) m.cpuPerCall = ((serverCpu!() - c0) * 1e6) / Math.max(1, m.calls);
  return m;
}

/**
 * The call count of a fixed-count (smoke) run: at least 50, and enough to
 * fill every stream twice, for small unary calls; a handful for streams and
 * 1 MiB messages.
 * A very short -D run can end before a cold server finishes any call.
 */
function smokeCalls(s: Scenario): number {
  const slots = s.concurrency * (s.connections ?? 1);
  return Math.max(slots, s.msgsPerCall > 1 || s.size > 65536 ? 5 : Math.max(2 * slots, 50));
}

/** Exactly `calls` calls (for garbage per call): h2load -n instead of -D. */
export function runH2loadCount(s: Scenario, port: number, path: string, calls: number, cacheDir: string): Promise<Measurement> {
  return h2load(s, port, path, 0, cacheDir, calls);
}

async function h2load(s: Scenario, port: number, path: string, seconds: number, cacheDir: string, calls?: number): Promise<Measurement> {
  mkdirSync(cacheDir, { recursive: true });
  const body = `${cacheDir}/h2load-${s.id}.bin`;
  const log = `${cacheDir}/h2load-${s.id}.log`;
  writeFileSync(body, h2loadBody(s));
  rmSync(log, { force: true });
  const args = [
    '-c', String(s.connections ?? 1), '-t', '1', '-m', String(s.concurrency),
    ...(calls ? ['-n', String(calls)] : ['-D', `${Math.round(seconds * 1000)}ms`]),
    '-H', 'content-type: application/grpc', '-H', 'te: trailers',
    ...(s.headers ?? []).flatMap((h) => ['-H', h]),
    '-d', body, `--log-file=${log}`,
    `http://127.0.0.1:${port}${path}`,
  ];
  const [file, argv] = pinning() ? ['taskset', ['-c', CLIENT_CPU, 'h2load', ...args]] : ['h2load', args];
  // h2load stops itself after -D; the timeout is a second bound.
  const timeout = Math.ceil((seconds + 20 + (calls ?? 0) / 1000) * 1000);
  const out = await new Promise<string>((resolve, reject) =>
    execFile(file, argv, { timeout, maxBuffer: 1 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  // h2load prints the duration in s, ms or us (a short run can end within a millisecond).
  const finished = /finished in [\d.]+(?:us|ms|s), ([\d.]+) req\/s/.exec(out);
  const reqs = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  if (!finished || !reqs) throw new Error(`unexpected h2load output:\n${out}`);
  const ok = Number(reqs[2]);
  const elapsed = ok > 0 ? ok / Number(finished[1]) : seconds;
  const failed = Number(reqs[3]) + Number(reqs[4]);
  // Log rows: start-µs, HTTP status, duration-µs.
  const lat = readFileSync(log, 'utf8')
    .split('\n')
    .map((l) => l.split('\t'))
    .filter((c) => c[1] === '200')
    .map((c) => Number(c[2]) / 1000);
  const sorted = Float64Array.from(lat).sort();
  return {
    calls: ok,
    errors: ok === 0 ? Math.max(failed, 1) : failed,
    firstError: ok === 0 ? 'no request completed' : undefined,
    seconds: elapsed,
    throughput: throughput(s, ok, elapsed),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
  };
}
