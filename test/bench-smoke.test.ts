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
      expect(throughput.split(' ')[0], `${where} ${scenario} ${impl} throughput`).toMatch(NUM);
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
