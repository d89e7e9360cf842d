// Heap bytes allocated per unary call (client and server in one process), a
// measure that competing load on the machine does not skew, unlike timing.
// Usage:
//   node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 dist/bench/alloc.js [plain|intercepted|observed|traced|compat]
// "intercepted" puts a pass-through interceptor with every hook on both sides; "observed" subscribes
// a no-op listener to every call and connection event (observe()); "traced" turns on all debug
// logging (setTracers('all')) into a sink that drops the lines; "compat" runs the grpc-js bench
// client and server on tsgrpc/grpc-js (the compatibility layer's own cost).
// Samples during which a GC ran are discarded; the median of the rest is printed.
import { PerformanceObserver } from 'node:perf_hooks';
import { observe, setTraceSink, setTracers } from '../src/index.js';
import * as compat from '../src/grpc-js/index.js';
import { connectGrpcJs } from './clients/grpcjs.js';
import { connectTsgrpc } from './clients/tsgrpc.js';
import { startGrpcJs } from './servers/grpcjs.js';
import { startTsgrpc } from './servers/tsgrpc.js';

const MODES = ['plain', 'intercepted', 'observed', 'traced', 'compat'];
const mode = process.argv[2] ?? 'plain';
if (!MODES.includes(mode)) throw new Error(`usage: alloc.js [${MODES.join('|')}]`);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const intercepted = mode === 'intercepted';
const ignore = () => {};
if (mode === 'observed') {
  observe({
    clientCallStart: ignore, clientCallHeaders: ignore, clientCallMessage: ignore, clientCallEnd: ignore,
    serverCallStart: ignore, serverCallMessage: ignore, serverCallEnd: ignore, connection: ignore,
  });
}
if (mode === 'traced') {
  setTraceSink(ignore);
  setTracers('all');
}
const grpcJsApi = compat as any;
const server = mode === 'compat' ? await startGrpcJs(grpcJsApi) : await startTsgrpc(intercepted);
const client = mode === 'compat' ? await connectGrpcJs(server.port, grpcJsApi) : await connectTsgrpc(server.port, intercepted);
const payload = Buffer.alloc(100, 7);
const CALLS_PER_SAMPLE = 200;
const pause = () => new Promise((r) => setTimeout(r, 30));

let gcs = 0;
const observer = new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
});
observer.observe({ entryTypes: ['gc'] });

for (let i = 0; i < 20000; i++) await client.unary(payload); // warm up: JIT, header caches, connection
const samples: number[] = [];
for (let s = 0; s < 40 && samples.length < 15; s++) {
  gc();
  await pause(); // GC entries reach the observer late: let the forced one arrive first
  const gcsBefore = gcs;
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < CALLS_PER_SAMPLE; i++) await client.unary(payload);
  const after = process.memoryUsage().heapUsed;
  await pause();
  if (gcs === gcsBefore) samples.push((after - before) / CALLS_PER_SAMPLE);
}
observer.disconnect();
samples.sort((a, b) => a - b);
const median = samples[Math.floor(samples.length / 2)];
console.log(JSON.stringify({ mode, samples: samples.length, bytesPerCall: Math.round(median), min: Math.round(samples[0]), max: Math.round(samples.at(-1)!) }));
client.close();
await server.close();
process.exit(0);
