import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, Status, createClient, type BidiStream, type Client } from '../src/index.js';
import { expectGrpcError, probeService, type Req, type Res } from './support/probe.js';
import { rawFrameServer, type StreamLog } from './support/raw-frames.js';

const CANCELS_PER_MODE = 1000;
const BATCH = 50;
const { NGHTTP2_CANCEL } = http2.constants;

async function waitFor(condition: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A request source that yields one message, then waits until the call is cancelled. */
async function* oneThenWait(signal: AbortSignal): AsyncGenerator<Req> {
  yield { payload: Buffer.from('partial') };
  await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
}

describe('a cancel is RST_STREAM(CANCEL) alone, never a clean end of the request stream (raw-frame server)', () => {
  let server: Awaited<ReturnType<typeof rawFrameServer>>;
  let channel: Channel;
  let client: Client;
  beforeAll(async () => {
    server = await rawFrameServer();
    channel = new Channel(`127.0.0.1:${server.port}`);
    client = createClient(probeService, channel);
  });
  afterAll(() => {
    channel.close();
    server.close();
  });

  /** Runs `cancels` calls in batches: each batch opens its streams, waits until their first message is on the wire, then cancels them. */
  async function cancelMany(cancels: number, startBatch: (n: number) => Promise<unknown>[]): Promise<StreamLog[]> {
    const before = new Set(server.streams.keys());
    for (let done = 0; done < cancels; done += BATCH) {
      await Promise.all(startBatch(Math.min(BATCH, cancels - done)));
    }
    const mine = () => [...server.streams.values()].filter((s) => !before.has(s.id));
    await waitFor(() => mine().length === cancels && mine().every((s) => s.rstCode !== undefined), 'every stream to be reset');
    return mine();
  }

  function expectOnlyResets(logs: StreamLog[]): void {
    const clean = logs.filter((s) => s.endedCleanly).length;
    expect(clean, `${clean} of ${logs.length} cancelled streams ended cleanly (END_STREAM) before their reset`).toBe(0);
    expect(logs.filter((s) => s.rstCode !== NGHTTP2_CANCEL)).toEqual([]);
    expect(logs.every((s) => s.dataFrames >= 1)).toBe(true);
  }

  it(`client streaming cancelled by AbortSignal, ${CANCELS_PER_MODE} times`, { timeout: 120_000 }, async () => {
    const logs = await cancelMany(CANCELS_PER_MODE, (n) => {
      const seen = server.streams.size;
      const controllers = Array.from({ length: n }, () => new AbortController());
      const calls = controllers.map((c) => expectGrpcError(client.clientStream(oneThenWait(c.signal), { signal: c.signal }), Status.CANCELLED));
      const cancelled = waitFor(() => server.streams.size >= seen + n, 'the batch to reach the server').then(() => controllers.forEach((c) => c.abort()));
      return [cancelled, ...calls];
    });
    expectOnlyResets(logs);
  });

  it(`bidi cancelled by cancel(), ${CANCELS_PER_MODE} times`, { timeout: 120_000 }, async () => {
    const logs = await cancelMany(CANCELS_PER_MODE, (n) => {
      const seen = server.streams.size;
      const calls: BidiStream<Req, Res>[] = Array.from({ length: n }, () => client.bidi());
      for (const call of calls) void call.write({ payload: Buffer.from('partial') });
      const cancelled = waitFor(() => server.streams.size >= seen + n, 'the batch to reach the server').then(() => calls.forEach((call) => call.cancel()));
      return [cancelled, ...calls.map((call) => expectGrpcError(call.status, Status.CANCELLED))];
    });
    expectOnlyResets(logs);
  });

  it('client streaming and bidi ended by their own deadline, 200 times each', { timeout: 120_000 }, async () => {
    const logs = await cancelMany(400, (n) => {
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) {
        const never = new AbortController().signal;
        if (i % 2 === 0) {
          calls.push(expectGrpcError(client.clientStream(oneThenWait(never), { timeout: 300 }), Status.DEADLINE_EXCEEDED));
        } else {
          const call: BidiStream<Req, Res> = client.bidi({ timeout: 300 });
          void call.write({ payload: Buffer.from('partial') });
          calls.push(expectGrpcError(call.status, Status.DEADLINE_EXCEEDED));
        }
      }
      return calls;
    });
    expectOnlyResets(logs);
  });
});
