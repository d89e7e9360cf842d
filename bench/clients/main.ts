// Child-process entry for a load-generating client:
//   node main.js '<json ClientJob>'
// Sends {type:'result', id, m} per scenario (or {type:'mem', ...} in memory
// mode, {type:'garbage', ...} in garbage mode) over IPC, then {type:'done'}, and exits.
import { closedLoop, measure } from '../load.js';
import { memorySnapshot } from '../memory.js';
import { PROTO_SCENARIOS, SCENARIOS } from '../scenarios.js';
import { sampleOrder } from '../orders.js';
import { measureGarbage, nullClient } from './garbage-driver.js';
import { makePayload } from '../echo.js';
import { connect } from './connect.js';

export interface ClientJob {
  impl: string;
  port: number;
  mode: 'scenarios' | 'memory' | 'garbage';
  /** Garbage mode: what to call ('unary' 100 B or the protobuf 'order'). */
  call?: 'unary' | 'order';
  scenarios?: string[];
  seconds?: number;
  warmup?: number;
  repeats?: number;
  unaryCalls?: number;
  streams?: number;
  /** Upper bound on each memory phase, so it stops even if calls are slow. */
  maxSeconds?: number;
}

process.on('SIGTERM', () => process.exit(0)); // lets --cpu-prof write its profile
const job = JSON.parse(process.argv[2] ?? '{}') as ClientJob;
const send = (m: object) => new Promise<void>((r) => process.send!(m, () => r()));
/** In memory mode the parent samples the server while we pause. */
const resume = () => new Promise<void>((r) => process.once('message', () => r()));
const report = async (m: object) => {
  const resumed = resume();
  await send(m);
  await resumed;
};
const client = job.impl.startsWith('null-') ? nullClient(job.impl === 'null-callback' ? 'callback' : 'promise') : await connect(job.impl, job.port);

if (job.mode === 'scenarios') {
  for (const s of [...SCENARIOS, ...PROTO_SCENARIOS].filter((x) => job.scenarios?.includes(x.id) ?? true)) {
    const m = await measure(client, s, job.seconds ?? 1, job.warmup ?? 0);
    await send({ type: 'result', id: s.id, m });
  }
} else if (job.mode === 'garbage') {
  const g = await measureGarbage(client, job.call ?? 'unary', makePayload(100), sampleOrder(), job.unaryCalls ?? 10_000);
  await send({ type: 'garbage', ...g });
} else {
  // Memory: retained memory after many unary calls, then after many streams.
  const payload = makePayload(100);
  await report({ type: 'mem', phase: 'baseline', mem: memorySnapshot() });
  const u = await closedLoop(async () => void (await client.unary(payload)), 100, job.maxSeconds ?? 60, job.unaryCalls);
  await report({ type: 'mem', phase: 'unary', calls: u.lat.length, errors: u.errors, mem: memorySnapshot() });
  const oneRound = async () => void (await client.pingPong(payload, () => false));
  const b = await closedLoop(oneRound, 100, job.maxSeconds ?? 60, job.streams);
  await report({ type: 'mem', phase: 'streams', calls: b.lat.length, errors: b.errors, mem: memorySnapshot() });
}
client.close();
await send({ type: 'done' });
process.exit(0);
