// Runs one scenario for one server and one client (or h2load), for quick
// checks and profiling. Usage:
//   node dist/bench/one.js <bare|grpc-js|tsgrpc|tsgrpc-compat|go> <bare|grpc-js|tsgrpc|tsgrpc-compat|h2load> <scenario-id>
// With BENCH_PROF=server|client that side runs under --cpu-prof
// (profiles in BENCH_PROF_DIR, default bench/.cache/prof).
import { PATHS } from './echo.js';
import { ensureH2load, runH2load } from './h2load.js';
import { SCENARIOS } from './scenarios.js';
import { bestOf } from './load.js';
import { CACHE_DIR } from './servers/go.js';
import { launchServer } from './servers/launch.js';
import { runClient } from './clients/launch.js';

const [serverImpl, clientImpl, id] = process.argv.slice(2);
const s = SCENARIOS.find((x) => x.id === id);
if (!serverImpl || !clientImpl || !s) {
  console.error(`usage: one.js <server> <client|h2load> <${SCENARIOS.map((x) => x.id).join('|')}>`);
  process.exit(2);
}
const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const warmup = Number(process.env.BENCH_WARMUP ?? 0.5);
const repeats = Number(process.env.BENCH_REPEAT ?? 1);
const server = await launchServer(serverImpl);
try {
  const m =
    clientImpl === 'h2load'
      ? ensureH2load() && (await bestOf(repeats, () => runH2load(s, server.port, PATHS[s.kind], seconds, warmup, CACHE_DIR, () => server.cpuSeconds())))
      : (await runClient(clientImpl, server.port, seconds, warmup, repeats, [s.id])).get(s.id);
  console.log(JSON.stringify({ server: serverImpl, client: clientImpl, scenario: s.id, unit: s.unit, m }));
} finally {
  await server.stop();
}
