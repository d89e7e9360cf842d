import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// Every ```ts block of the user-facing docs is a complete program that must type-check under strict mode,
// importing 'tsgrpc' as a user would (mapped to this repo's sources).
const repo = path.resolve(import.meta.dirname, '..');
const documents = ['README.md'];
const scratch = mkdtempSync(path.join(tmpdir(), 'tsgrpc-snippets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function snippets(file: string): string[] {
  const text = readFileSync(path.join(repo, file), 'utf8');
  return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

describe('documentation code', () => {
  for (const doc of documents) {
    it(`${doc}: every TypeScript block compiles under strict`, () => {
      const blocks = snippets(doc);
      expect(blocks.length).toBeGreaterThan(0);
      const files = blocks.map((code, i) => {
        const name = `${path.basename(doc, '.md')}-${i + 1}.ts`;
        // Each block is its own module, so names may repeat between blocks.
        writeFileSync(path.join(scratch, name), `${code}\nexport {};\n`);
        return name;
      });
      writeFileSync(path.join(scratch, 'package.json'), '{ "type": "module" }\n');
      const compilerOptions = {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true,
        types: ['node'], typeRoots: [path.join(repo, 'node_modules/@types')],
        paths: { tsgrpc: [path.join(repo, 'src/index.ts')], 'tsgrpc/*': [path.join(repo, 'src/*/index.ts')] },
        allowImportingTsExtensions: true,
      };
      writeFileSync(path.join(scratch, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
      const run = spawnSync(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', scratch], { encoding: 'utf8', timeout: 60_000 });
      expect(`${run.stdout}${run.stderr}`).toBe('');
      expect(run.status).toBe(0);
    });
  }
});
