// Closed-loop load generation inside a client process. Every loop is bounded
// by both a deadline and a maximum operation count, so it always stops.
import type { EchoClient } from './echo.js';
import { percentile, requestPayload, throughput, type Scenario } from './scenarios.js';

export interface Measurement {
  /** Completed calls (round trips for ping-pong). */
  calls: number;
  errors: number;
  firstError?: string;
  seconds: number;
  throughput: number;
  p50: number;
  p99: number;
}

const MAX_OPS = 2_000_000;
const MAX_ERRORS = 50;

/** One call of the scenario; throws if the response is wrong. */
function op(client: EchoClient, s: Scenario, payload: Buffer): () => Promise<void> {
  switch (s.kind) {
    case 'unary':
      return async () => {
        const r = await client.unary(payload);
        if (r.length !== payload.length) throw new Error(`unary echoed ${r.length} of ${payload.length} bytes`);
      };
    case 'serverStream':
      return async () => {
        const n = await client.serverStream(payload);
        if (n !== s.msgsPerCall) throw new Error(`server stream got ${n} of ${s.msgsPerCall} messages`);
      };
    case 'clientStream':
      return async () => {
        const n = await client.clientStream(payload, s.msgsPerCall);
        if (n !== s.msgsPerCall) throw new Error(`server counted ${n} of ${s.msgsPerCall} messages`);
      };
    case 'bidi':
      throw new Error('bidi is driven by pingPong');
  }
}

/** Runs `concurrency` workers issuing calls back to back until time or count is up. */
export async function closedLoop(
  call: () => Promise<void>,
  concurrency: number,
  seconds: number,
  maxOps = MAX_OPS,
): Promise<{ lat: number[]; errors: number; firstError?: string; seconds: number }> {
  const lat: number[] = [];
  let issued = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const end = start + seconds * 1000;
  const worker = async () => {
    while (issued < maxOps && errors < MAX_ERRORS && performance.now() < end) {
      issued++;
      const t0 = performance.now();
      try {
        await call();
        lat.push(performance.now() - t0);
      } catch (e) {
        errors++;
        firstError ??= String((e as Error)?.message ?? e);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { lat, errors, firstError, seconds: (performance.now() - start) / 1000 };
}

async function pingPongLoop(client: EchoClient, s: Scenario, payload: Buffer, seconds: number) {
  const lat: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  let errors = 0;
  let firstError: string | undefined;
  try {
    await client.pingPong(payload, (rtt) => {
      lat.push(rtt);
      return lat.length < MAX_OPS && performance.now() < end;
    });
  } catch (e) {
    errors++;
    firstError = String((e as Error)?.message ?? e);
  }
  return { lat, errors, firstError, seconds: (performance.now() - start) / 1000 };
}

/** Warms up, then measures one scenario. */
export async function measure(client: EchoClient, s: Scenario, seconds: number, warmup: number): Promise<Measurement> {
  const payload = requestPayload(s);
  const run = (secs: number) =>
    s.kind === 'bidi' ? pingPongLoop(client, s, payload, secs) : closedLoop(op(client, s, payload), s.concurrency, secs);
  if (warmup > 0) await run(warmup);
  const r = await run(seconds);
  const sorted = Float64Array.from(r.lat).sort();
  return {
    calls: r.lat.length,
    errors: r.errors,
    firstError: r.firstError,
    seconds: r.seconds,
    throughput: throughput(s, r.lat.length, r.seconds),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
  };
}
