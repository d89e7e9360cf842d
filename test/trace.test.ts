// Debug logging switched on by the environment (GRPC_TRACE with GRPC_VERBOSITY=DEBUG, or TSGRPC_TRACE),
// read when tsgrpc loads: each case runs test/support/trace-child.ts in a fresh process.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
let outDir: string;

beforeAll(() => {
  fs.mkdirSync(path.join(repoRoot, '.cache'), { recursive: true });
  outDir = fs.mkdtempSync(path.join(repoRoot, '.cache/trace-child-'));
  const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--outDir', outDir], { cwd: repoRoot, encoding: 'utf8' });
  if (!fs.existsSync(path.join(outDir, 'test/support/trace-child.js'))) throw new Error(`tsc failed:\n${r.stdout}${r.stderr}`);
}, 120_000);
afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

/** Runs the scenario with `env` added to a clean environment (no inherited trace settings); returns its stderr lines. */
function run(env: Record<string, string>): string[] {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(GRPC_TRACE|GRPC_VERBOSITY|TSGRPC_TRACE)$/.test(k)));
  const r = spawnSync(process.execPath, [path.join(outDir, 'test/support/trace-child.js')], { env: { ...base, ...env }, encoding: 'utf8', timeout: 60_000 });
  expect(r.stdout, r.stderr).toBe('done\n');
  expect(r.status).toBe(0);
  return r.stderr.split('\n').filter(Boolean);
}

const LINE = /^D \d{4}-\d\d-\d\dT[\d:.]+Z \| tsgrpc \d+ \| (call|connection|transport) \| /;

describe('debug logging', () => {
  it('GRPC_TRACE=all with GRPC_VERBOSITY=DEBUG logs connections, GOAWAYs, resets, retries and every call status', () => {
    const lines = run({ GRPC_TRACE: 'all', GRPC_VERBOSITY: 'DEBUG' });
    for (const line of lines) expect(line).toMatch(LINE);
    const has = (pattern: RegExp) => expect(lines.some((l) => pattern.test(l)), `no line matches ${pattern}:\n${lines.join('\n')}`).toBe(true);
    // Connections, both sides.
    has(/\| connection \| client connection 127\.0\.0\.1:\d+ connecting$/);
    has(/\| connection \| client connection 127\.0\.0\.1:\d+ ready$/);
    has(/\| connection \| server connection 127\.0\.0\.1:\d+ ready$/);
    has(/\| connection \| client connection 127\.0\.0\.1:\d+ closed/);
    // The shutdown's GOAWAY, sent and received.
    has(/\| connection \| server connection 127\.0\.0\.1:\d+ goaway: sent NO_ERROR \(server shutdown\)$/);
    has(/\| connection \| client connection 127\.0\.0\.1:\d+ goaway: NO_ERROR, last stream \d+$/);
    // Statuses per call, both sides, with sizes.
    has(/\| call \| client \/trace\.Echo\/Unary to 127\.0\.0\.1:\d+ -> 0 OK in [\d.]+ ms \(sent 1 msg \/ 5 B, received 1 msg \/ 5 B\)$/);
    has(/\| call \| server \/trace\.Echo\/Unary from 127\.0\.0\.1:\d+ -> 0 OK in [\d.]+ ms/);
    has(/\| call \| client \/trace\.Echo\/Unary to 127\.0\.0\.1:\d+ -> 5 NOT_FOUND: nothing here in/);
    has(/\| call \| server \/trace\.Echo\/Unary from 127\.0\.0\.1:\d+ -> 5 NOT_FOUND: nothing here in/);
    has(/\| call \| client \/trace\.Echo\/Bidi to 127\.0\.0\.1:\d+ -> 1 CANCELLED: call cancelled by the client/);
    has(/\| call \| server \/trace\.Echo\/Bidi from 127\.0\.0\.1:\d+ -> 1 CANCELLED/);
    // Resets, both ways.
    has(/\| transport \| \/trace\.Echo\/Bidi to 127\.0\.0\.1:\d+: sending RST_STREAM\(CANCEL\) on stream \d+$/);
    has(/\| transport \| \/trace\.Echo\/Bidi from 127\.0\.0\.1:\d+: the client reset stream \d+ with CANCEL$/);
    has(/\| transport \| \/trace\.Echo\/Unary to 127\.0\.0\.1:\d+: stream \d+ reset with REFUSED_STREAM$/);
    // The transparent retry, and its two attempts.
    has(/\| call \| \/trace\.Echo\/Unary to 127\.0\.0\.1:\d+: retrying transparently \(UNAVAILABLE \(14\): the server refused the stream/);
    has(/\| call \| client \/trace\.Echo\/Unary to 127\.0\.0\.1:\d+ -> 14 UNAVAILABLE: the server refused the stream/);
  });

  it('TSGRPC_TRACE needs no verbosity, and picks tracers: connection only logs no calls', () => {
    const lines = run({ TSGRPC_TRACE: 'connection' });
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/\| connection \| (client|server) connection /);
  });

  it('grpc-js tracer names and exclusions work: all,-connection,-transport leaves the calls', () => {
    const lines = run({ GRPC_TRACE: 'all,-subchannel,-http2', GRPC_VERBOSITY: 'debug' });
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/\| call \| /);
  });

  it('is silent without GRPC_VERBOSITY=DEBUG, as in grpc-js, and when nothing is set', () => {
    expect(run({ GRPC_TRACE: 'all' })).toEqual([]);
    expect(run({ GRPC_TRACE: 'all', GRPC_VERBOSITY: 'ERROR' })).toEqual([]);
    expect(run({})).toEqual([]);
  });
});
