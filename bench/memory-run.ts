// Orchestrates the memory scenario: fresh server and client of one
// implementation, sampled (after forced GC) at baseline, after N unary calls
// and after M bidi streams.
import type { MemSnapshot } from './memory.js';
import { CLIENT_CPU, nextMessage, spawnNodeScript, stop } from './proc.js';
import { launchServer } from './servers/launch.js';
import type { ClientJob } from './clients/main.js';

export interface MemRow {
  impl: string;
  phase: string;
  calls?: number;
  errors?: number;
  client: MemSnapshot;
  server: MemSnapshot | null;
}

export async function runMemory(impl: string, unaryCalls: number, streams: number, maxSeconds: number): Promise<MemRow[]> {
  const server = await launchServer(impl);
  const job: ClientJob = { impl, port: server.port, mode: 'memory', unaryCalls, streams, maxSeconds };
  const child = spawnNodeScript(CLIENT_CPU, './clients/main.js', [JSON.stringify(job)]);
  const rows: MemRow[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const m = await nextMessage(child, 'mem', (maxSeconds + 30) * 1000);
      rows.push({ impl, phase: m.phase, calls: m.calls, errors: m.errors, client: m.mem, server: await server.mem() });
      child.send({ type: 'go' });
    }
    await nextMessage(child, 'done', 30_000);
  } finally {
    await stop(child);
    await server.stop();
  }
  return rows;
}
