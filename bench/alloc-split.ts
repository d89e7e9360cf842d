// Heap bytes allocated per unary call, client and server measured apart: the server runs in a child
// process, and each process reports its own heap growth over the same calls.
// Usage (after `npm run build`):
//   node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 dist/bench/alloc-split.js CLIENT SERVER
// CLIENT and SERVER are each `tsgrpc` or `bare`; a third argument `timeout` makes the tsgrpc client give
// every call a 60 s timeout (sent as grpc-timeout, so the server keeps a deadline too). Samples during which either process ran a GC are
// discarded; the median of the rest is printed for each side.
import { fork, type ChildProcess } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { connectBare } from './clients/bare.js';
import { connectTsgrpc } from './clients/tsgrpc.js';
import { startBare } from './servers/bare.js';
import { startTsgrpc } from './servers/tsgrpc.js';
import { TSGRPC_MAX_MESSAGE, tsgrpcEcho } from './servers/tsgrpc-def.js';
import { Channel } from '../src/index.js';

/** A tsgrpc client whose unary calls each carry a 60 s timeout. */
function timedClient(port: number): { unary(payload: Buffer): Promise<Buffer>; close(): void } {
  const channel = new Channel(`127.0.0.1:${port}`, { maxReceiveMessageSize: TSGRPC_MAX_MESSAGE, maxSendMessageSize: TSGRPC_MAX_MESSAGE });
  return {
    unary: (payload) => channel.unary(tsgrpcEcho.methods.Unary, payload, { timeout: 60_000 }),
    close: () => channel.close(),
  };
}

const CALLS_PER_SAMPLE = 200;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

let gcs = 0;
new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });
const pause = () => new Promise((r) => setTimeout(r, 30));

/** A heap reading taken after a forced GC, with the GC count at that point. */
interface Mark { heap: number; gcs: number }

async function mark(): Promise<Mark> {
  gc!();
  await pause(); // GC entries reach the observer late: let the forced one arrive first
  return { heap: process.memoryUsage().heapUsed, gcs };
}

if (process.argv[2] === '--server') {
  const server = process.argv[3] === 'bare' ? await startBare() : await startTsgrpc();
  let before: Mark | undefined;
  process.on('message', async (msg: string) => {
    if (msg === 'before') {
      before = await mark();
      process.send!({ port: server.port });
    } else if (msg === 'after') {
      const heap = process.memoryUsage().heapUsed;
      await pause();
      process.send!({ bytes: heap - before!.heap, clean: gcs === before!.gcs });
    } else if (msg === 'exit') {
      await server.close();
      process.exit(0);
    }
  });
  process.send!({ port: server.port });
} else {
  const [clientKind = 'tsgrpc', serverKind = 'tsgrpc', extra] = process.argv.slice(2);
  const withTimeout = extra === 'timeout';
  if (withTimeout && clientKind !== 'tsgrpc') throw new Error('timeout needs the tsgrpc client');
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--server', serverKind], {
    execArgv: ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'],
  });
  const reply = () => new Promise<any>((resolve) => child.once('message', resolve));
  const { port } = await reply();
  const client = clientKind === 'bare' ? await connectBare(port) : withTimeout ? timedClient(port) : await connectTsgrpc(port);
  const payload = Buffer.alloc(100, 7);
  for (let i = 0; i < 20000; i++) await client.unary(payload); // warm up: JIT, header caches, connection
  const clientSamples: number[] = [];
  const serverSamples: number[] = [];
  for (let s = 0; s < 60 && clientSamples.length < 15; s++) {
    child.send('before');
    await reply();
    const before = await mark();
    for (let i = 0; i < CALLS_PER_SAMPLE; i++) await client.unary(payload);
    const after = process.memoryUsage().heapUsed;
    child.send('after');
    const server = await reply();
    await pause();
    if (gcs === before.gcs && server.clean) {
      clientSamples.push((after - before.heap) / CALLS_PER_SAMPLE);
      serverSamples.push(server.bytes / CALLS_PER_SAMPLE);
    }
  }
  const median = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
  console.log(JSON.stringify({
    client: clientKind, server: serverKind, timeout: withTimeout, samples: clientSamples.length,
    clientBytesPerCall: median(clientSamples), serverBytesPerCall: median(serverSamples),
  }));
  client.close();
  child.send('exit');
}
