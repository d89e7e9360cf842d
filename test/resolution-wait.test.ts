import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawServer } from './support/raw-http2.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let outDir: string;
let server: { port: number; close(): void };

beforeAll(async () => {
  // The client runs as plain JS in its own process: compile its script (and what it imports) inside the repo, for node_modules.
  fs.mkdirSync(path.join(repoRoot, '.cache'), { recursive: true });
  outDir = fs.mkdtempSync(path.join(repoRoot, '.cache/resolution-waiter-'));
  const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
  const args = ['--ignoreConfig', '--outDir', outDir, '--rootDir', '.', '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--strict', '--skipLibCheck', '--types', 'node', 'test/support/resolution-waiter.ts'];
  const r = spawnSync(process.execPath, [tsc, ...args], { cwd: repoRoot, encoding: 'utf8' });
  if (!fs.existsSync(path.join(outDir, 'test/support/resolution-waiter.js'))) throw new Error(`tsc failed:\n${r.stdout}${r.stderr}`);
  server = await rawServer((stream) => {
    stream.on('data', () => {});
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
    });
  });
}, 120_000);

afterAll(() => {
  server?.close();
  if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
});

/** Runs the client to its exit; what it printed, and whether it had to be killed. */
function runWaiter(mode: 'waitForReady' | 'failFast'): Promise<{ lines: string[]; killed: boolean; stderr: string }> {
  const child = spawn(process.execPath, [path.join(outDir, 'test/support/resolution-waiter.js'), String(server.port), mode], { stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let killed = false;
  const guard = setTimeout(() => {
    killed = true;
    child.kill();
  }, 30_000);
  return new Promise((resolve) => {
    child.on('exit', () => {
      clearTimeout(guard);
      resolve({ lines: stdout.split('\n').filter(Boolean), killed, stderr });
    });
  });
}

describe('a call waiting for name resolution', () => {
  it('keeps the process alive through the resolver retry backoff until the waitForReady call completes', async () => {
    const run = await runWaiter('waitForReady');
    expect(run.stderr).toBe('');
    expect(run.killed).toBe(false);
    expect(run.lines).toEqual([JSON.stringify({ outcome: 'ok' })]);
  }, 60_000);

  it('does not keep it alive once no call waits: a fail-fast call fails, and the process exits with the channel open', async () => {
    const run = await runWaiter('failFast');
    expect(run.stderr).toBe('');
    expect(run.killed).toBe(false);
    expect(run.lines).toEqual([JSON.stringify({ outcome: '14' })]);
  }, 60_000);
});
