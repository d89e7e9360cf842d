// Closed-loop load generation inside a client process. Every loop is bounded
// by both a deadline and a maximum operation count, so it always stops.
import type { EchoClient } from './echo.js';
import { sampleOrder } from './orders.js';
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
    case 'proto': {
      const order = client.order;
      if (!order) throw new Error('this client has no protobuf (Order) method');
      const msg = sampleOrder();
      return async () => {
        const r = (await order(msg)) as { id?: string };
        if (r.id !== msg.id) throw new Error('Order echo came back different');
      };
    }
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

/** Warms up, then measures one scenario once (rounds are the caller's job: see rounds.ts). */
export async function measure(client: EchoClient, s: Scenario, seconds: number, warmup: number): Promise<Measurement> {
  const payload = requestPayload(s);
  const run = (secs: number) => {
    if (s.kind === 'bidi') return pingPongLoop(client, payload, secs);
    if (s.kind === 'unary' && client.unaryCb) return callbackLoop(unaryCbOp(client, payload), s.concurrency, secs);
    return closedLoop(op(client, s, payload), s.concurrency, secs);
  };
  if (warmup > 0) await run(warmup);
  // CPU per call is robust to other processes competing for the core, unlike throughput.
  const c0 = process.cpuUsage();
  const r = await run(seconds);
  const c = process.cpuUsage(c0);
  return { ...summarize(s, r), cpuPerCall: (c.user + c.system) / Math.max(1, r.lat.length) };
}

type Done = (err: Error | null, res?: Buffer) => void;

function unaryCbOp(client: EchoClient, payload: Buffer): (done: Done) => void {
  const size = payload.length;
  return (done) =>
    client.unaryCb!(payload, (err, res) => {
      if (!err && res!.length !== size) err = new Error(`unary echoed ${res!.length} of ${size} bytes`);
      done(err);
    });
}

/**
 * closedLoop for callback-style calls: no async function or promise per call,
 * so a client whose native API takes a callback is not charged for one.
 */
export function callbackLoop(
  call: (done: Done) => void,
  concurrency: number,
  seconds: number,
  maxOps = MAX_OPS,
): Promise<{ lat: number[]; errors: number; firstError?: string; seconds: number }> {
  const lat: number[] = [];
  let issued = 0;
  let errors = 0;
  let inFlight = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const end = start + seconds * 1000;
  let last = start;
  return new Promise((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      dog.cancel();
      resolve({ lat, errors, firstError, seconds: (performance.now() - start) / 1000 });
    };
    const next = () => {
      if (finished) return;
      if (issued >= maxOps || errors >= MAX_ERRORS || performance.now() >= end) {
        if (inFlight === 0) finish();
        return;
      }
      issued++;
      inFlight++;
      const t0 = performance.now();
      call((err) => {
        last = performance.now();
        inFlight--;
        if (err) {
          errors++;
          firstError ??= String(err.message ?? err);
        } else lat.push(last - t0);
        next();
      });
    };
    const dog = watchdog(() => last);
    dog.stalled.then(() => {
      errors += inFlight;
      firstError ??= `${inFlight} call(s) stuck: none completed for ${STALL_MS / 1000} s`;
      finish();
    });
    for (let i = 0; i < concurrency; i++) next();
  });
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
