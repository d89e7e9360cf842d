// The API reference: every public export (every entry of package.json "exports", see
// tools/docs/typedoc.config.mjs) has a doc comment, and docs/api is what TypeDoc makes of them now.
// The one exception is a recorded debt: members of the grpc-js compatibility module (which mirrors
// @grpc/grpc-js's documented API) that had no comment when this test came in, listed in
// tools/docs/undocumented-baseline.txt. The list may only shrink: a new undocumented export fails, and
// so does a listed one that got its comment (take it off the list).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const docsTool = path.join(repoRoot, 'tools/docs');
const typedoc = path.join(docsTool, 'node_modules/typedoc/bin/typedoc');
let outDir: string;
let run: { status: number | null; output: string };

beforeAll(() => {
  // TypeDoc runs with its own TypeScript 5 (tools/docs/package.json); .ci/run installs it, this covers a fresh clone.
  if (!fs.existsSync(typedoc)) {
    execFileSync('npm', ['ci', '--prefix', docsTool, '--no-audit', '--no-fund'], { stdio: 'pipe', timeout: 300_000 });
  }
  fs.mkdirSync(path.join(repoRoot, '.cache'), { recursive: true });
  outDir = fs.mkdtempSync(path.join(repoRoot, '.cache/api-docs-'));
  // Output to a file: writes to a pipe are asynchronous, and TypeDoc may exit before they are all flushed.
  const log = path.join(outDir, '..', `${path.basename(outDir)}.log`);
  const fd = fs.openSync(log, 'w');
  const status = spawnSync(process.execPath, [typedoc, '--out', outDir], {
    cwd: docsTool, stdio: ['ignore', fd, fd], timeout: 300_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  }).status;
  fs.closeSync(fd);
  run = { status, output: fs.readFileSync(log, 'utf8') };
  fs.rmSync(log);
}, 360_000);
afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.set(path.relative(dir, full), fs.readFileSync(full, 'utf8'));
  }
  return out;
}

describe('API reference', () => {
  it('every public export and its members are documented (TypeDoc validation), but for the recorded grpc-js debt', () => {
    const { output } = run;
    expect(run.status, output).toBe(0);
    expect(output.split('\n').filter((l) => l.startsWith('[error]'))).toEqual([]);
    const warnings = new Set(output.split('\n').filter((l) => l.startsWith('[warning]') && !/^\[warning\] Found \d+ errors/.test(l)).map((l) => l.slice('[warning] '.length)));
    const baseline = new Set(fs.readFileSync(path.join(docsTool, 'undocumented-baseline.txt'), 'utf8').split('\n').filter(Boolean));
    for (const entry of baseline) expect(entry, 'the baseline is for the grpc-js module only').toMatch(/src\/grpc-js\/|grpc-js\./);
    const fresh = [...warnings].filter((w) => !baseline.has(w));
    expect(fresh, `document these, then run \`npm run docs\`:\n${fresh.join('\n')}`).toEqual([]);
    const paid = [...baseline].filter((b) => !warnings.has(b));
    expect(paid, 'documented now: remove these lines from tools/docs/undocumented-baseline.txt').toEqual([]);
  });

  it('covers every entry point in package.json exports', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const entries = Object.keys(pkg.exports).filter((k) => k !== './package.json');
    const index = fs.readFileSync(path.join(outDir, 'README.md'), 'utf8');
    expect(entries.length).toBeGreaterThan(0);
    // One entry point: its exports are at the top level. Several: one module page per subpath.
    if (entries.length === 1) expect(index).toContain('## Classes');
    else for (const entry of entries) expect(index).toContain(entry === '.' ? 'index' : entry.slice(2));
  });

  it('docs/api is up to date with the doc comments (regenerate with `npm run docs`)', () => {
    const fresh = files(outDir);
    const committed = files(path.join(repoRoot, 'docs/api'));
    expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
    const stale = [...fresh].filter(([name, text]) => committed.get(name) !== text).map(([name]) => name);
    expect(stale, 'these pages differ from what the comments generate: run `npm run docs`').toEqual([]);
  });
});
