// Runs the benchmark harness in --smoke mode (a few seconds of load) and checks
// that it produced a complete report: every scenario row in every section with
// numeric values. No timing thresholds: smoke numbers are not meaningful.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCENARIOS = ['unary-100B-c1', 'unary-100B-c100', 'server-stream-1KiB', 'client-stream-1KiB', 'bidi-pingpong-100B', 'unary-1MiB'];
const NUM = /^-?[\d,]+(\.\d+)?$/;

/** Table rows (cells) under the `## heading` that starts with `title`. */
function section(md: string, title: string): string[][] {
  const start = md.indexOf(`\n## ${title}`);
  if (start < 0) return [];
  const body = md.slice(start + 1).split('\n## ')[0];
  return body
    .split('\n')
    .filter((l) => l.startsWith('|') && !l.startsWith('|---'))
    .slice(1)
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}

function expectScenarioRows(rows: string[][], impls: string[], where: string): void {
  for (const scenario of SCENARIOS) {
    for (const impl of impls) {
      const row = rows.find((r) => r[0] === scenario && r[1] === impl);
      expect(row, `${where}: no row for ${scenario} / ${impl}`).toBeDefined();
      const [throughput, p50, p99] = row!.slice(2, 5);
      expect(throughput.split(' ')[0], `${where} ${scenario} ${impl} throughput (${throughput})`).toMatch(NUM);
      expect(p50, `${where} ${scenario} ${impl} p50`).toMatch(NUM);
      expect(p99, `${where} ${scenario} ${impl} p99`).toMatch(NUM);
      expect(row![7], `${where} ${scenario} ${impl} CPU/call`).toMatch(NUM);
      expect(row![9], `${where} ${scenario} ${impl} errors`).toBe('0');
    }
  }
}

describe('benchmark harness (--smoke)', () => {
  it('produces a full result table', { timeout: 600_000 }, () => {
    const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
    const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: repoRoot, encoding: 'utf8' });
    expect(fs.existsSync(path.join(repoRoot, 'dist/bench/run.js')), `${build.stdout}${build.stderr}`).toBe(true);

    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-')), 'RESULTS.md');
    const run = spawnSync(process.execPath, ['dist/bench/run.js', '--smoke'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 540_000,
      env: { ...process.env, BENCH_OUT: out },
    });
    expect(run.status, run.stderr).toBe(0);
    const md = fs.readFileSync(out, 'utf8');
    expect(run.stdout).toBe(md);

    const hasGo = md.includes('go version go');
    if (!md.includes('h2load unavailable')) {
      expectScenarioRows(section(md, 'Server side'), ['bare', 'grpc-js', 'tsgrpc', ...(hasGo ? ['go'] : [])], 'server');
    }
    expectScenarioRows(section(md, 'Client side'), ['bare', 'grpc-js', 'tsgrpc'], 'client');
    expectScenarioRows(
      section(md, 'Pairings'),
      ['bare → bare', 'grpc-js → grpc-js', 'tsgrpc → grpc-js', 'grpc-js → tsgrpc', 'tsgrpc → tsgrpc'],
      'pairings',
    );

    const targets = section(md, 'Targets');
    expect(targets.length).toBeGreaterThanOrEqual(4);
    for (const t of targets.filter((r) => !r[0].startsWith('server') || !md.includes('h2load unavailable'))) {
      expect(t[1], `target ${t[0]}`).toMatch(/^[\d,.]+×$/);
    }

    // Rotated-rounds report: per-round ratios next to every compared row.
    const client = section(md, 'Client side');
    expect(client.find((r) => r[0] === 'unary-100B-c100' && r[1] === 'tsgrpc')?.[10]).toMatch(/^[\d.]+(, [\d.]+)* \([\d.]+–[\d.]+\)$/);
    expect(md).toMatch(/Load average \(1 \/ 5 \/ 15 min\) before: [\d.]+ \/ [\d.]+ \/ [\d.]+/);

    // Realistic scenarios: the protobuf Order on both Node libraries, grpc-timeout under h2load, ghz against every server.
    const pairs = section(md, 'Pairings');
    for (const impl of ['grpc-js → grpc-js', 'tsgrpc → tsgrpc']) {
      const row = pairs.find((r) => r[0] === 'proto-order-c100' && r[1] === impl);
      expect(row, `proto ${impl}`).toBeDefined();
      expect(row![9], `proto ${impl} errors`).toBe('0');
    }
    if (!md.includes('h2load unavailable')) {
      const timeout = section(md, 'Server side').filter((r) => r[0] === 'unary-100B-c100-timeout');
      expect(timeout.map((r) => r[1])).toEqual(expect.arrayContaining(['bare', 'grpc-js', 'tsgrpc']));
    }
    const ghz = section(md, 'ghz');
    for (const impl of ['grpc-js', 'tsgrpc', ...(hasGo ? ['go'] : [])]) {
      for (const id of ['ghz-unary-100B-c100', 'ghz-proto-order-c100']) {
        const row = ghz.find((r) => r[0] === id && r[1] === impl);
        expect(row, `ghz ${id} ${impl}`).toBeDefined();
        expect(row![2].split(' ')[0], `ghz ${id} ${impl} throughput`).toMatch(NUM);
      }
    }

    // Scaling with node:cluster and garbage per call (both need h2load).
    if (!md.includes('h2load unavailable')) {
      const cluster = section(md, 'Scaling across cores');
      for (const impl of ['tsgrpc ×1', 'tsgrpc ×2', 'grpc-js ×1', 'grpc-js ×2']) {
        const row = cluster.find((r) => r[1] === impl);
        expect(row, `cluster ${impl}`).toBeDefined();
        expect(row![2].split(' ')[0], `cluster ${impl} throughput`).toMatch(NUM);
      }
      const garbage = section(md, 'Garbage per call');
      for (const side of ['server', 'client']) {
        for (const impl of ['bare', 'grpc-js', 'tsgrpc']) {
          const row = garbage.find((r) => r[0] === side && r[1] === impl && r[2] === 'unary 100 B');
          expect(row, `garbage ${side} ${impl}`).toBeDefined();
          expect(row![4], `garbage ${side} ${impl} bytes/call`).toMatch(NUM);
          expect(Number(row![4].replace(/,/g, '')), `garbage ${side} ${impl} bytes/call`).toBeGreaterThan(1000);
        }
      }
    }

    const memory = section(md, 'Memory');
    for (const impl of ['tsgrpc', 'grpc-js']) {
      for (const phase of ['baseline', 'unary', 'streams']) {
        const row = memory.find((r) => r[0] === impl && r[1] === phase);
        expect(row, `memory ${impl} ${phase}`).toBeDefined();
        for (const cell of row!.slice(3)) expect(cell).toMatch(NUM);
      }
    }

    const micro = section(md, 'Frame codec');
    for (const size of ['100 B', '16,384 B', '1,048,576 B']) {
      for (const [op, impl] of [['decode', 'tsgrpc FrameDecoder'], ['decode', 'naive concat'], ['encode', 'tsgrpc encodeFrame']]) {
        const row = micro.find((r) => r[0] === op && r[1] === size && r[2] === impl);
        expect(row, `micro ${op} ${size} ${impl}`).toBeDefined();
        expect(row![3]).toMatch(NUM);
        expect(row![4]).toMatch(NUM);
      }
    }
  });
});
