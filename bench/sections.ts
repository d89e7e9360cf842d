// The comparisons the report is made of. Each section names its contenders
// and how one contender is measured in one round; run.ts runs the rounds
// (rotated, see rounds.ts) and turns them into report rows.
import { runClient } from './clients/launch.js';
import { runGhz, GHZ_SCENARIOS } from './ghz.js';
import { runH2load } from './h2load.js';
import type { Measurement } from './load.js';
import { CLUSTER_SCENARIO, H2LOAD_EXTRA, PROTO_SCENARIOS, SCENARIOS, pathOf, type Scenario } from './scenarios.js';
import { CACHE_DIR } from './servers/go.js';
import { launchCluster, launchServer, type RunningServer } from './servers/launch.js';

export type Section = 'server' | 'client' | 'pair' | 'ghz' | 'cluster';

export interface Timing {
  seconds: number;
  warmup: number;
  /** h2load and ghz run a fixed number of calls instead of `seconds` (smoke mode: always completes some calls). */
  fixedCount?: boolean;
}

export interface SectionPlan {
  section: Section;
  contenders: string[];
  /** Measures one contender in one round: results by scenario id (a string is an error). */
  run(contender: string, t: Timing): Promise<Map<string, Measurement | string>>;
  /** Starts anything the whole section shares (e.g. the bare server for the client section). */
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
}

const errText = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0];

/** Runs `body` against a freshly launched server, turning a launch failure into per-scenario errors. */
async function withServer(
  launch: () => Promise<RunningServer>,
  ids: string[],
  body: (s: RunningServer) => Promise<Map<string, Measurement | string>>,
): Promise<Map<string, Measurement | string>> {
  let server: RunningServer;
  try {
    server = await launch();
  } catch (e) {
    return new Map(ids.map((id) => [id, errText(e)]));
  }
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

async function h2loadAll(server: RunningServer, scenarios: Scenario[], t: Timing): Promise<Map<string, Measurement | string>> {
  const out = new Map<string, Measurement | string>();
  for (const s of scenarios) {
    try {
      out.set(s.id, await runH2load(s, server.port, pathOf(s), t.seconds, t.warmup, CACHE_DIR, () => server.cpuSeconds(), t.fixedCount));
    } catch (e) {
      out.set(s.id, errText(e));
    }
  }
  return out;
}

/** The scenarios a server runs under h2load: the bare server has no protobuf service. */
export function serverScenarios(impl: string): Scenario[] {
  return [...SCENARIOS, ...H2LOAD_EXTRA, ...(impl === 'bare' ? [] : PROTO_SCENARIOS)];
}

/** Server side: every server under h2load. */
export function serverSection(servers: string[]): SectionPlan {
  return {
    section: 'server',
    contenders: servers,
    run: (impl, t) => {
      const scenarios = serverScenarios(impl);
      return withServer(() => launchServer(impl), scenarios.map((s) => s.id), (server) => h2loadAll(server, scenarios, t));
    },
  };
}

/** Client side: every client against one bare node:http2 server, so only client cost differs. */
export function clientSection(clients: string[]): SectionPlan {
  let bare: RunningServer | undefined;
  const ids = SCENARIOS.map((s) => s.id);
  return {
    section: 'client',
    contenders: clients,
    async setup() {
      bare = await launchServer('bare');
    },
    async teardown() {
      await bare?.stop();
    },
    run: (client, t) => runClient(client, bare!.port, t.seconds, t.warmup, ids),
  };
}

/** "client → server" labels for the pair section. */
export const PAIRS = ['bare → bare', 'grpc-js → grpc-js', 'tsgrpc → grpc-js', 'grpc-js → tsgrpc', 'tsgrpc → tsgrpc'];

/** Both sides: each pairing, its server launched per round; the Node libraries also run the protobuf scenario. */
export function pairSection(pairs = PAIRS): SectionPlan {
  return {
    section: 'pair',
    contenders: pairs,
    run: (pair, t) => {
      const [client, server] = pair.split(' → ');
      const ids = [...SCENARIOS, ...(client === 'bare' ? [] : PROTO_SCENARIOS)].map((s) => s.id);
      return withServer(() => launchServer(server), ids, (s) => runClient(client, s.port, t.seconds, t.warmup, ids));
    },
  };
}

/** ghz as a third-party client against each server that has the protobuf services. */
export function ghzSection(servers: string[]): SectionPlan {
  const ids = GHZ_SCENARIOS.map((s) => s.id);
  return {
    section: 'ghz',
    contenders: servers,
    run: (impl, t) =>
      withServer(() => launchServer(impl), ids, async (server) => {
        const out = new Map<string, Measurement | string>();
        for (const s of GHZ_SCENARIOS) {
          try {
            out.set(s.id, await runGhz(s, server.port, t.seconds, t.warmup, () => server.cpuSeconds(), t.fixedCount));
          } catch (e) {
            out.set(s.id, errText(e));
          }
        }
        return out;
      }),
  };
}

/** Contender label for a cluster run: "<impl> ×<workers>". */
export const clusterLabel = (impl: string, workers: number) => `${impl} ×${workers}`;

/** node:cluster scaling: 1 and 2 workers sharing a port, under h2load over 4 connections. */
export function clusterSection(impls: string[]): SectionPlan {
  const contenders = impls.flatMap((impl) => [clusterLabel(impl, 1), clusterLabel(impl, 2)]);
  return {
    section: 'cluster',
    contenders,
    run: (label, t) => {
      const [impl, n] = label.split(' ×');
      return withServer(() => launchCluster(impl, Number(n)), [CLUSTER_SCENARIO.id], (server) => h2loadAll(server, [CLUSTER_SCENARIO], t));
    },
  };
}
