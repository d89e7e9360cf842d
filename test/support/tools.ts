// The ecosystem tools (grpc_health_probe, grpcurl, ghz) that tools/build.sh
// builds from the Go module proxy. A missing binary fails the test: nothing
// here falls back to a skip.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const binDir = fileURLToPath(new URL('../../tools/.cache/bin/', import.meta.url));

export function toolPath(name: 'grpc_health_probe' | 'grpcurl' | 'ghz'): string {
  const file = binDir + name;
  if (!fs.existsSync(file)) {
    throw new Error(`${file} is missing: run \`bash tools/build.sh\` (CI does it in .ci/run) to build the pinned ${name}`);
  }
  return file;
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a tool without blocking the event loop: the server it talks to lives
 * in this process. Killed after timeoutMs so a hung tool fails the test.
 */
export function runTool(name: 'grpc_health_probe' | 'grpcurl' | 'ghz', args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<ToolResult> {
  const child = spawn(toolPath(name), args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
