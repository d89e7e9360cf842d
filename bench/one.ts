// Runs one scenario for one server and one client (or h2load), for quick
// checks and profiling. Usage:
//   node dist/bench/one.js <bare|grpc-js|tsgrpc|tsgrpc-compat|go> <bare|grpc-js|tsgrpc|tsgrpc-compat|h2load> <scenario-id>
// With BENCH_PROF=server|client that side runs under --cpu-prof
// (profiles in BENCH_PROF_DIR, default bench/.cache/prof).
import { ensureH2load, runH2load } from './h2load.js';
import { H2LOAD_EXTRA, PROTO_SCENARIOS, SCENARIOS, pathOf } from './scenarios.js';
import { medianOf } from './rounds.js';
import { CACHE_DIR } from './servers/go.js';
import { launchServer } from './servers/launch.js';
import { runClient } from './clients/launch.js';

const [serverImpl, clientImpl, id] = process.argv.slice(2);
const s = [...SCENARIOS, ...H2LOAD_EXTRA, ...PROTO_SCENARIOS].find((x) => x.id === id);
if (!serverImpl || !clientImpl || !s) {
  console.error(`usage: one.js <server> <client|h2load> <${SCENARIOS.map((x) => x.id).join('|')}>`);
  process.exit(2);
}
const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const warmup = Number(process.env.BENCH_WARMUP ?? 0.5);
// BENCH_ROUNDS runs of the same pair; prints the median (no rotation: one contender).
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const server = await launchServer(serverImpl);
try {
  if (clientImpl === 'h2load' && !ensureH2load()) throw new Error('h2load unavailable');
  const all = [];
  for (let i = 0; i < rounds; i++) {
    const r =
      clientImpl === 'h2load'
        ? await runH2load(s, server.port, pathOf(s), seconds, warmup, CACHE_DIR, () => server.cpuSeconds())
        : (await runClient(clientImpl, server.port, seconds, warmup, [s.id])).get(s.id);
    if (typeof r === 'string' || !r) throw new Error(r ?? 'no result');
    all.push(r);
  }
  const m = medianOf(all);
  console.log(JSON.stringify({ server: serverImpl, client: clientImpl, scenario: s.id, unit: s.unit, m }));
} finally {
  await server.stop();
}
