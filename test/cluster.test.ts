// examples/cluster-server.ts: a tsgrpc server in 2 node:cluster workers
// sharing one port. Calls over several connections must be answered by both
// worker processes (the primary deals connections out round-robin).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Channel, createClient, loadProto } from '../src/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Compiled apart from dist/ (which other tests build at the same time) into
// the git-ignored .cache/, at dist/'s depth so the example finds its proto.
const outDir = path.join(repoRoot, '.cache');

let primary: ChildProcess | undefined;
afterAll(async () => {
  if (!primary || primary.exitCode !== null) return;
  const gone = new Promise((r) => primary!.once('exit', r));
  primary.kill('SIGTERM');
  const t = setTimeout(() => primary!.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(t);
});

function listening(child: ChildProcess): Promise<{ port: number; pids: number[] }> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`cluster example did not start:\n${out}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on 127\.0\.0\.1:(\d+) \(workers ([\d, ]+)\)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), pids: m[2].split(', ').map(Number) });
      }
    });
    child.once('exit', (code) => reject(new Error(`cluster example exited (${code}):\n${out}`)));
  });
}

describe('node:cluster example', () => {
  it('serves calls from both workers on one port', { timeout: 120_000 }, async () => {
    const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
    const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--outDir', outDir], { cwd: repoRoot, encoding: 'utf8' });
    const script = path.join(outDir, 'examples/cluster-server.js');
    expect(build.error, `${build.stdout}${build.stderr}`).toBeUndefined();

    primary = spawn(process.execPath, [script, '0', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const { port, pids } = await listening(primary);
    expect(pids).toHaveLength(2);
    expect(new Set(pids).size).toBe(2);

    const { services } = await loadProto(path.join(repoRoot, 'examples/greeter.proto'));
    const seen = new Set<number>();
    // One Channel is one connection, and a connection stays on one worker:
    // open connections until both workers have answered (bounded).
    for (let i = 0; i < 20 && seen.size < 2; i++) {
      const channel = new Channel(`127.0.0.1:${port}`);
      try {
        const client = createClient(services['demo.Greeter'], channel) as unknown as {
          sayHello(req: { name: string }): Promise<{ message: string }>;
        };
        for (let j = 0; j < 3; j++) {
          const { message } = await client.sayHello({ name: `call ${i}.${j}` });
          const m = /^Hello, call \d+\.\d+, from worker (\d+)$/.exec(message);
          expect(m, message).not.toBeNull();
          seen.add(Number(m![1]));
        }
      } finally {
        channel.close();
      }
    }
    expect([...seen].sort()).toEqual([...pids].sort());
  });
});
