// Counts a Node server's garbage collections, by kind, over a fixed number of calls from h2load:
//   node dist/bench/gc-trace.js <bare|tsgrpc|grpc-js> [scenario-id=unary-1MiB] [calls=600]
// The server runs with --trace-gc; full collections (Mark-Compact) per call are what tipped the
// 1 MiB rows before orders-tsgrpc.ts / orders-grpcjs.ts were split (see OPTIMIZATION-LOG.md).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runH2loadCount } from './h2load.js';
import { nextMessage, stop } from './proc.js';
import { H2LOAD_EXTRA, SCENARIOS, pathOf } from './scenarios.js';
import { CACHE_DIR } from './servers/go.js';

const [impl = 'tsgrpc', id = 'unary-1MiB', calls = '600'] = process.argv.slice(2);
const scenario = [...SCENARIOS, ...H2LOAD_EXTRA].find((s) => s.id === id);
if (!scenario) throw new Error(`unknown scenario ${id}`);
const main = fileURLToPath(new URL('./servers/main.js', import.meta.url));
const child = spawn(process.execPath, ['--trace-gc', main, impl], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
let trace = '';
child.stdout!.on('data', (d: Buffer) => (trace += d));
const { port } = await nextMessage<{ port: number }>(child, 'ready', 30_000);
try {
  const m = await runH2loadCount(scenario, port, pathOf(scenario), Number(calls), CACHE_DIR);
  const count = (kind: string) => trace.split('\n').filter((l) => l.includes(kind)).length;
  console.log(JSON.stringify({ impl, scenario: id, calls: m.calls, errors: m.errors, markCompacts: count('Mark-Compact'), scavenges: count('Scavenge'), throughput: m.throughput }));
} finally {
  await stop(child);
}
