// A tsgrpc server or client run in its own process (node --expose-gc) so a
// test can measure its resident memory while a peer in the test process
// floods it. Commands arrive as lines on stdin; events leave as JSON lines on stdout.
//
//   server mode: serves /mem.Sink/Collect (client streaming) and /mem.Sink/Chat (bidi)
//   client mode: `calls N PORT` starts N calls, server-streaming (/mem.Sink/Feed) and bidi (/mem.Sink/Chat) in turn
// Every handler or reader reads nothing until `release N` lets N of them go: a slow consumer whose
// stream's backlog is waiting in memory when the test measures.
import readline from 'node:readline';
import { Channel, Server } from '../../src/index.js';
import { sinkService } from './raw-service.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function rss(): number {
  gc!();
  gc!();
  return process.memoryUsage().rss;
}

const baseline = rss();
/** Far above any bound under test: stop before a regression can take the machine's memory. */
const ABORT_GROWTH = 256 * 1024 * 1024;
setInterval(() => {
  const grown = process.memoryUsage().rss - baseline;
  if (grown > ABORT_GROWTH) {
    emit({ event: 'overflow', grown });
    process.exit(3);
  }
}, 20).unref();

/** One per consumer, in the order they started: `release N` lets the first N read. */
const gates: (() => void)[] = [];
let releasedCount = 0;

/**
 * A slow consumer: reports that its call started, reads nothing until released,
 * then reads everything and reports how many messages arrived and whether each
 * had the expected size.
 */
async function consume(messages: AsyncIterator<Uint8Array>, expectedSize: number): Promise<number> {
  await new Promise<void>((resolve) => {
    gates.push(resolve);
    emit({ event: 'started' });
  });
  let count = 0;
  let wrongSize = 0;
  for (let r = await messages.next(); !r.done; r = await messages.next()) {
    count++;
    if (r.value.length !== expectedSize) wrongSize++;
  }
  emit({ event: 'done', count, wrongSize });
  return count;
}

const [mode, size] = [process.argv[2], Number(process.argv[3])];
if (mode === 'server') {
  const server = new Server();
  server.addService(sinkService, {
    collect: async (requests: AsyncIterable<Uint8Array>) => {
      const count = await consume(requests[Symbol.asyncIterator](), size);
      return Buffer.from(String(count));
    },
    chat: async function* (requests: AsyncIterable<Uint8Array>) {
      const count = await consume(requests[Symbol.asyncIterator](), size);
      yield Buffer.from(String(count));
    },
  });
  const port = await server.listen('127.0.0.1:0');
  emit({ event: 'ready', port, baseline });
}

const commands = readline.createInterface({ input: process.stdin });
commands.on('line', (line) => {
  const [command, ...args] = line.trim().split(' ');
  if (command === 'measure') emit({ event: 'rss', grown: rss() - baseline });
  else if (command === 'release') {
    const upTo = Math.min(gates.length, releasedCount + Number(args[0]));
    for (; releasedCount < upTo; releasedCount++) gates[releasedCount]();
  } else if (command === 'calls') {
    const [n, port] = args.map(Number);
    const channel = new Channel(`127.0.0.1:${port}`);
    for (let i = 0; i < n; i++) {
      const responses = i % 2 ? channel.serverStream(sinkService.methods.Feed, new Uint8Array(0)) : channel.bidi(sinkService.methods.Chat);
      void consume(responses[Symbol.asyncIterator](), size).catch((err: Error) => emit({ event: 'error', message: err.message }));
    }
  }
});
if (mode === 'client') emit({ event: 'ready', baseline });
