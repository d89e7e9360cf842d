// Memory stays bounded when a peer sends gzip bombs (small frames that inflate
// to ~4 MiB each) faster than the application reads them. The victim runs in a
// child process (test/support/memory-victim.ts) so its RSS is its own; the
// attacker is a raw node:http2 peer in this process.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Channel, Server, Status, framePrefix, type ChannelOptions, type ServerOptions } from '../src/index.js';
import { expectGrpcError } from './support/probe.js';
import { rawServer } from './support/raw-http2.js';
import { sinkService } from './support/raw-service.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;
/** Just under the default 4 MiB receive limit, so every bomb is a legal message. */
const INFLATED_SIZE = 4 * MiB - 64;
/** 32 streams x 40 bombs: 5 MB on the wire, the attack as reported. */
const BOMBS_PER_STREAM = 40;
const BOUND = 64 * MiB;

const bombPayload = zlib.gzipSync(Buffer.alloc(INFLATED_SIZE));
const bombFrame = Buffer.concat([framePrefix(bombPayload.length, true), bombPayload]);

let outDir: string;
beforeAll(() => {
  // The victim is plain JS: compile the project once into a scratch directory inside the repo (for node_modules).
  fs.mkdirSync(path.join(repoRoot, '.cache'), { recursive: true });
  outDir = fs.mkdtempSync(path.join(repoRoot, '.cache/memory-victim-'));
  const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--outDir', outDir], { cwd: repoRoot, encoding: 'utf8' });
  if (!fs.existsSync(path.join(outDir, 'test/support/memory-victim.js'))) throw new Error(`tsc failed:\n${r.stdout}${r.stderr}`);
}, 120_000);
afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

type VictimEvent = { event: string; [key: string]: any };

