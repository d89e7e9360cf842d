// Turns measurements into the markdown report (stdout and bench/RESULTS.md).
// Every row is the median over rotated rounds (rounds.ts); every ratio is
// taken within a round, and the report gives the median and the range of the
// per-round ratios.
import type { Measurement } from './load.js';
import type { MemRow } from './memory-run.js';
import type { MicroRow } from './micro-frame.js';
import type { GarbageRow } from './garbage-run.js';
import { CALL_LABEL } from './garbage-run.js';
import { median, roundRatios, type PerRound, type RatioStats } from './rounds.js';
import { GHZ_SCENARIOS } from './ghz.js';
import { CLUSTER_SCENARIO, H2LOAD_EXTRA, PROTO_SCENARIOS, SCENARIOS, type Scenario } from './scenarios.js';
import type { Section } from './sections.js';

export type { Section };

export interface Row {
  section: Section;
  scenario: string;
  /** The contender: server, client, "client → server", or "impl ×workers". */
  label: string;
  /** Median over rounds. */
  m: Measurement | null;
  rounds: PerRound;
  error?: string;
}

export interface Report {
  header: string[];
  rows: Row[];
  garbage: GarbageRow[];
  memory: MemRow[];
  micro: MicroRow[];
  notes: string[];
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n) ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mib = (b: number) => fmt(b / (1 << 20), 1);
const times = (r?: RatioStats) => (r ? `${fmt(r.median, 2)}×` : '–');
const range = (r?: RatioStats) => (r ? `${r.perRound.map((x) => fmt(x, 2)).join(', ')} (${fmt(r.min, 2)}–${fmt(r.max, 2)})` : '–');

function find(rows: Row[], section: Section, scenario: string, label: string): Row | undefined {
  return rows.find((r) => r.section === section && r.scenario === scenario && r.label === label);
}

/** Per section: the two baselines a row is compared with, and their column titles. */
const BASELINES: Record<Section, { a: (l: string) => string; b: (l: string) => string; titles: [string, string]; cpu: string }> = {
  server: { a: () => 'grpc-js', b: () => 'bare', titles: ['vs grpc-js', 'vs bare http2'], cpu: 'server' },
  client: { a: () => 'grpc-js', b: () => 'bare', titles: ['vs grpc-js', 'vs bare http2'], cpu: 'client' },
  pair: { a: () => 'grpc-js → grpc-js', b: () => 'bare → bare', titles: ['vs grpc-js', 'vs bare http2'], cpu: 'client' },
  ghz: { a: () => 'grpc-js', b: () => 'go', titles: ['vs grpc-js', 'vs grpc-go'], cpu: 'server' },
  cluster: {
    a: (l) => l.replace(/^\S+/, 'grpc-js'),
    b: (l) => l.replace(/×\d+$/, '×1'),
    titles: ['vs grpc-js (same workers)', 'vs 1 worker'],
    cpu: 'server (all workers)',
  },
};

const ALL_SCENARIOS: { id: string; unit: string }[] = [
  ...SCENARIOS,
  ...H2LOAD_EXTRA,
  ...PROTO_SCENARIOS,
  CLUSTER_SCENARIO,
  ...GHZ_SCENARIOS.map((g) => ({ id: g.id, unit: 'calls/s' })),
];

function ratio(rows: Row[], section: Section, scenario: string, label: string, base: string): RatioStats | undefined {
  const r = find(rows, section, scenario, label);
  const b = find(rows, section, scenario, base);
  return r && b && r !== b ? roundRatios(r.rounds, b.rounds) : undefined;
}

function sectionTable(rows: Row[], section: Section): string[] {
  const base = BASELINES[section];
  const out = [
    `| scenario | implementation | throughput | p50 ms | p99 ms | ${base.titles[0]} | ${base.titles[1]} | ${base.cpu} CPU µs/call | calls | errors | per round ${base.titles[1]} (range) |`,
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const s of ALL_SCENARIOS) {
    for (const r of rows.filter((x) => x.section === section && x.scenario === s.id)) {
      const m = r.m;
      const tp = m ? `${fmt(m.throughput, s.unit === 'MB/s' ? 1 : 0)} ${s.unit}` : `error: ${r.error}`;
      const err = m ? (m.errors ? `${m.errors} (${m.firstError ?? r.error ?? ''})` : '0') : '–';
      const ra = ratio(rows, section, s.id, r.label, base.a(r.label));
      const rb = ratio(rows, section, s.id, r.label, base.b(r.label));
      out.push(
        `| ${s.id} | ${r.label} | ${tp} | ${fmt(m?.p50, 3)} | ${fmt(m?.p99, 3)} | ${times(ra)} | ${times(rb)} | ${fmt(m?.cpuPerCall, 1)} | ${fmt(m?.calls)} | ${err} | ${range(rb)} |`,
      );
    }
  }
  return out;
}

