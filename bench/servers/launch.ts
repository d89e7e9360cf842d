// Starts a server under test in its own pinned child process.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { MemSnapshot } from '../memory.js';
import { SERVER_CPU, nextMessage, spawnNodeScript, spawnPinned, stop } from '../proc.js';
import { buildGoServer } from './go.js';

export interface RunningServer {
  impl: string;
  port: number;
  /** CPU seconds (user+system) the server process has used so far, from /proc. */
  cpuSeconds(): number;
  /** Memory after a forced GC (Node servers only). */
  mem(): Promise<MemSnapshot | null>;
  /** Bytes the server allocates while `work` runs (Node servers only; see garbage.ts). */
  garbage(work: () => Promise<void>): Promise<{ bytes: number; gcs: number; gcMs: number } | null>;
  stop(): Promise<void>;
}

function goPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('grpc-go server did not start')), 30_000);
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

/** utime+stime of a process in seconds (Linux /proc; 10 ms resolution). */
function procCpuSeconds(pid: number | undefined): number {
  try {
    // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS = 100;

/**
 * `workers` copies of a Node server in node:cluster workers sharing one port,
 * not pinned (the point is to use both cores). CPU time sums the workers.
 */
export async function launchCluster(impl: string, workers: number): Promise<RunningServer> {
  const child = spawnNodeScript('', './servers/cluster.js', [impl, String(workers)]);
  const { port, pids } = await nextMessage<{ port: number; pids: number[] }>(child, 'ready', 30_000);
  return {
    impl,
    port,
    cpuSeconds: () => pids.reduce((sum, pid) => sum + procCpuSeconds(pid), 0),
    mem: async () => null,
    garbage: async (work) => (await work(), null),
    stop: () => stop(child),
  };
}

export async function launchServer(impl: string): Promise<RunningServer> {
  if (impl === 'go') {
    const bin = buildGoServer();
    if (!bin) throw new Error('grpc-go server unavailable');
    // One core for the server, as for the single-threaded Node servers.
    const child = spawnPinned(SERVER_CPU, bin, ['-addr', '127.0.0.1:0'], false, { ...process.env, GOMAXPROCS: '1' });
    const port = await goPort(child);
    return { impl, port, cpuSeconds: () => procCpuSeconds(child.pid), mem: async () => null, garbage: async (work) => (await work(), null), stop: () => stop(child) };
  }
  const child = spawnNodeScript(SERVER_CPU, './servers/main.js', [impl]);
  const { port } = await nextMessage<{ port: number }>(child, 'ready', 15_000);
  return {
    impl,
    port,
    cpuSeconds: () => procCpuSeconds(child.pid),
    mem: async () => {
      const reply = nextMessage<{ mem: MemSnapshot }>(child, 'mem', 15_000);
      child.send({ type: 'mem' });
      return (await reply).mem;
    },
    garbage: async (work) => {
      const started = nextMessage(child, 'gc-started', 15_000);
      child.send({ type: 'gc-start' });
      await started;
      await work();
      const reply = nextMessage<{ bytes: number; gcs: number; gcMs: number }>(child, 'gc', 15_000);
      child.send({ type: 'gc-stop' });
      return reply;
    },
    stop: () => stop(child),
  };
}
