// Interop matrix runner: every test case, in both directions between tsgrpc
// and grpc-go, plaintext and TLS, plus tsgrpc against itself (which adds
// the compression cases grpc-go's binaries cannot run) and our client
// against a @grpc/grpc-js server.
//   node dist/interop/run.js [--case=a,b] [--config=substring] [--json=file]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repo root, from dist/interop/run.js or interop/run.ts. */
export const repoRoot = path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '../..') : path.resolve(here, '..');
const goBin = path.join(repoRoot, 'interop/.cache/bin');
const certs = path.join(repoRoot, 'interop/.cache/certs');

export const CORE_CASES = [
  'empty_unary', 'large_unary', 'client_streaming', 'server_streaming', 'ping_pong', 'empty_stream',
  'timeout_on_sleeping_server', 'cancel_after_begin', 'cancel_after_first_response', 'custom_metadata',
  'status_code_and_message', 'special_status_message', 'unimplemented_method', 'unimplemented_service',
  'rpc_soak', 'channel_soak',
];
// grpc-go's interop binaries register no gzip codec, so these only run tsgrpc <-> tsgrpc.
export const COMPRESSION_CASES = [
  'client_compressed_unary', 'server_compressed_unary', 'client_compressed_streaming', 'server_compressed_streaming',
];

type Impl = 'go' | 'ts' | 'grpc-js';
interface Config { name: string; client: Impl; server: Impl; tls: boolean; cases: string[] }

export const CONFIGS: Config[] = [
  { name: 'go→ts plain', client: 'go', server: 'ts', tls: false, cases: CORE_CASES },
  { name: 'go→ts tls', client: 'go', server: 'ts', tls: true, cases: CORE_CASES },
  { name: 'ts→go plain', client: 'ts', server: 'go', tls: false, cases: CORE_CASES },
  { name: 'ts→go tls', client: 'ts', server: 'go', tls: true, cases: CORE_CASES },
  { name: 'ts→ts plain', client: 'ts', server: 'ts', tls: false, cases: [...CORE_CASES, ...COMPRESSION_CASES] },
  // A second reference server; grpc-js cannot compress responses, so core cases only.
  { name: 'ts→grpc-js plain', client: 'ts', server: 'grpc-js', tls: false, cases: CORE_CASES },
];

export interface CellResult { config: string; testCase: string; pass: boolean; ms: number; log: string }

// A healthy case takes well under a second; the limits only bound a broken run.
const CASE_TIME_LIMIT_MS = 15_000;
const MATRIX_BUDGET_MS = 240_000;
const SOAK_FLAGS = ['--soak_iterations=10', '--soak_overall_timeout_seconds=10'];

function serverCommand(impl: Impl, port: number, tls: boolean): string[] {
  const tlsFlags = tls ? ['--use_tls=true', `--tls_cert_file=${certs}/server1.pem`, `--tls_key_file=${certs}/server1.key`] : [];
  if (impl === 'go') return [path.join(goBin, 'server'), `--port=${port}`, ...tlsFlags];
  const script = impl === 'ts' ? 'server.js' : 'grpcjs-server.js';
  return [process.execPath, path.join(repoRoot, 'dist/interop', script), '--host=127.0.0.1', `--port=${port}`, ...tlsFlags];
}

function clientCommand(impl: Impl, port: number, tls: boolean, testCase: string): string[] {
  const flags = [
    '--server_host=127.0.0.1', `--server_port=${port}`, `--test_case=${testCase}`, ...SOAK_FLAGS,
    // The test certificate is issued for *.test.google.fr.
    ...(tls ? ['--use_tls=true', '--use_test_ca=true', `--ca_file=${certs}/ca.pem`, '--server_host_override=foo.test.google.fr'] : []),
  ];
  if (impl === 'go') return [path.join(goBin, 'client'), ...flags];
  return [process.execPath, path.join(repoRoot, 'dist/interop/client.js'), ...flags];
}

