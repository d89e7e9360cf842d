// Turns measurements into the markdown report (stdout and bench/RESULTS.md),
// with ratios to grpc-js and bare node:http2 and the target checks.
import type { Measurement } from './load.js';
import type { MemRow } from './memory-run.js';
import type { MicroRow } from './micro-frame.js';
import { SCENARIOS } from './scenarios.js';

export type Section = 'server' | 'client' | 'pair';

export interface Row {
  section: Section;
  scenario: string;
  client: string;
  server: string;
  m: Measurement | null;
  error?: string;
}

export interface Report {
  header: string[];
  refServer: string;
  rows: Row[];
  memory: MemRow[];
  micro: MicroRow[];
  notes: string[];
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n) ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mib = (b: number) => fmt(b / (1 << 20), 1);
const ratio = (a?: number, b?: number) => (a && b ? `${fmt(a / b, 2)}×` : '–');

/** The label of a row's implementation within its section. */
function label(r: Row): string {
  if (r.section === 'server') return r.server;
  if (r.section === 'client') return r.client;
  return `${r.client} → ${r.server}`;
}

function find(rows: Row[], section: Section, scenario: string, lbl: string): Row | undefined {
  return rows.find((r) => r.section === section && r.scenario === scenario && label(r) === lbl);
}

const BASELINES: Record<Section, [string, string]> = {
  server: ['grpc-js', 'bare'],
  client: ['grpc-js', 'bare'],
  pair: ['grpc-js → grpc-js', 'bare → bare'],
};

function sectionTable(rows: Row[], section: Section): string[] {
  const [gj, bare] = BASELINES[section];
  const out = [
    `| scenario | implementation | throughput | p50 ms | p99 ms | vs grpc-js | vs bare http2 | ${section === 'server' ? 'server' : 'client'} CPU µs/call | calls | errors |`,
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of SCENARIOS) {
    const g = find(rows, section, s.id, gj)?.m?.throughput;
    const b = find(rows, section, s.id, bare)?.m?.throughput;
    for (const r of rows.filter((x) => x.section === section && x.scenario === s.id)) {
      const m = r.m;
      const tp = m ? `${fmt(m.throughput, s.unit === 'MB/s' ? 1 : 0)} ${s.unit}` : `error: ${r.error}`;
      const err = m ? (m.errors ? `${m.errors} (${m.firstError ?? ''})` : '0') : '–';
      out.push(
        `| ${s.id} | ${label(r)} | ${tp} | ${fmt(m?.p50, 3)} | ${fmt(m?.p99, 3)} | ${ratio(m?.throughput, g)} | ${ratio(m?.throughput, b)} | ${fmt(m?.cpuPerCall, 1)} | ${fmt(m?.calls)} | ${err} |`,
      );
    }
  }
  return out;
}

interface Target {
  name: string;
  /** Throughput ratio: what the target is judged on. */
  value?: number;
  /** The same comparison by CPU time per call (baseline ÷ tsgrpc), which other load on the machine barely affects. */
  cpu?: number;
  min: number;
}

function targets(rows: Row[]): Target[] {
  const tp = (section: Section, scenario: string, lbl: string) => find(rows, section, scenario, lbl)?.m?.throughput;
  const cpu = (section: Section, scenario: string, lbl: string) => find(rows, section, scenario, lbl)?.m?.cpuPerCall;
  const out: Target[] = [];
  for (const [section, min, title] of [['server', 0.95, 'server (h2load)'], ['client', 0.9, 'client']] as const) {
    for (const s of SCENARIOS) {
      const t = tp(section, s.id, 'tsgrpc');
      const b = tp(section, s.id, 'bare');
      const tc = cpu(section, s.id, 'tsgrpc');
      const bc = cpu(section, s.id, 'bare');
      out.push({ name: `${title} ${s.id}: tsgrpc / bare`, value: t && b && t / b, cpu: tc && bc && bc / tc, min });
    }
  }
  const both = (id: string, min: number) => {
    const t = tp('pair', id, 'tsgrpc → tsgrpc');
    const g = tp('pair', id, 'grpc-js → grpc-js');
    out.push({ name: `both sides ${id}: tsgrpc / grpc-js`, value: t && g && t / g, min });
  };
  both('unary-100B-c100', 2.3);
  both('server-stream-1KiB', 2);
  both('client-stream-1KiB', 2);
  both('unary-1MiB', 1.5);
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
    out.push(`| ${r.op} | ${fmt(r.size)} B | ${r.impl} | ${fmt(r.mbps, 1)} | ${fmt(r.framesPerSec)} | ${ratio(r.mbps, naive?.mbps)} |`);
  }
  return out;
}

export function renderReport(rep: Report): string {
  const tg = targets(rep.rows);
  const lines = [
    '# tsgrpc benchmark results',
    '',
    ...rep.header.map((h) => `- ${h}`),
    '',
    '## Targets',
    '',
    'Judged on throughput ratios. "by CPU/call" is the same comparison by CPU time per call of the side under test (baseline ÷ tsgrpc), which competing load on the machine barely affects.',
    '',
    '| target | measured | by CPU/call | required | met |',
    '|---|---:|---:|---:|---|',
    ...tg.map(
      (t) =>
        `| ${t.name} | ${t.value ? `${fmt(t.value, 2)}×` : 'n/a'} | ${t.cpu ? `${fmt(t.cpu, 2)}×` : '–'} | ≥ ${t.min}× | ${t.value === undefined ? 'n/a' : t.value >= t.min ? 'yes' : '**no**'} |`,
    ),
    '',
    '## Server side: each server under h2load (same native load generator)',
    '',
    ...sectionTable(rep.rows, 'server'),
    '',
    `## Client side: each client against the ${rep.refServer} server`,
    '',
    ...sectionTable(rep.rows, 'client'),
    '',
    '## Pairings: client → server',
    '',
    ...sectionTable(rep.rows, 'pair'),
    '',
    '## Memory (after forced GC; one connection, concurrency 100)',
    '',
    ...memoryTable(rep.memory),
    '',
    '## Frame codec micro-benchmark (random 1..16384-byte chunks)',
    '',
    ...microTable(rep.micro),
    '',
    '## Notes',
    '',
    ...rep.notes.map((n) => `- ${n}`),
    '',
  ];
  return lines.join('\n');
}
