import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, Status, type ChannelOptions, type MethodDefinition } from '../src/index.js';
import { rawServer } from './support/raw-http2.js';

/** Raw bytes both ways: the tests write every byte the server sends. */
const echo: MethodDefinition<Uint8Array, Uint8Array> = {
  name: 'Echo', path: '/retry.Test/Echo', requestStream: false, responseStream: false,
  serializeRequest: (b) => b, deserializeRequest: (b) => b, serializeResponse: (b) => b, deserializeResponse: (b) => b,
};

/** What one attempt gets from the scripted server. */
interface Step {
  status?: number;
  pushback?: string;
  /** Send response headers first, then the status in trailers (the call is then committed). */
  headersFirst?: boolean;
  /** Wait this long before answering (hedging). */
  delayMs?: number;
}

interface Seen {
  at: number;
  previous: string | undefined;
  body: Buffer;
  cancelled: boolean;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

const frame = (payload: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0, payload.length]), payload]);

/** A server that answers attempt i with script[i] (the last step repeats), recording what each attempt carried. */
async function scripted(script: Step[]): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = await rawServer((stream, headers) => {
    const step = script[Math.min(seen.length, script.length - 1)];
    const record: Seen = { at: performance.now(), previous: headers['grpc-previous-rpc-attempts'] as string | undefined, body: Buffer.alloc(0), cancelled: false };
    seen.push(record);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('close', () => {
      if (stream.rstCode === http2.constants.NGHTTP2_CANCEL) record.cancelled = true;
    });
    stream.on('end', () => {
      record.body = Buffer.concat(chunks);
      const answer = () => {
        if (stream.destroyed) return;
        const status = step.status ?? Status.OK;
        const trailers: http2.OutgoingHttpHeaders = { 'grpc-status': String(status) };
        if (step.pushback !== undefined) trailers['grpc-retry-pushback-ms'] = step.pushback;
        if (status === Status.OK || step.headersFirst) {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers(trailers));
          stream.end(status === Status.OK ? frame(Buffer.from(`attempt ${seen.indexOf(record)}`)) : undefined);
        } else {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...trailers }, { endStream: true });
        }
      };
      if (step.delayMs) setTimeout(answer, step.delayMs);
      else answer();
    });
  });
  cleanups.push(() => server.close());
  return { port: server.port, seen };
}

function channel(port: number, methodPolicy: object, extra: object = {}, options: ChannelOptions = {}): Channel {
  const ch = new Channel(`127.0.0.1:${port}`, {
    serviceConfig: { methodConfig: [{ name: [{ service: 'retry.Test' }], ...methodPolicy }], ...extra },
    ...options,
  });
  cleanups.push(() => ch.close());
  return ch;
}

const retryPolicy = (over: object = {}) => ({
  retryPolicy: { maxAttempts: 4, initialBackoff: '0.1s', maxBackoff: '0.2s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'], ...over },
});
const upload: MethodDefinition<Uint8Array, Uint8Array> = { ...echo, name: 'Upload', path: '/retry.Test/Upload', requestStream: true };
const call = (ch: Channel, body = 'hello') => ch.unary(echo, Buffer.from(body), { timeout: 20_000 });
const text = (b: Uint8Array) => Buffer.from(b).toString();

