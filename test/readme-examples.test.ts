import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const scratch: string[] = [];
afterAll(() => scratch.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** The ```ts blocks of the README section headed `heading`, up to the next heading of the same or a higher level. */
function examples(heading: string): string[] {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no section ${JSON.stringify(heading)}`);
  const level = heading.split(' ')[0];
  const rest = readme.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`\\n#{1,${level.length}} `));
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/**
 * Type-checks each example as its own module against the sources: `tsgrpc` imports point at
 * src/, the names a snippet uses without importing them come from src/ too, and the
 * placeholders standing for the reader's own code are declared.
 */
function typeCheck(blocks: string[], placeholders: string): string {
  const dir = fs.mkdtempSync(path.join(repoRoot, '.cache/readme-examples-'));
  scratch.push(dir);
  const index = path.relative(dir, path.join(repoRoot, 'src/index.js'));
  const files = blocks.map((code, i) => {
    const file = path.join(dir, `example-${i}.ts`);
    const body = code.replaceAll(`from 'tsgrpc'`, `from '${index}'`);
    const own = new Set([...body.matchAll(/import \{([^}]*)\}/g)].flatMap((m) => m[1].split(',').map((n) => n.replace(/^\s*type\s+/, '').trim())));
    const implicit = ['Channel'].filter((name) => !own.has(name) && new RegExp(`\\b${name}\\b`).test(body));
    const prelude = implicit.length ? `import { ${implicit.join(', ')} } from '${index}';\n` : '';
    fs.writeFileSync(file, `${prelude}${placeholders}\n${body}\nexport {};\n`);
    return file;
  });
  const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
  const args = ['--ignoreConfig', '--noEmit', '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--strict', '--skipLibCheck', '--types', 'node', ...files];
  const r = spawnSync(process.execPath, [tsc, ...args], { cwd: repoRoot, encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.trim();
}

describe('README examples', () => {
  it('targets, load balancing and service config: every example type-checks', () => {
    fs.mkdirSync(path.join(repoRoot, '.cache'), { recursive: true });
    const blocks = examples('### Targets, load balancing and service config');
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    const placeholders = 'declare function watchConsul(service: string, onChange: (ips: string[]) => void): () => void;';
    expect(typeCheck(blocks, placeholders)).toBe('');
  }, 120_000);
});
