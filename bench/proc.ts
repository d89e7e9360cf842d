// Child-process plumbing: servers and clients run in their own processes,
// pinned to separate cores (server on CPU 1, load generator on CPU 0) when
// taskset exists, so neither shares an event loop or a core with the other.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const SERVER_CPU = '1';
export const CLIENT_CPU = '0';

let pinned: boolean | undefined;
/** Whether children are pinned to cores (BENCH_PIN=0 turns it off). */
export function pinning(): boolean {
  pinned ??= process.env.BENCH_PIN !== '0' && spawnSync('taskset', ['-V']).status === 0;
  return pinned;
}

/** Spawns `cmd args` pinned to `cpu`, with an IPC channel when `ipc`. */
export function spawnPinned(cpu: string, cmd: string, args: string[], ipc: boolean, env?: NodeJS.ProcessEnv): ChildProcess {
  // cpu '' = not pinned.
  const [file, argv] = pinning() && cpu ? ['taskset', ['-c', cpu, cmd, ...args]] : [cmd, args];
  return spawn(file, argv, {
    stdio: ['ignore', ipc ? 'inherit' : 'pipe', 'inherit', ...(ipc ? (['ipc'] as const) : [])],
    env: env ?? process.env,
  });
}

/**
 * Spawns one of the compiled bench scripts (path relative to dist/bench).
 * BENCH_PROF=server|client adds --cpu-prof for that side, written to BENCH_PROF_DIR.
 */
export function spawnNodeScript(cpu: string, script: string, args: string[]): ChildProcess {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const side = cpu === SERVER_CPU ? 'server' : 'client';
  const prof = process.env.BENCH_PROF === side ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF_DIR ?? 'bench/.cache/prof'}`] : [];
  // BENCH_NODE_FLAGS: extra Node/V8 flags for every bench child, e.g. --trace-gc (their stdout is the parent's).
  const extra = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  return spawnPinned(cpu, process.execPath, ['--expose-gc', ...extra, ...prof, path, ...args], true);
}

/** Resolves with the next IPC message of `type`; rejects on exit or timeout. */
export function nextMessage<T = any>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`timed out waiting for '${type}'`)), timeoutMs);
    const onMsg = (m: any) => m?.type === type && done(undefined, m);
    const onExit = (code: number | null) => done(new Error(`child exited (${code}) before '${type}'`));
    function done(err?: Error, m?: T) {
      clearTimeout(timer);
      child.off('message', onMsg);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    }
    child.on('message', onMsg);
    child.on('exit', onExit);
  });
}

/** Stops a child we started and waits for it to go. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 3000);
  await gone;
  clearTimeout(t);
}