/** Asks the OS for a free loopback port (tiny race until the server binds it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

interface RunningServer { proc: ChildProcess; port: number; log: () => string }

async function startServer(impl: Impl, tls: boolean): Promise<RunningServer> {
  const port = await freePort();
  const [cmd, ...args] = serverCommand(impl, port, tls);
  const proc = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && proc.exitCode === null) {
    if (await canConnect(port)) return { proc, port, log: () => out };
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`${impl} server did not start on port ${port}:\n${out}`);
}

function stopServer(s: RunningServer): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => s.proc.kill('SIGKILL'), 3000);
    s.proc.once('exit', () => (clearTimeout(timer), resolve()));
    s.proc.kill('SIGTERM');
  });
}

function runClient(argv: string[]): Promise<{ pass: boolean; log: string }> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    const proc = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    proc.stdout!.on('data', (d) => (log += d));
    proc.stderr!.on('data', (d) => (log += d));
    const timer = setTimeout(() => {
      log += `\n[runner] killed after ${CASE_TIME_LIMIT_MS} ms`;
      proc.kill('SIGKILL');
    }, CASE_TIME_LIMIT_MS);
    proc.on('error', (err) => (log += `\n[runner] ${err.message}`));
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) log += `\n[runner] client exited with ${code ?? signal}`;
      resolve({ pass: code === 0, log });
    });
  });
}

export function buildGo(): void {
  const r = spawnSync('bash', [path.join(repoRoot, 'interop/build-go.sh')], { cwd: repoRoot, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`interop/build-go.sh failed (exit ${r.status ?? r.signal})`);
}

export interface MatrixOptions { cases?: string[]; configs?: string[]; log?: (line: string) => void }

/** Builds the Go binaries, then runs every selected cell. Never throws for a failed cell. */
export async function runMatrix(opts: MatrixOptions = {}): Promise<CellResult[]> {
  const log = opts.log ?? ((line: string) => console.log(line));
  buildGo();
  const started = Date.now();
  const results: CellResult[] = [];
  for (const config of CONFIGS) {
    if (opts.configs && !opts.configs.some((c) => config.name.includes(c))) continue;
    const cases = config.cases.filter((c) => !opts.cases || opts.cases.includes(c));
    if (cases.length === 0) continue;
    let server = await startServer(config.server, config.tls);
    for (const testCase of cases) {
      const t0 = Date.now();
      const r = t0 - started > MATRIX_BUDGET_MS
        ? { pass: false, log: `[runner] not run: the matrix used up its ${MATRIX_BUDGET_MS / 1000}s budget` }
        : await runClient(clientCommand(config.client, server.port, config.tls, testCase));
      let cellLog = r.log;
      if (server.proc.exitCode !== null || server.proc.signalCode !== null) {
        // A crashed server would fail every later case: report it here and restart.
        cellLog += `\n[runner] server died (${server.proc.exitCode ?? server.proc.signalCode}):\n${server.log()}`;
        r.pass = false;
        server = await startServer(config.server, config.tls);
      }
      const cell = { config: config.name, testCase, pass: r.pass, ms: Date.now() - t0, log: cellLog };
      results.push(cell);
      log(`${cell.pass ? 'PASS' : 'FAIL'} ${config.name.padEnd(16)} ${testCase} (${cell.ms} ms)`);
    }
    await stopServer(server);
  }
  return results;
}

export function formatTable(results: CellResult[]): string {
  const configs = [...new Set(results.map((r) => r.config))];
  const cases = [...new Set(results.map((r) => r.testCase))];
  const width = Math.max(...cases.map((c) => c.length));
  const lines = [['case'.padEnd(width), ...configs].join(' | ')];
  for (const c of cases) {
    const cells = configs.map((cfg) => {
      const r = results.find((x) => x.config === cfg && x.testCase === c);
      return (r ? (r.pass ? 'pass' : 'FAIL') : '-').padEnd(cfg.length);
    });
    lines.push([c.padEnd(width), ...cells].join(' | '));
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const arg = (name: string) => process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.split('=').slice(1).join('=');
  const results = await runMatrix({ cases: arg('case')?.split(','), configs: arg('config')?.split(',') });
  const failed = results.filter((r) => !r.pass);
  for (const f of failed) console.log(`\n--- ${f.config} / ${f.testCase} ---\n${f.log.trim().slice(-3000)}`);
  console.log(`\n${formatTable(results)}\n\n${results.length - failed.length}/${results.length} passed`);
  const json = arg('json');
  if (json) fs.writeFileSync(json, JSON.stringify(results, null, 2));
  return failed.length === 0 && results.length > 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().then((code) => process.exit(code), (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
