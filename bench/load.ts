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
  /** CPU time (user+system) of the measured process per completed call, µs. */
  cpuPerCall?: number;
}

const MAX_OPS = 2_000_000;
const MAX_ERRORS = 50;
/** A loop in which nothing completes for this long is declared stuck and abandoned. */
const STALL_MS = 5000;

/**
 * Resolves once `lastProgress()` is more than STALL_MS ago, so a hung call
 * cannot hang the benchmark; `cancel` stops the watchdog.
 */
function watchdog(lastProgress: () => number): { stalled: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<void>((resolve) => {
    timer = setInterval(() => performance.now() - lastProgress() > STALL_MS && resolve(), 250);
  });
  return { stalled, cancel: () => clearInterval(timer) };
}

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
  let inFlight = 0;
  let firstError: string | undefined;
  let stop = false;
  const start = performance.now();
  const end = start + seconds * 1000;
  let last = start;
  const worker = async () => {
    while (!stop && issued < maxOps && errors < MAX_ERRORS && performance.now() < end) {
      issued++;
      inFlight++;
      const t0 = performance.now();
      try {
        await call();
        last = performance.now();
        lat.push(last - t0);
      } catch (e) {
        last = performance.now();
        errors++;
        firstError ??= String((e as Error)?.message ?? e);
      }
      inFlight--;
    }
  };
  const dog = watchdog(() => last);
  const all = Promise.all(Array.from({ length: concurrency }, worker));
  const stuck = await Promise.race([all.then(() => false), dog.stalled.then(() => true)]);
  dog.cancel();
  if (stuck) {
    stop = true;
    errors += inFlight;
    firstError ??= `${inFlight} call(s) stuck: none completed for ${STALL_MS / 1000} s`;
  }
  return { lat, errors, firstError, seconds: (performance.now() - start) / 1000 };
}

async function pingPongLoop(client: EchoClient, payload: Buffer, seconds: number) {
  const lat: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  let last = start;
  let errors = 0;
  let firstError: string | undefined;
  const dog = watchdog(() => last);
  const run = client.pingPong(payload, (rtt) => {
    lat.push(rtt);
    last = performance.now();
    return lat.length < MAX_OPS && last < end;
  });
  try {
    if (await Promise.race([run.then(() => false), dog.stalled.then(() => true)])) {
      throw new Error(`ping-pong stuck: no round trip for ${STALL_MS / 1000} s`);
    }
  } catch (e) {
    errors++;
    firstError = String((e as Error)?.message ?? e);
  } finally {
    dog.cancel();
  }
  return { lat, errors, firstError, seconds: (performance.now() - start) / 1000 };
}

/** Warms up, then measures one scenario. */
export async function measure(client: EchoClient, s: Scenario, seconds: number, warmup: number, repeats = 1): Promise<Measurement> {
  const payload = requestPayload(s);
  const run = (secs: number) =>
    s.kind === 'bidi' ? pingPongLoop(client, payload, secs) : closedLoop(op(client, s, payload), s.concurrency, secs);
  if (warmup > 0) await run(warmup);
  return bestOf(repeats, async () => {
    // CPU per call is robust to other processes competing for the core, unlike throughput.
    const c0 = process.cpuUsage();
    const r = await run(seconds);
    const c = process.cpuUsage(c0);
    return { ...summarize(s, r), cpuPerCall: (c.user + c.system) / Math.max(1, r.lat.length) };
  });
}

/**
 * Runs a measurement `repeats` times and keeps the fastest: on a shared
 * machine, interference only ever slows a run down. Errors of all runs count.
 */
export async function bestOf(repeats: number, run: () => Promise<Measurement>): Promise<Measurement> {
  let best: Measurement | undefined;
  let errors = 0;
  let firstError: string | undefined;
  for (let i = 0; i < Math.max(1, repeats); i++) {
    const m = await run();
    errors += m.errors;
    firstError ??= m.firstError;
    if (!best || m.throughput > best.throughput) best = m;
  }
  return { ...best!, errors, firstError };
}

function summarize(s: Scenario, r: { lat: number[]; errors: number; firstError?: string; seconds: number }): Measurement {
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
