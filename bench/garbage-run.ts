// Garbage per call for every implementation, client and server side, each
// counted inside its own process with countGarbage (bench/garbage.ts):
// - server: h2load sends exactly N unary calls (1 connection, 100 streams);
//   the server process counts what it allocated in between;
// - client: the client process makes exactly N calls (concurrency 100) to a
//   bare node:http2 server (or, for the protobuf call, the grpc-go server,
//   which echoes bytes), after N/4 calls of warm-up.
import { runClientGarbage } from './clients/launch.js';
import { runH2loadCount } from './h2load.js';
import { PROTO_SCENARIOS, SCENARIOS, pathOf, type Scenario } from './scenarios.js';
import { CACHE_DIR } from './servers/go.js';
import { launchServer } from './servers/launch.js';

export interface GarbageRow {
  side: 'server' | 'client';
  impl: string;
  call: string;
  calls: number;
  errors: number;
  bytesPerCall?: number;
  gcs?: number;
  gcMs?: number;
  error?: string;
}

const UNARY = SCENARIOS[1]; // unary 100 B, c=100
const PROTO = PROTO_SCENARIOS[0];
export const CALL_LABEL = { unary: 'unary 100 B', order: 'Order (protobuf)' } as const;
const errText = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0];

async function serverGarbage(impl: string, s: Scenario, call: string, calls: number): Promise<GarbageRow> {
  const row: GarbageRow = { side: 'server', impl, call, calls: 0, errors: 0 };
  try {
    const server = await launchServer(impl);
    try {
      await runH2loadCount(s, server.port, pathOf(s), Math.ceil(calls / 4), CACHE_DIR); // warm-up
      let done = 0;
      const g = await server.garbage(async () => {
        const m = await runH2loadCount(s, server.port, pathOf(s), calls, CACHE_DIR);
        done = m.calls;
        row.errors = m.errors;
      });
      row.calls = done;
      if (g && done > 0) Object.assign(row, { bytesPerCall: g.bytes / done, gcs: g.gcs, gcMs: g.gcMs });
    } finally {
      await server.stop();
    }
  } catch (e) {
    row.error = errText(e);
  }
  return row;
}

async function clientGarbage(impl: string, port: number, what: 'unary' | 'order', calls: number): Promise<GarbageRow> {
  const row: GarbageRow = { side: 'client', impl, call: CALL_LABEL[what], calls, errors: 0 };
  try {
    const g = await runClientGarbage(impl, port, what, calls);
    Object.assign(row, { errors: g.errors, bytesPerCall: g.bytesPerCall, gcs: g.gcs, gcMs: g.gcMs });
  } catch (e) {
    row.error = errText(e);
  }
  return row;
}

export async function runGarbage(calls: number, hasGo: boolean, log: (s: string) => void): Promise<GarbageRow[]> {
  const rows: GarbageRow[] = [];
  // tsgrpc-intercepted: a pass-through interceptor with every hook (bench/servers/tsgrpc.ts), the interceptor
  // layer's cost; tsgrpc-compat: the grpc-js code run on tsgrpc's grpc-js compatibility module.
  for (const impl of ['bare', 'grpc-js', 'tsgrpc', 'tsgrpc-intercepted', 'tsgrpc-compat']) {
    log(`garbage: ${impl} server`);
    rows.push(await serverGarbage(impl, UNARY, CALL_LABEL.unary, calls));
    if (impl === 'grpc-js' || impl === 'tsgrpc') rows.push(await serverGarbage(impl, PROTO, CALL_LABEL.order, calls));
  }
  const bare = await launchServer('bare');
  try {
    for (const impl of ['bare', 'grpc-js', 'tsgrpc', 'tsgrpc-intercepted', 'tsgrpc-compat', 'null-callback', 'null-promise']) {
      log(`garbage: ${impl} client`);
      rows.push(await clientGarbage(impl, bare.port, 'unary', calls));
    }
  } finally {
    await bare.stop();
  }
  const echo = await launchServer(hasGo ? 'go' : 'tsgrpc');
  try {
    for (const impl of ['grpc-js', 'tsgrpc', 'null-promise']) rows.push(await clientGarbage(impl, echo.port, 'order', calls));
  } finally {
    await echo.stop();
  }
  return rows;
}
