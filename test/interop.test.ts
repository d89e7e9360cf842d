// Runs the interop matrix (interop/run.ts) against grpc-go and asserts that
// every cell passed. Without Go it fails (locally and in CI), so
// a machine that lost Go cannot silently stop testing interop.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatTable, repoRoot, runMatrix } from '../interop/run.js';

const hasGo = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
const inCI = process.env.CI === 'true';

/** The matrix spawns dist/interop/*.js, so make sure they match the sources. */
function buildDist(): void {
  const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: repoRoot, encoding: 'utf8' });
  for (const f of ['dist/interop/server.js', 'dist/interop/client.js']) {
    if (!fs.existsSync(path.join(repoRoot, f))) throw new Error(`tsc did not produce ${f}:\n${r.stdout}${r.stderr}`);
  }
}

describe('interop with grpc-go', () => {
  it('passes every case in every direction', { timeout: 600_000 }, async () => {
    if (!hasGo) expect.fail(`\`go\` is not on PATH${inCI ? ' (CI=true)' : ''}: the grpc-go interop matrix cannot run; install Go 1.26+`);
    buildDist();
    const results = await runMatrix({ log: () => {} });
    const failed = results.filter((r) => !r.pass);
    const report = failed.map((f) => `--- ${f.config} / ${f.testCase} ---\n${f.log.trim().slice(-2000)}`).join('\n');
    expect(failed.length, `${formatTable(results)}\n\n${report}`).toBe(0);
    expect(results.length).toBeGreaterThan(0);
  });
});