interface Target {
  name: string;
  stats?: RatioStats;
  /** The same comparison by CPU time per call (baseline ÷ tsgrpc), which other load on the machine barely affects. */
  cpu?: number;
  bound: number;
  /** 'min': measured ≥ bound; 'max': measured ≤ bound. */
  kind: 'min' | 'max';
}

/** Per-round ratio of any field, a ÷ b. */
function fieldRatios(a: PerRound, b: PerRound, f: (m: Measurement) => number): RatioStats | undefined {
  const perRound = a.map((m, i) => (m && b[i] ? f(m) / f(b[i]!) : NaN));
  const ok = perRound.filter(Number.isFinite);
  if (!ok.length) return undefined;
  return { median: median(ok), min: Math.min(...ok), max: Math.max(...ok), perRound };
}

function targets(rows: Row[], garbage: GarbageRow[]): Target[] {
  const out: Target[] = [];
  const cpuRatio = (section: Section, id: string, base: string, label: string) => {
    const b = find(rows, section, id, base)?.m?.cpuPerCall;
    const t = find(rows, section, id, label)?.m?.cpuPerCall;
    return b && t ? b / t : undefined;
  };
  const add = (name: string, section: Section, id: string, label: string, base: string, bound: number) =>
    out.push({ name, stats: ratio(rows, section, id, label, base), cpu: cpuRatio(section, id, base, label), bound, kind: 'min' });
  for (const s of [...SCENARIOS, ...H2LOAD_EXTRA]) add(`server (h2load) ${s.id}: tsgrpc / bare`, 'server', s.id, 'tsgrpc', 'bare', 0.95);
  for (const s of SCENARIOS) add(`client (vs bare server) ${s.id}: tsgrpc / bare`, 'client', s.id, 'tsgrpc', 'bare', 0.95);
  for (const s of SCENARIOS) add(`both sides ${s.id}: tsgrpc pair / bare pair`, 'pair', s.id, 'tsgrpc → tsgrpc', 'bare → bare', s.kind === 'unary' && s.size === 100 ? 0.92 : 0.95);
  add('both sides unary-100B-c100: tsgrpc pair / grpc-js pair', 'pair', 'unary-100B-c100', 'tsgrpc → tsgrpc', 'grpc-js → grpc-js', 2.3);
  const c1 = (label: string) => find(rows, 'pair', 'unary-100B-c1', label)?.rounds;
  const t1 = c1('tsgrpc → tsgrpc');
  const b1 = c1('bare → bare');
  out.push({ name: 'both sides unary-100B-c1: p50 of bare pair / p50 of tsgrpc pair', stats: t1 && b1 && fieldRatios(b1, t1, (m) => m.p50), bound: 0.95, kind: 'min' });
  for (const g of GHZ_SCENARIOS) add(`ghz ${g.id}: tsgrpc server / grpc-js server`, 'ghz', g.id, 'tsgrpc', 'grpc-js', 1.6);
  for (const side of ['server', 'client'] as const) {
    const bytes = (impl: string) => garbage.find((g) => g.side === side && g.impl === impl && g.call === CALL_LABEL.unary)?.bytesPerCall;
    const t = bytes('tsgrpc');
    const b = bytes('bare');
    const r = t && b ? t / b : undefined;
    out.push({ name: `garbage per unary call, ${side}: tsgrpc / bare`, stats: r ? { median: r, min: r, max: r, perRound: [r] } : undefined, bound: 1.1, kind: 'max' });
  }
  return out;
}

function targetRow(t: Target): string {
  const v = t.stats?.median;
  const met = v === undefined ? 'n/a' : (t.kind === 'min' ? v >= t.bound : v <= t.bound) ? 'yes' : '**no**';
  const rng = t.stats && t.stats.perRound.length > 1 ? `${fmt(t.stats.min, 2)}–${fmt(t.stats.max, 2)}` : '–';
  return `| ${t.name} | ${v === undefined ? 'n/a' : `${fmt(v, 2)}×`} | ${rng} | ${t.cpu ? `${fmt(t.cpu, 2)}×` : '–'} | ${t.kind === 'min' ? '≥' : '≤'} ${t.bound}× | ${met} |`;
}

function missedSummary(tg: Target[]): string {
  const judged = tg.filter((t) => t.stats);
  const missed = judged.filter((t) => (t.kind === 'min' ? t.stats!.median < t.bound : t.stats!.median > t.bound));
  const unmeasured = tg.length - judged.length;
  return (
    `**${missed.length} of ${judged.length} measured targets missed**` +
    (unmeasured ? ` (${unmeasured} not measured in this run)` : '') +
    (missed.length ? `: ${missed.map((t) => t.name).join('; ')}. Each is explained, with the profile behind it, under "Targets missed in this run, and why" in the optimization log at the end.` : '.')
  );
}

