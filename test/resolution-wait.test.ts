import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDnsServer } from './support/dns-server.js';
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
function runWaiter(target: string, mode: 'waitForReady' | 'failFast', ...more: string[]): Promise<{ lines: string[]; killed: boolean; stderr: string }> {
  const child = spawn(process.execPath, [path.join(outDir, 'test/support/resolution-waiter.js'), target, mode, ...more], { stdio: 'pipe' });
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
    const run = await runWaiter(`flaky:///127.0.0.1:${server.port}`, 'waitForReady');
    expect(run.stderr).toBe('');
    expect(run.killed).toBe(false);
    expect(run.lines).toEqual([JSON.stringify({ outcome: 'ok' })]);
  }, 60_000);

  it('does not keep it alive once no call waits: a fail-fast call fails, and the process exits with the channel open', async () => {
    const run = await runWaiter(`flaky:///127.0.0.1:${server.port}`, 'failFast');
    expect(run.stderr).toBe('');
    expect(run.killed).toBe(false);
    expect(run.lines).toEqual([JSON.stringify({ outcome: '14' })]);
  }, 60_000);

  it('also while the DNS resolver holds the retry back for its minimum interval', async () => {
    const dns = new TestDnsServer();
    const dnsPort = await dns.start();
    try {
      // NXDOMAIN until the first query has been answered, then the name resolves.
      const answered = new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (dns.queriesFor('late.test', 'A').length === 0) return;
          clearInterval(timer);
          setTimeout(() => {
            dns.records.set('late.test', { A: ['127.0.0.1'] });
            resolve();
          }, 50);
        }, 5);
      });
      const run = await runWaiter(`dns://127.0.0.1:${dnsPort}/late.test:${server.port}`, 'waitForReady', '3000');
      await answered;
      expect(run.stderr).toBe('');
      expect(run.killed).toBe(false);
      expect(run.lines).toEqual([JSON.stringify({ outcome: 'ok' })]);
      expect(dns.queriesFor('late.test', 'A').length).toBeGreaterThanOrEqual(2);
    } finally {
      dns.close();
    }
  }, 60_000);
});
