// Builds what `npm pack` ships: one CommonJS implementation in dist/cjs, and for every
// public entry point an ES module in dist/esm that re-exports it. ESM and CJS users
// therefore share the same classes, so `instanceof` works whichever way a module was loaded.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

rmSync(path.join(root, 'dist/cjs'), { recursive: true, force: true });
rmSync(path.join(root, 'dist/esm'), { recursive: true, force: true });
// The sources compile to CommonJS as they are, except the one file that needs import.meta (an ES module
// feature): the build compiles a copy of src in which it uses CommonJS's own require.
const staging = path.join(root, '.cache/cjs-build');
rmSync(staging, { recursive: true, force: true });
cpSync(path.join(root, 'src'), path.join(staging, 'src'), { recursive: true });
writeFileSync(
  path.join(staging, 'src/util/package-require.ts'),
  '// The CommonJS build of src/util/package-require.ts (written by scripts/build-package.mjs).\nexport const packageRequire: NodeJS.Require = require;\n',
);
writeFileSync(path.join(staging, 'tsconfig.json'), JSON.stringify({
  extends: path.join(root, 'tsconfig.build.json'),
  compilerOptions: { rootDir: path.join(staging, 'src'), outDir: path.join(root, 'dist/cjs') },
  include: [path.join(staging, 'src')],
}));
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', staging], { stdio: 'inherit' });
rmSync(staging, { recursive: true, force: true });
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
