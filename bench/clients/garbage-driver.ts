// Client-side garbage per call: a fixed number of calls at concurrency 100,
// counted with countGarbage (bench/garbage.ts). The driver records nothing
// per call (no latency array), so what it allocates is only the call itself
// plus the driver's own await or callback, which the 'harness floor' rows
// measure with a client that does no I/O.
import type { EchoClient } from '../echo.js';
import { countGarbage } from '../garbage.js';

export interface GarbageResult {
  calls: number;
  errors: number;
  bytesPerCall: number;
  gcs: number;
  gcMs: number;
}

type Call = 'unary' | 'order';

/** Runs `calls` calls with `concurrency` in flight; resolves when all are done. */
function drive(client: EchoClient, what: Call, payload: Buffer, order: object, calls: number, concurrency: number): Promise<number> {
  let issued = 0;
  let errors = 0;
  if (what === 'unary' && client.unaryCb) {
    const cb = client.unaryCb;
    return new Promise((resolve) => {
      let inFlight = 0;
      const next = (err: Error | null) => {
        if (err) errors++;
        inFlight--;
        if (issued < calls) {
          issued++;
          inFlight++;
          cb(payload, next);
        } else if (inFlight === 0) resolve(errors);
      };
      for (let i = 0; i < concurrency && issued < calls; i++) {
        issued++;
        inFlight++;
        cb(payload, next);
      }
    });
  }
  const one = what === 'unary' ? () => client.unary(payload) : () => client.order!(order);
  const worker = async () => {
    while (issued < calls) {
      issued++;
      try {
        await one();
      } catch {
        errors++;
      }
    }
  };
  return Promise.all(Array.from({ length: concurrency }, worker)).then(() => errors);
}

export async function measureGarbage(client: EchoClient, what: Call, payload: Buffer, order: object, calls: number): Promise<GarbageResult> {
  await drive(client, what, payload, order, Math.ceil(calls / 4), 100); // warm-up: JIT, pools, session state
  const counter = countGarbage();
  const errors = await drive(client, what, payload, order, calls, 100);
  const g = counter.stop();
  return { calls, errors, bytesPerCall: g.bytes / calls, gcs: g.gcs, gcMs: g.gcMs };
}

/** A client that does no I/O: what the drivers themselves allocate per call. */
export function nullClient(kind: 'promise' | 'callback'): EchoClient {
  const fail = () => {
    throw new Error('not supported by the null client');
  };
  return {
    unary: (payload) => Promise.resolve(payload),
    unaryCb: kind === 'callback' ? (payload, cb) => process.nextTick(cb, null, payload) : undefined,
    order: (msg) => Promise.resolve(msg),
    serverStream: fail,
    clientStream: fail,
    pingPong: fail,
    close() {},
  };
}