describe('retryPolicy (gRFC A6)', () => {
  it('retries the configured codes, numbering attempts in grpc-previous-rpc-attempts, replaying the request', async () => {
    const server = await scripted([{ status: Status.UNAVAILABLE }, { status: Status.UNAVAILABLE }, {}]);
    const started = performance.now();
    expect(text(await call(channel(server.port, retryPolicy())))).toBe('attempt 2');
    expect(server.seen.map((s) => s.previous)).toEqual([undefined, '1', '2']);
    expect(server.seen.map((s) => s.body.subarray(5).toString())).toEqual(['hello', 'hello', 'hello']);
    // Backoff: random below 100 ms, then below 200 ms. Upper bounds are loose (a loaded box runs late).
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('a client-streaming call replays every request written so far, including those sent before the failure', async () => {
    const server = await scripted([{ status: Status.UNAVAILABLE }, {}]);
    const ch = channel(server.port, retryPolicy());
    async function* requests() {
      for (const part of ['one', 'two', 'three']) {
        yield Buffer.from(part);
        await new Promise((r) => setTimeout(r, 30)); // later ones go to an open stream
      }
    }
    expect(text(await ch.clientStream(upload, requests(), { timeout: 20_000 }))).toBe('attempt 1');
    const frames = (body: Buffer) => {
      const out: string[] = [];
      for (let i = 0; i + 5 <= body.length; i += 5 + body.readUInt32BE(i + 1)) out.push(body.subarray(i + 5, i + 5 + body.readUInt32BE(i + 1)).toString());
      return out;
    };
    expect(server.seen.map((s) => frames(s.body))).toEqual([['one', 'two', 'three'], ['one', 'two', 'three']]);
  });

  it('stops at maxAttempts and ends with the last status; other codes are not retried', async () => {
    const failing = await scripted([{ status: Status.UNAVAILABLE }]);
    await expect(call(channel(failing.port, retryPolicy({ maxAttempts: 3 })))).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(failing.seen).toHaveLength(3);
    const fatal = await scripted([{ status: Status.INTERNAL }, {}]);
    await expect(call(channel(fatal.port, retryPolicy()))).rejects.toMatchObject({ code: Status.INTERNAL });
    expect(fatal.seen).toHaveLength(1);
  });

  it('honours grpc-retry-pushback-ms: waits that long, and a negative value stops retrying', async () => {
    const pushed = await scripted([{ status: Status.UNAVAILABLE, pushback: '400' }, {}]);
    await call(channel(pushed.port, retryPolicy()));
    expect(pushed.seen).toHaveLength(2);
    // Timers fire late, never early.
    expect(pushed.seen[1].at - pushed.seen[0].at).toBeGreaterThanOrEqual(390);
    const stopped = await scripted([{ status: Status.UNAVAILABLE, pushback: '-1' }, {}]);
    await expect(call(channel(stopped.port, retryPolicy()))).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(stopped.seen).toHaveLength(1);
  });

  it('backs off with jitter below the exponential ceiling (initialBackoff x multiplier^n, capped at maxBackoff)', async () => {
    const server = await scripted([{ status: Status.UNAVAILABLE }]);
    const ch = channel(server.port, retryPolicy({ maxAttempts: 5, initialBackoff: '0.2s', maxBackoff: '0.3s', backoffMultiplier: 10 }));
    const started = performance.now();
    await expect(call(ch)).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(server.seen).toHaveLength(5);
    // Four delays, each random below 200 ms then 300 ms (capped): 1.1 s at most, plus generous slack for a loaded box.
    // Had the cap been ignored, the third delay alone could reach 20 s.
    expect(performance.now() - started).toBeLessThan(1100 + 3000);
    const gaps = server.seen.slice(1).map((s, i) => s.at - server.seen[i].at);
    // Jitter: not every gap is the same (four equal gaps to the millisecond would mean no randomness).
    expect(new Set(gaps.map((g) => Math.round(g))).size).toBeGreaterThan(1);
  });

  it('does not retry once response headers arrived', async () => {
    const server = await scripted([{ status: Status.UNAVAILABLE, headersFirst: true }, {}]);
    await expect(call(channel(server.port, retryPolicy()))).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(server.seen).toHaveLength(1);
  });

  it('commits, and does not retry, once the request outgrows the per-call retry buffer', async () => {
    const server = await scripted([{ status: Status.UNAVAILABLE }, { status: Status.UNAVAILABLE }, {}]);
    const ch = channel(server.port, retryPolicy(), {}, { perRpcRetryBufferBytes: 64 });
    await expect(call(ch, 'x'.repeat(100))).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(server.seen).toHaveLength(1);
    await call(ch, 'small'); // a request within the buffer is retried
    expect(server.seen).toHaveLength(3);
  });

  it('commits once the channel-wide retry buffer is used up by calls in flight', async () => {
    const server = await scripted([{ status: Status.UNAVAILABLE, delayMs: 300 }, { status: Status.UNAVAILABLE, delayMs: 300 }, {}]);
    const ch = channel(server.port, retryPolicy(), {}, { retryBufferBytes: 150 });
    // Two calls of 100 bytes at once: the second one does not fit the channel's 150 bytes and commits.
    const results = await Promise.allSettled([call(ch, 'a'.repeat(100)), call(ch, 'b'.repeat(100))]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('retryThrottling stops retries under sustained failure', async () => {
    const server = await scripted([{ status: Status.UNAVAILABLE }]);
    const ch = channel(server.port, retryPolicy({ maxAttempts: 5, initialBackoff: '0.01s', maxBackoff: '0.01s' }), { retryThrottling: { maxTokens: 10, tokenRatio: 1 } });
    const attempts: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = server.seen.length;
      await expect(call(ch)).rejects.toMatchObject({ code: Status.UNAVAILABLE });
      attempts.push(server.seen.length - before);
    }
    // 10 tokens, one per failed attempt, retries only while more than 5 are left.
    // Call 1: 10 -> 5 tokens over 5 attempts. Then 4 left after each call's first failure: no retry.
    expect(attempts).toEqual([5, 1, 1, 1, 1, 1]);
  });
});

describe('hedgingPolicy (gRFC A6)', () => {
  const hedging = (over: object = {}) => ({ hedgingPolicy: { maxAttempts: 3, hedgingDelay: '0.2s', nonFatalStatusCodes: ['UNAVAILABLE'], ...over } });

  it('sends a new attempt every hedgingDelay, takes the first answer and cancels the rest', async () => {
    const server = await scripted([{ delayMs: 5000 }, { delayMs: 5000 }, { delayMs: 50 }]);
    const started = performance.now();
    expect(text(await call(channel(server.port, hedging())))).toBe('attempt 2');
    expect(server.seen.map((s) => s.previous)).toEqual([undefined, '1', '2']);
    expect(server.seen[1].at - server.seen[0].at).toBeGreaterThanOrEqual(190);
    expect(server.seen[2].at - server.seen[1].at).toBeGreaterThanOrEqual(190);
    expect(performance.now() - started).toBeLessThan(4000);
    await until(() => server.seen[0].cancelled && server.seen[1].cancelled);
  });

  it('a non-fatal status starts the next attempt at once; a fatal one ends the call', async () => {
    const nonFatal = await scripted([{ status: Status.UNAVAILABLE }, {}]);
    const started = performance.now();
    await call(channel(nonFatal.port, hedging({ hedgingDelay: '10s' })));
    expect(nonFatal.seen).toHaveLength(2);
    expect(performance.now() - started).toBeLessThan(5000);
    const fatal = await scripted([{ status: Status.NOT_FOUND }, {}]);
    await expect(call(channel(fatal.port, hedging({ hedgingDelay: '10s' })))).rejects.toMatchObject({ code: Status.NOT_FOUND });
    expect(fatal.seen).toHaveLength(1);
  });
});

async function until(condition: () => boolean, withinMs = 5000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
