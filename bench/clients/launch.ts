// Runs a client implementation in its own pinned child process: its
// scenarios (one measured run each; rounds are run.ts's job), or a fixed
// number of calls for garbage per call.
import type { Measurement } from '../load.js';
import { CLIENT_CPU, nextMessage, spawnNodeScript, stop } from '../proc.js';
import { SCENARIOS } from '../scenarios.js';
import type { GarbageResult } from './garbage-driver.js';
import type { ClientJob } from './main.js';

/** Results by scenario id; a scenario that failed maps to its error text. */
export async function runClient(
  impl: string,
  port: number,
  seconds: number,
  warmup: number,
  only = SCENARIOS.map((s) => s.id),
): Promise<Map<string, Measurement | string>> {
  const job: ClientJob = { impl, port, mode: 'scenarios', seconds, warmup, scenarios: only };
  const child = spawnNodeScript(CLIENT_CPU, './clients/main.js', [JSON.stringify(job)]);
  const out = new Map<string, Measurement | string>();
  try {
    for (const id of only) {
      const r = await nextMessage(child, 'result', (seconds + warmup + 36) * 1000);
      if (r.id !== id) throw new Error(`unexpected result order ${r.id}`);
      out.set(id, r.m);
    }
    await nextMessage(child, 'done', 10_000);
  } catch (e) {
    const msg = String((e as Error)?.message ?? e).split('\n')[0];
    for (const id of only) if (!out.has(id)) out.set(id, msg);
  } finally {
    await stop(child);
  }
  return out;
}

/** Garbage per call of `calls` calls (impl 'null-promise'/'null-callback': the driver alone, no port needed). */
export async function runClientGarbage(impl: string, port: number, call: 'unary' | 'order', calls: number): Promise<GarbageResult> {
  const job: ClientJob = { impl, port, mode: 'garbage', call, unaryCalls: calls };
  const child = spawnNodeScript(CLIENT_CPU, './clients/main.js', [JSON.stringify(job)]);
  try {
    const r = await nextMessage<GarbageResult>(child, 'garbage', 180_000);
    await nextMessage(child, 'done', 10_000);
    return r;
  } finally {
    await stop(child);
  }
}
