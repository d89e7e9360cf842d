// Starts a server under test in its own pinned child process.
import type { ChildProcess } from 'node:child_process';
import type { MemSnapshot } from '../memory.js';
import { SERVER_CPU, nextMessage, spawnNodeScript, spawnPinned, stop } from '../proc.js';
import { buildGoServer } from './go.js';

export interface RunningServer {
  impl: string;
  port: number;
  /** Memory after a forced GC (Node servers only). */
  mem(): Promise<MemSnapshot | null>;
  stop(): Promise<void>;
}

function goPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('grpc-go server did not start')), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (c) => reject(new Error(`grpc-go server exited (${c})`)));
  });
}

export async function launchServer(impl: string): Promise<RunningServer> {
  if (impl === 'go') {
    const bin = buildGoServer();
    if (!bin) throw new Error('grpc-go server unavailable');
    // One core for the server, as for the single-threaded Node servers.
    const child = spawnPinned(SERVER_CPU, bin, ['-addr', '127.0.0.1:0'], false, { ...process.env, GOMAXPROCS: '1' });
    const port = await goPort(child);
    return { impl, port, mem: async () => null, stop: () => stop(child) };
  }
  const child = spawnNodeScript(SERVER_CPU, './servers/main.js', [impl]);
  const { port } = await nextMessage<{ port: number }>(child, 'ready', 15_000);
  return {
    impl,
    port,
    mem: async () => {
      const reply = nextMessage<{ mem: MemSnapshot }>(child, 'mem', 15_000);
      child.send({ type: 'mem' });
      return (await reply).mem;
    },
    stop: () => stop(child),
  };
}
