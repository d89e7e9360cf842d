// Builds what `npm pack` ships: one CommonJS implementation in dist/cjs, and for every
// public entry point an ES module in dist/esm that re-exports it. ESM and CJS users
// therefore share the same classes, so `instanceof` works whichever way a module was loaded.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

rmSync(path.join(root, 'dist/cjs'), { recursive: true, force: true });
rmSync(path.join(root, 'dist/esm'), { recursive: true, force: true });
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
writeFileSync(path.join(root, 'dist/cjs/package.json'), '{ "type": "commonjs" }\n');

const require = createRequire(import.meta.url);
for (const [subpath, conditions] of Object.entries(pkg.exports)) {
  if (typeof conditions === "string") continue;
  const cjsFile = conditions.require.default;
  const esmFile = conditions.import.default;
  const names = Object.keys(require(path.join(root, cjsFile))).filter((n) => n !== '__esModule' && n !== 'default');
  const fromEsmToCjs = path.relative(path.dirname(path.join(root, esmFile)), path.join(root, cjsFile));
  const specifier = fromEsmToCjs.startsWith('.') ? fromEsmToCjs : `./${fromEsmToCjs}`;
  mkdirSync(path.dirname(path.join(root, esmFile)), { recursive: true });
  writeFileSync(
    path.join(root, esmFile),
    `// ${subpath}: the CommonJS build, re-exported so both module systems share one copy.\n` +
      `import cjs from '${specifier}';\n` +
      `export const { ${names.join(', ')} } = cjs;\n`,
  );
  writeFileSync(path.join(root, conditions.import.types), `export * from '${specifier}';\n`);
}
