import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, Server, type ChannelOptions } from '../src/index.js';
import { sinkService } from './support/raw-service.js';

/**
 * Requests written while a call waits for its stream (here: a server that accepts TCP but never
 * speaks HTTP/2) must not pile up without limit: past the stream buffer limit (256 KiB) a write
 * waits until the stream opens, and every write still completes once the server comes up.
 */

const MIB = 1024 * 1024;
const WRITES = 12;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A loopback port where a TCP listener accepts connections and says nothing; `stop()` closes it and drops them. */
async function silentServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  };
  cleanups.push(() => { if (server.listening) return stop(); });
  return { port: (server.address() as net.AddressInfo).port, stop };
}

/** The real server on `port`: Collect and Chat answer with the number of request bytes received. */
async function sinkOn(port: number): Promise<void> {
  const server = new Server();
  const count = async (requests: AsyncIterable<Uint8Array>) => {
    let bytes = 0;
    for await (const r of requests) bytes += r.length;
    return Buffer.from(String(bytes));
  };
  server.addService(sinkService, {
    Collect: count,
    async *Chat(requests: AsyncIterable<Uint8Array>) {
      yield await count(requests);
    },
    async *Feed() {},
  });
  await server.listen(`127.0.0.1:${port}`);
  cleanups.push(() => server.forceShutdown());
}

function channelTo(port: number, options: ChannelOptions = {}): Channel {
  const channel = new Channel(`127.0.0.1:${port}`, { initialBackoffMs: 100, maxBackoffMs: 200, connectTimeoutMs: 500, ...options });
  cleanups.push(() => channel.close());
  return channel;
}

const retryConfig = {
  serviceConfig: {
    methodConfig: [{
      name: [{ service: 'mem.Sink' }],
      retryPolicy: { maxAttempts: 3, initialBackoff: '0.1s', maxBackoff: '0.2s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] },
    }],
  },
};

describe.each([
  ['without a retry policy', {}],
  ['with a retry policy', retryConfig],
])('requests written before the stream opens (%s)', (_name, options: ChannelOptions) => {
  it('a bidi call stops accepting writes past the stream buffer limit, and sends them all once the server comes up', { timeout: 30_000 }, async () => {
    const silent = await silentServer();
    const channel = channelTo(silent.port, options);
    const call = channel.bidi(sinkService.methods.Chat, { waitForReady: true, timeout: 25_000 });
    const replies = (async () => {
      const out: string[] = [];
      for await (const r of call) out.push(Buffer.from(r as Uint8Array).toString());
      return out;
    })();
    let accepted = 0;
    const writing = (async () => {
      for (let i = 0; i < WRITES; i++) {
        await call.write(Buffer.alloc(MIB, i));
        accepted++;
      }
      call.end();
    })();
    // Should an expectation fail first, the channel's close ends these: not an unhandled rejection.
    replies.catch(() => {});
    writing.catch(() => {});
    await sleep(1000);
    // One 1 MiB request already passes the 256 KiB limit: the first write waits for the stream.
    expect(accepted).toBe(0);
    await silent.stop();
    await sinkOn(silent.port);
    await writing;
    expect(accepted).toBe(WRITES);
    expect(await replies).toEqual([String(WRITES * MIB)]);
  });

  it('a write waiting for the stream resolves when the call is cancelled', { timeout: 30_000 }, async () => {
    const silent = await silentServer();
    const call = channelTo(silent.port, options).bidi(sinkService.methods.Chat, { waitForReady: true, timeout: 25_000 });
    const ended = (async () => { for await (const _ of call); })().catch((err) => err);
    let resolved = false;
    const write = call.write(Buffer.alloc(MIB)).then(() => { resolved = true; });
    await sleep(300);
    expect(resolved).toBe(false);
    call.cancel();
    await write;
    expect(resolved).toBe(true);
    expect(await ended).toMatchObject({ code: 1 });
  });

  it('a client-streaming call pulls no more requests than fit while it waits, then sends them all', { timeout: 30_000 }, async () => {
    const silent = await silentServer();
    const channel = channelTo(silent.port, options);
    let pulled = 0;
    async function* requests() {
      for (let i = 0; i < WRITES; i++) {
        pulled++;
        yield Buffer.alloc(64 * 1024, i);
      }
    }
    const reply = channel.clientStream(sinkService.methods.Collect, requests(), { waitForReady: true, timeout: 25_000 });
    reply.catch(() => {});
    await sleep(1000);
    // 64 KiB each: the fifth passes 256 KiB and its write waits; the pump asks for no sixth.
    expect(pulled).toBe(5);
    await silent.stop();
    await sinkOn(silent.port);
    expect(Buffer.from(await reply).toString()).toBe(String(WRITES * 64 * 1024));
    expect(pulled).toBe(WRITES);
  });
});
