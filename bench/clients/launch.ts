// Runs a client implementation's scenarios in its own pinned child process.
import type { Measurement } from '../load.js';
import { CLIENT_CPU, nextMessage, spawnNodeScript, stop } from '../proc.js';
import { SCENARIOS } from '../scenarios.js';
import type { ClientJob } from './main.js';

/** Results by scenario id; a scenario that failed maps to its error text. */
export async function runClient(
  impl: string,
  port: number,
  seconds: number,
  warmup: number,
  repeats = 1,
  only = SCENARIOS.map((s) => s.id),
): Promise<Map<string, Measurement | string>> {
  const job: ClientJob = { impl, port, mode: 'scenarios', seconds, warmup, repeats, scenarios: only };
  const child = spawnNodeScript(CLIENT_CPU, './clients/main.js', [JSON.stringify(job)]);
  const out = new Map<string, Measurement | string>();
  try {
    for (const id of only) {
      const r = await nextMessage(child, 'result', ((seconds + 6) * repeats + warmup + 30) * 1000);
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
