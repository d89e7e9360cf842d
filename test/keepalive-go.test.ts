// Keepalive against grpc-go: interop/go/keepaliveserver (built by interop/build-go.sh) is a grpc-go
// server with a keepalive enforcement policy from its flags. A missing binary fails the test.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, Status, createClient } from '../src/index.js';
import { loadTestProto } from '../interop/common.js';
import { repoRoot } from '../interop/run.js';
import { expectPingBackoff } from './support/connectivity.js';
import { H2Proxy } from './support/h2-proxy.js';
import { expectGrpcError } from './support/probe.js';

const binary = path.join(repoRoot, 'interop/.cache/bin/keepalive-server');
const testService = loadTestProto().services['grpc.testing.TestService'];

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** Starts the Go server with `flags` and resolves to the child and its port. */
async function goServer(flags: string[]): Promise<{ child: ChildProcess; port: number }> {
  if (!fs.existsSync(binary)) expect.fail(`${binary} is missing: run bash interop/build-go.sh (CI does, in .ci/run)`);
  const child = spawn(binary, flags, { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const lines = readline.createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`keepalive-server did not start: ${stderr}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`keepalive-server exited with ${code}: ${stderr}`)));
    lines.on('line', (line) => {
      const m = /^listening on (\d+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  return { child, port };
}

describe('keepalive with grpc-go', () => {
  it('a grpc-go server sends our too-frequent pings away with too_many_pings, and our client doubles its interval until it complies', async () => {
    const { port } = await goServer(['-min_time=300ms', '-permit_without_stream=true']);
    const proxy = await H2Proxy.start(port);
    const channel = new Channel(`127.0.0.1:${proxy.port}`, { keepaliveTimeMs: 100, keepalivePermitWithoutCalls: true });
    cleanups.push(() => proxy.close(), () => channel.close());
    await expectPingBackoff(channel, proxy);
    // The channel still serves calls after the dance.
    await createClient(testService, channel).emptyCall({});
  });

  it('a grpc-go server process that freezes (SIGSTOP) fails our in-flight stream with UNAVAILABLE within keepalive time + timeout', async () => {
    const { child, port } = await goServer(['-min_time=1ms', '-permit_without_stream=true']);
    const channel = new Channel(`127.0.0.1:${port}`, { keepaliveTimeMs: 200, keepaliveTimeoutMs: 300 });
    cleanups.push(() => channel.close());
    const client = createClient(testService, channel);
    // One response now, the next in 30 s: the call is in flight and quiet when the server freezes.
    const stream = client.streamingOutputCall({ responseParameters: [{ size: 1 }, { size: 1, intervalUs: 30_000_000 }] });
    const responses = stream[Symbol.asyncIterator]();
    expect((await responses.next()).done).toBe(false);
    child.kill('SIGSTOP');
    const frozenAt = Date.now();
    const err = await expectGrpcError(responses.next(), Status.UNAVAILABLE);
    expect(err.details).toMatch(/keepalive ping not acknowledged/);
    expect(Date.now() - frozenAt).toBeLessThan(5000);
  });
});
