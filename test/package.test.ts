import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The packed tarball, installed into fresh apps of every module flavour a user may have.
const repo = path.resolve(import.meta.dirname, '..');
const fixtures = path.join(repo, 'test/fixtures/package-consumer');
const tsc = path.join(repo, 'node_modules/typescript/bin/tsc');
let work: string;
let tarball: string;

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}

function app(name: string, type: 'module' | 'commonjs'): string {
  const dir = path.join(work, 'consumer', name);
  cpSync(fixtures, dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, type }));
  return dir;
}

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'tsgrpc-pack-'));
  run('npm', ['pack', '--silent', '--pack-destination', work], repo);
  tarball = path.join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
  const consumer = path.join(work, 'consumer');
  cpSync(fixtures, consumer, { recursive: true });
  writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', tarball], consumer);
}, 240_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed package', () => {
  it('ships only the builds, the license and the README, with no dangling source maps', () => {
    const files = run('tar', ['-tzf', tarball], work).trim().split('\n').map((f) => f.replace(/^package\//, ''));
    expect(files).toContain('LICENSE');
    expect(files).toContain('dist/cjs/index.js');
    expect(files).toContain('dist/esm/index.js');
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => !/^(dist\/(cjs|esm)\/|LICENSE$|README\.md$|package\.json$)/.test(f))).toEqual([]);
  });

  it('is the size the README reports (within 10 %)', () => {
    const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
    const reported = /is (\d+) KiB packed/.exec(readme);
    expect(reported, 'README.md should say "The package is N KiB packed"').not.toBeNull();
    const actual = statSync(tarball).size / 1024;
    expect(Math.abs(actual - Number(reported![1])) / actual, `packed size is ${actual.toFixed(0)} KiB: update README.md`).toBeLessThan(0.1);
  });

  it('runs a call from a CommonJS app', () => {
    expect(run(process.execPath, ['app.cjs'], app('cjs', 'commonjs')).trim()).toBe('hello world from cjs');
  });

  it("runs a grpc-js program from CommonJS through require('tsgrpc/grpc-js')", () => {
    expect(run(process.execPath, ['app-grpc-js.cjs'], app('cjs-grpc-js', 'commonjs')).trim()).toBe('hello world from grpc-js cjs');
  });

  it('runs a call from an ES module app, sharing one copy of the classes with require()', () => {
    expect(run(process.execPath, ['app.mjs'], app('esm', 'module')).trim()).toBe('hello world from esm');
  });

  const typescriptModes = [
    { mode: 'node16', module: 'node16', moduleResolution: 'node16', type: 'commonjs' },
    { mode: 'nodenext', module: 'nodenext', moduleResolution: 'nodenext', type: 'module' },
    { mode: 'bundler', module: 'preserve', moduleResolution: 'bundler', type: 'module' },
  ] as const;
  for (const { mode, module, moduleResolution, type } of typescriptModes) {
    it(`type-checks and runs a call from a TypeScript app (${mode}, ${type})`, () => {
      const dir = app(`ts-${mode}`, type);
      const compilerOptions = {
        module, moduleResolution, target: 'es2022', strict: true, outDir: 'out', skipLibCheck: false,
        types: ['node'], typeRoots: [path.join(repo, 'node_modules/@types')],
      };
      writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['app.ts'] }));
      run(process.execPath, [tsc, '-p', 'tsconfig.json'], dir);
      expect(run(process.execPath, ['out/app.js', dir, mode], dir).trim()).toBe(`hello world from ${mode}`);
    });
  }
});

describe('the packed package as a command', () => {
  it('runs the code generator through the bin named after the package, as `npx tsgrpc` does', () => {
    const out = run(path.join(work, 'consumer/node_modules/.bin/tsgrpc'), ['greeter.proto'], path.join(work, 'consumer'));
    expect(out).toContain('export interface GreeterClient');
  });
});
