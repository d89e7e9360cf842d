// CPU per unary call, native API vs the grpc-js compatibility module, both in this one
// process and interleaved: batches of calls alternate between a native client and server
// and the grpc-js bench client and server on tsgrpc/grpc-js, and each batch's process CPU
// time (user + system) is divided by its calls. Both see the same moments of machine load,
// so the per-pair ratios are far steadier than separate timed runs on a busy box.
// Usage: node dist/bench/compat-cpu.js [batches=30] [calls per batch=3000]
import * as compat from '../src/grpc-js/index.js';
import { connectGrpcJs } from './clients/grpcjs.js';
import { connectTsgrpc } from './clients/tsgrpc.js';
import { median } from './rounds.js';
import { startGrpcJs } from './servers/grpcjs.js';
import { startTsgrpc } from './servers/tsgrpc.js';

const batches = Number(process.argv[2] ?? 30);
const perBatch = Number(process.argv[3] ?? 3000);
const CONCURRENCY = 100;
const payload = Buffer.alloc(100, 7);

const nativeServer = await startTsgrpc(false);
const compatServer = await startGrpcJs(compat as any);
const contenders = {
  native: await connectTsgrpc(nativeServer.port, false),
  compat: await connectGrpcJs(compatServer.port, compat as any),
};

/** `calls` unary calls, CONCURRENCY at a time; returns CPU µs per call. */
async function batch(client: { unary(p: Buffer): Promise<unknown> }, calls: number): Promise<number> {
  const start = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    while (next++ < calls) await client.unary(payload);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const used = process.cpuUsage(start);
  return (used.user + used.system) / calls;
}

for (const c of Object.values(contenders)) await batch(c, 5000); // warm-up: JIT, connections
const samples = { native: [] as number[], compat: [] as number[] };
const ratios: number[] = [];
for (let i = 0; i < batches; i++) {
  // Alternate which goes first, so neither always follows the other's garbage.
  const order = i % 2 ? (['compat', 'native'] as const) : (['native', 'compat'] as const);
  const pair: Record<string, number> = {};
  for (const name of order) pair[name] = await batch(contenders[name], perBatch);
  samples.native.push(pair.native);
  samples.compat.push(pair.compat);
  ratios.push(pair.compat / pair.native);
}
const sorted = [...ratios].sort((a, b) => a - b);
console.log(JSON.stringify({
  batches, perBatch, concurrency: CONCURRENCY,
  nativeCpuUsPerCall: +median(samples.native).toFixed(1),
  compatCpuUsPerCall: +median(samples.compat).toFixed(1),
  compatOverNative: { median: +median(ratios).toFixed(3), p25: +sorted[Math.floor(sorted.length / 4)].toFixed(3), p75: +sorted[Math.floor((sorted.length * 3) / 4)].toFixed(3) },
}));
for (const c of Object.values(contenders)) c.close();
await nativeServer.close();
await compatServer.close();
process.exit(0);