function garbageTable(rows: GarbageRow[]): string[] {
  const out = [
    '| side | implementation | call | calls | bytes/call | vs bare | GCs | GC ms | errors |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const bare = rows.find((x) => x.side === r.side && x.impl === 'bare' && x.call === r.call)?.bytesPerCall;
    const vs = r.bytesPerCall && bare ? `${fmt(r.bytesPerCall / bare, 2)}×` : '–';
    out.push(
      `| ${r.side} | ${r.impl} | ${r.call} | ${fmt(r.calls)} | ${r.error ? `error: ${r.error}` : fmt(r.bytesPerCall)} | ${vs} | ${fmt(r.gcs)} | ${fmt(r.gcMs, 1)} | ${r.errors} |`,
    );
  }
  return out;
}

function memoryTable(mem: MemRow[]): string[] {
  const out = [
    '| implementation | after | calls | client RSS MiB | client heapUsed MiB | server RSS MiB | server heapUsed MiB |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of mem) {
    const calls = r.calls === undefined ? '–' : `${fmt(r.calls)}${r.errors ? ` (${r.errors} errors)` : ''}`;
    out.push(
      `| ${r.impl} | ${r.phase} | ${calls} | ${mib(r.client.rss)} | ${mib(r.client.heapUsed)} | ${r.server ? mib(r.server.rss) : 'n/a'} | ${r.server ? mib(r.server.heapUsed) : 'n/a'} |`,
    );
  }
  return out;
}

function microTable(micro: MicroRow[]): string[] {
  const out = ['| op | frame size | implementation | MB/s | frames/s | vs naive |', '|---|---:|---|---:|---:|---:|'];
  for (const r of micro) {
    const naive = micro.find((x) => x.op === r.op && x.size === r.size && x.impl === 'naive concat');
    out.push(`| ${r.op} | ${fmt(r.size)} B | ${r.impl} | ${fmt(r.mbps, 1)} | ${fmt(r.framesPerSec)} | ${naive?.mbps ? `${fmt(r.mbps / naive.mbps, 2)}×` : '–'} |`);
  }
  return out;
}

const titled = (xs: { id: string; title: string }[]) => xs.map((s) => `\`${s.id}\` = ${s.title}`).join('; ');

export function renderReport(rep: Report): string {
  const tg = targets(rep.rows, rep.garbage);
  const scenarioList: Scenario[] = [...SCENARIOS, ...H2LOAD_EXTRA, ...PROTO_SCENARIOS, CLUSTER_SCENARIO];
  const lines = [
    '# tsgrpc benchmark results',
    '',
    ...rep.header.map((h) => `- ${h}`),
    '',
    '## Targets',
    '',
    'Judged on the median of per-round throughput ratios (the range is over rounds). "by CPU/call" is the same comparison by CPU time per call of the side under test (baseline ÷ tsgrpc, medians), which competing load on the machine barely affects.',
    '',
    '| target | measured (median) | per-round range | by CPU/call | required | met |',
    '|---|---:|---:|---:|---:|---|',
    ...tg.map(targetRow),
    '',
    missedSummary(tg),
    '',
    '## Server side: each server under h2load (same native load generator)',
    '',
    ...sectionTable(rep.rows, 'server'),
    '',
    '## Client side: each client against the bare node:http2 server',
    '',
    ...sectionTable(rep.rows, 'client'),
    '',
    '## Pairings: client → server',
    '',
    ...sectionTable(rep.rows, 'pair'),
    '',
    '## ghz (third-party Go client, grpc-timeout on every call) against each server',
    '',
    ...sectionTable(rep.rows, 'ghz'),
    '',
    '## Scaling across cores: node:cluster workers sharing one port, under h2load',
    '',
    ...sectionTable(rep.rows, 'cluster'),
    '',
    '## Garbage per call (V8 heap bytes allocated per call, see bench/garbage.ts)',
    '',
    ...garbageTable(rep.garbage),
    '',
    '## Memory (after forced GC; one connection, concurrency 100)',
    '',
    ...memoryTable(rep.memory),
    '',
    '## Frame codec micro-benchmark (random 1..16384-byte chunks)',
    '',
    ...microTable(rep.micro),
    '',
    '## Scenarios',
    '',
    `- ${titled(scenarioList)}.`,
    `- ${titled(GHZ_SCENARIOS)}.`,
    '',
    '## Notes',
    '',
    ...rep.notes.map((n) => `- ${n}`),
    '',
  ];
  return lines.join('\n');
}