class Victim {
  readonly events: VictimEvent[] = [];
  private waiters: (() => void)[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  stderr = '';

  constructor(mode: 'server' | 'client') {
    const script = path.join(outDir, 'test/support/memory-victim.js');
    this.child = spawn(process.execPath, ['--expose-gc', script, mode, String(INFLATED_SIZE)], { stdio: 'pipe' });
    this.child.stdin.on('error', () => {});
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.events.push(JSON.parse(line) as VictimEvent);
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.on('exit', () => {
      this.events.push({ event: 'exit' });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  send(command: string): void {
    this.child.stdin.write(`${command}\n`);
  }

  count(event: string): number {
    return this.events.filter((e) => e.event === event).length;
  }

  /** Resolves once `n` events named `event` arrived; throws if the victim overflowed or died first. */
  async waitFor(event: string, n = 1): Promise<VictimEvent[]> {
    for (;;) {
      const matching = this.events.filter((e) => e.event === event);
      if (matching.length >= n) return matching;
      const fatal = this.events.find((e) => e.event === 'overflow' || e.event === 'exit' || e.event === 'error');
      if (fatal?.event === 'overflow') throw new Error(`RSS grew by more than ${(fatal.grown / MiB).toFixed(0)} MiB: the victim stopped itself`);
      if (fatal) throw new Error(`victim failed while waiting for ${event}: ${JSON.stringify(fatal)} ${this.stderr}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Largest RSS growth over a few samples a little apart, after a full GC each time. */
  async growth(samples = 4): Promise<number> {
    let worst = 0;
    for (let i = 0; i < samples; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const before = this.count('rss');
      this.send('measure');
      const [last] = (await this.waitFor('rss', before + 1)).slice(-1);
      worst = Math.max(worst, last.grown as number);
    }
    return worst;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function writeAll(stream: http2.Http2Stream, frames: number): Promise<void> {
  return new Promise((resolve) => {
    for (let i = 0; i < frames - 1; i++) stream.write(bombFrame);
    stream.write(bombFrame, () => resolve());
  });
}

describe('bounded memory under compression', () => {
  it('a server with slow client-streaming and bidi handlers stays under 64 MiB while 32 streams send gzip bombs', { timeout: 60_000 }, async () => {
    const victim = new Victim('server');
    cleanups.push(() => victim.kill());
    const [ready] = await victim.waitFor('ready');
    expect(ready.event, victim.stderr).toBe('ready');

    const session = http2.connect(`http://127.0.0.1:${ready.port}`);
    session.on('error', () => {});
    cleanups.push(() => session.destroy());
    const streams = 32;
    const writes: Promise<void>[] = [];
    for (let i = 0; i < streams; i++) {
      const stream = session.request({
        ':method': 'POST', ':path': i % 2 ? '/mem.Sink/Collect' : '/mem.Sink/Chat',
        'content-type': 'application/grpc', te: 'trailers', 'grpc-encoding': 'gzip',
      });
      stream.on('error', () => {});
      writes.push(writeAll(stream, BOMBS_PER_STREAM).then(() => void stream.end()));
    }
    await Promise.race([Promise.all(writes), victim.waitFor('never')]);
    await victim.waitFor('started', streams);
    await new Promise((r) => setTimeout(r, 500));

    const grown = await victim.growth();
    expect(grown, `server RSS grew by ${(grown / MiB).toFixed(1)} MiB`).toBeLessThan(BOUND);

    // Backpressure lets go once a handler reads: every message arrives whole (a few streams keep the test short).
    victim.send('release 4');
    const done = await victim.waitFor('done', 4);
    expect(done.map((e) => [e.count, e.wrongSize])).toEqual(Array(4).fill([BOMBS_PER_STREAM, 0]));
  });

  it('a client slowly reading 8 server-streaming and bidi calls stays under 64 MiB while the server sends gzip bombs', { timeout: 60_000 }, async () => {
    const server = await rawServer((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-encoding': 'gzip' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      void writeAll(stream, BOMBS_PER_STREAM).then(() => stream.end());
    });
    cleanups.push(() => server.close());
    const victim = new Victim('client');
    cleanups.push(() => victim.kill());
    const [ready] = await victim.waitFor('ready');
    expect(ready.event, victim.stderr).toBe('ready');

    const streams = 8;
    victim.send(`calls ${streams} ${server.port}`);
    await victim.waitFor('started', streams);
    await new Promise((r) => setTimeout(r, 500));

    const grown = await victim.growth();
    expect(grown, `client RSS grew by ${(grown / MiB).toFixed(1)} MiB`).toBeLessThan(BOUND);

    // Backpressure lets go once the reader catches up: every message arrives whole, then the OK status.
    victim.send(`release ${streams}`);
    const done = await victim.waitFor('done', streams);
    expect(done.map((e) => [e.count, e.wrongSize])).toEqual(Array(streams).fill([BOMBS_PER_STREAM, 0]));
  });
});

describe('reading compressed and large streams at the consumer\'s pace', () => {
  /** Message i: 4 bytes of index, then filler that compresses well. */
  const numbered = (i: number, size: number) => {
    const b = Buffer.alloc(size, i % 251);
    b.writeUInt32BE(i, 0);
    return b;
  };
  const indexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).readUInt32BE(0);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function start(serverOptions: ServerOptions = {}, channelOptions: ChannelOptions = {}, onError?: (e: unknown) => void) {
    const server = new Server(serverOptions);
    let handlerError: unknown;
    server.addService(sinkService, {
      // Starts late and reads slowly, so the request queue fills and the stream is paused and resumed.
      collect: async (requests: AsyncIterable<Uint8Array>) => {
        await sleep(200);
        const order: number[] = [];
        try {
          for await (const r of requests) {
            order.push(indexOf(r));
            if (order.length % 20 === 0) await sleep(5);
          }
        } catch (err) {
          handlerError = err;
          onError?.(err);
          throw err;
        }
        return Buffer.from(JSON.stringify(order));
      },
      feed: function* (request: Uint8Array) {
        const [count, size, bombAt] = JSON.parse(Buffer.from(request).toString()) as number[];
        for (let i = 0; i < count; i++) yield i === bombAt ? Buffer.alloc(1 << 20) : numbered(i, size);
      },
    });
    const port = await server.listen('127.0.0.1:0');
    const channel = new Channel(`127.0.0.1:${port}`, channelOptions);
    cleanups.push(() => { channel.close(); server.forceShutdown(); });
    return { channel, handlerError: () => handlerError };
  }

  const ascending = (n: number) => Array.from({ length: n }, (_, i) => i);

  it.each([
    ['300 gzip-compressed 32 KiB', 300, 32 * 1024, 'gzip'],
    ['40 uncompressed 300 KiB', 40, 300 * 1024, undefined],
  ] as const)('a slow client-streaming handler receives %s requests, all in order', async (_, count, size, compression) => {
    const { channel } = await start();
    const requests = ascending(count).map((i) => numbered(i, size));
    const reply = await channel.clientStream(sinkService.methods.Collect, requests, { compression });
    expect(JSON.parse(Buffer.from(reply).toString())).toEqual(ascending(count));
  });

  it.each([
    ['300 gzip-compressed 32 KiB', 300, 32 * 1024, 'gzip'],
    ['40 uncompressed 300 KiB', 40, 300 * 1024, undefined],
  ] as const)('a slow reader receives %s responses, all in order', async (_, count, size, compression) => {
    const { channel } = await start({ compression });
    const stream = channel.serverStream(sinkService.methods.Feed, Buffer.from(JSON.stringify([count, size, -1])));
    await sleep(200);
    const order: number[] = [];
    for await (const r of stream) {
      expect(r.length).toBe(size);
      order.push(indexOf(r));
      if (order.length % 20 === 0) await sleep(5);
    }
    expect(order).toEqual(ascending(count));
    expect(stream.lastMessageCompressed).toBe(compression !== undefined);
    // The server ended OK long before the last message was read; that status is reported once all are read.
    await expect(stream.status).resolves.toBeUndefined();
  });

  it('a reader that stops early still gets the status of a call that ended while compressed responses were queued', async () => {
    const { channel } = await start({ compression: 'gzip' });
    const stream = channel.serverStream(sinkService.methods.Feed, Buffer.from(JSON.stringify([50, 1000, -1])));
    await sleep(200);
    for await (const r of stream) {
      expect(indexOf(r)).toBe(0);
      break;
    }
    await expect(stream.status).resolves.toBeUndefined();
  });

  it('a streamed request that inflates past the server limit fails the call with RESOURCE_EXHAUSTED naming the limit', async () => {
    const { channel, handlerError } = await start({ maxReceiveMessageSize: 64 * 1024 });
    const requests = [numbered(0, 1000), numbered(1, 1000), Buffer.alloc(1 << 20), numbered(3, 1000)];
    const err = await expectGrpcError(channel.clientStream(sinkService.methods.Collect, requests, { compression: 'gzip' }), Status.RESOURCE_EXHAUSTED);
    expect(err.details).toBe('decompressed message larger than max (65536 bytes)');
    expect(handlerError()).toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
  });

  it('a streamed response that inflates past the client limit ends the stream with RESOURCE_EXHAUSTED naming the limit', async () => {
    const { channel } = await start({ compression: 'gzip' }, { maxReceiveMessageSize: 64 * 1024 });
    const stream = channel.serverStream(sinkService.methods.Feed, Buffer.from(JSON.stringify([5, 1000, 2])));
    await sleep(200);
    const order: number[] = [];
    const err = await expectGrpcError(async () => {
      for await (const r of stream) order.push(indexOf(r));
    }, Status.RESOURCE_EXHAUSTED);
    expect(err.details).toBe('decompressed message larger than max (65536 bytes)');
    expect(order).toEqual([0, 1]);
    await expect(stream.status).rejects.toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
  });
});
