import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateTypeScript } from '../src/index.js';

// Every ```ts block of the user-facing docs must type-check under strict mode, importing 'tsgrpc' as a user
// would (mapped to this repo's sources). A block is a module of its own; fragments may use the few names
// declared in test/fixtures/snippet-context.d.ts (a server, a channel, a target...), nothing else.
const repo = path.resolve(import.meta.dirname, '..');
const documents = ['README.md', 'docs/getting-started.md', 'docs/examples.md'];
// Inside the repo, so that packages the docs mention (devDependencies) resolve.
mkdirSync(path.join(repo, '.cache'), { recursive: true });
const scratch = mkdtempSync(path.join(repo, '.cache/snippets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
// The guides import './greeter.js': what `tsgrpc-gen` makes of the guide's greeter.proto (examples/greeter.proto).
writeFileSync(path.join(scratch, 'greeter.ts'), generateTypeScript([path.join(repo, 'examples/greeter.proto')], { importFrom: 'tsgrpc' }));

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
        const name = `${path.basename(doc, '.md')}-${i + 1}.ts`; // errors name the block by its number in the file
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
      const context = path.join(repo, 'test/fixtures/snippet-context.d.ts');
      writeFileSync(path.join(scratch, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: [context, ...files] }));
      const run = spawnSync(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', scratch], { encoding: 'utf8', timeout: 60_000 });
      expect(`${run.stdout}${run.stderr}`).toBe('');
      expect(run.status).toBe(0);
    });
  }
});
