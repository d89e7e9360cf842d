// protoc-gen-tsgrpc under the real protoc (installed by .ci/run: Debian's
// protobuf-compiler), and runPlugin on requests built by hand.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTypeScript } from '../src/protobuf/codegen.js';
import { runPlugin } from '../src/protobuf/plugin.js';

const require = createRequire(import.meta.url);
const repo = fileURLToPath(new URL('..', import.meta.url));
const codegenFixtures = path.join(repo, 'test/fixtures/codegen');
const messageFixtures = path.join(repo, 'test/fixtures/messages');
const scratch = mkdtempSync(path.join(tmpdir(), 'tsgrpc-plugin-'));
// Inside the repo, so the compiled plugin finds node_modules.
const build = path.join(repo, 'node_modules/.cache/tsgrpc-plugin-build');
let plugin: string;

beforeAll(() => {
  rmSync(build, { recursive: true, force: true });
  mkdirSync(build, { recursive: true });
  const tsconfig = {
    extends: path.join(repo, 'tsconfig.json'),
    compilerOptions: { outDir: path.join(build, 'out'), rootDir: repo, declaration: false, sourceMap: false },
    include: [path.join(repo, 'src')],
  };
  writeFileSync(path.join(build, 'tsconfig.json'), JSON.stringify(tsconfig));
  execFileSync(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', build], { stdio: 'pipe', timeout: 120_000 });
  plugin = path.join(build, 'out/src/bin/protoc-gen-tsgrpc.js');
  chmodSync(plugin, 0o755);
}, 150_000);
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(build, { recursive: true, force: true });
});

function protoc(args: string[]) {
  return spawnSync('protoc', [`--plugin=protoc-gen-tsgrpc=${plugin}`, ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** The code without doc comments, line by line: protoc's well-known types carry comments, protobufjs's built-in ones do not. */
const sortedLines = (text: string) => text.replace(/ *\/\*\*[\s\S]*?\*\/\n/g, '').split('\n').sort().join('\n');

describe('protoc-gen-tsgrpc under protoc', () => {
  it('writes one module per file, the same code tsgrpc-gen writes, comments included', () => {
    const out = mkdtempSync(path.join(scratch, 'out-'));
    const run = protoc([`--tsgrpc_out=${out}`, '--tsgrpc_opt=longs=BigInt,enums=Number,import_from=tsgrpc', `-I${codegenFixtures}`, `-I${messageFixtures}`, 'kitchen.proto', 'sink.proto', 'legacy.proto']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['kitchen.ts', 'legacy.ts', 'sink.ts']);
    const kitchen = readFileSync(path.join(out, 'kitchen.ts'), 'utf8');
    expect(kitchen).toContain('/** A recipe with every field shape the generator handles. */\nexport interface Recipe {');
    expect(kitchen).toContain('  id: bigint;');
    // Declaration order differs (protoc lists imports first); the code is the same.
    for (const [file, dir] of [['kitchen.proto', codegenFixtures], ['sink.proto', messageFixtures], ['legacy.proto', messageFixtures]]) {
      const cli = generateTypeScript([file], { includeDirs: [dir], longs: BigInt, enums: Number });
      expect(sortedLines(readFileSync(path.join(out, file.replace('.proto', '.ts')), 'utf8'))).toBe(sortedLines(cli));
    }
  });

  it('reports a bad parameter through protoc', () => {
    const run = protoc([`--tsgrpc_out=${scratch}`, '--tsgrpc_opt=longs=Long', `-I${codegenFixtures}`, 'kitchen.proto']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('protoc-gen-tsgrpc: unknown parameter "longs=Long"');
  });
});

describe('runPlugin', () => {
  const root = protobuf.Root.fromJSON(require('protobufjs/google/protobuf/descriptor.json'));
  root.addJSON(require('protobufjs/google/protobuf/compiler/plugin.json').nested);
  const Request = root.lookupType('google.protobuf.compiler.CodeGeneratorRequest');
  const Response = root.lookupType('google.protobuf.compiler.CodeGeneratorResponse');
  const Set = root.lookupType('google.protobuf.FileDescriptorSet');

  function descriptors(): { file: { name: string }[] } {
    const file = path.join(scratch, 'set.pb');
    execFileSync('protoc', ['--include_imports', '--include_source_info', `--descriptor_set_out=${file}`, `-I${codegenFixtures}`, 'kitchen.proto']);
    return Set.toObject(Set.decode(readFileSync(file))) as { file: { name: string }[] };
  }

  it('declares proto3 optional and editions support and answers with the files', () => {
    const { file } = descriptors();
    const request = Request.encode(Request.fromObject({ fileToGenerate: ['kitchen.proto'], parameter: 'keep_case', protoFile: file })).finish();
    const response = Response.toObject(Response.decode(runPlugin(request)), { longs: Number }) as { error?: string; supportedFeatures: number; file: { name: string; content: string }[] };
    expect(response.error).toBeUndefined();
    expect(response.supportedFeatures).toBe(3);
    expect(response.file.map((f) => f.name)).toEqual(['kitchen.ts']);
    expect(response.file[0].content).toContain('  steps_by_name: Record<string, Recipe_Step>;');
  });

  it('answers an incomplete request with an error, not a crash', () => {
    const { file } = descriptors();
    const withoutImport = file.filter((f) => f.name !== 'other.proto');
    const request = Request.encode(Request.fromObject({ fileToGenerate: ['kitchen.proto'], protoFile: withoutImport })).finish();
    const response = Response.toObject(Response.decode(runPlugin(request))) as { error?: string };
    expect(response.error).toBe('protoc-gen-tsgrpc: other.proto is imported but protoc did not send it');
  });
});
