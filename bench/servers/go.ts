// Builds the grpc-go reference server (bench/go) into the git-ignored
// bench/.cache/ when Go is available; returns null when it is not.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// dist/bench/servers/go.js -> <repo>/bench
const benchDir = fileURLToPath(new URL('../../../bench/', import.meta.url));
export const CACHE_DIR = `${benchDir}.cache`;
const BIN = `${CACHE_DIR}/echo-server`;

export function goVersion(): string | null {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export function buildGoServer(): string | null {
  if (process.env.BENCH_GO === '0' || !goVersion()) return null;
  const src = `${benchDir}go/main.go`;
  if (existsSync(BIN) && statSync(BIN).mtimeMs > statSync(src).mtimeMs) return BIN;
  mkdirSync(CACHE_DIR, { recursive: true });
  const r = spawnSync('go', ['build', '-o', BIN, '.'], { cwd: `${benchDir}go`, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) {
    console.error(`[bench] go build failed, skipping grpc-go:\n${r.stderr}`);
    return null;
  }
  return BIN;
}
