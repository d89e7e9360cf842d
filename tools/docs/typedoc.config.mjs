// TypeDoc configuration. The entry points are every public subpath of the package's `exports`
// (its CommonJS build file mapped back to the source), so a new subpath is documented, and
// checked by test/api-docs.test.ts, without touching this file.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** "./dist/cjs/grpc-js/index.js" → "<root>/src/grpc-js/index.ts" */
function sourceOf(built) {
  const relative = path.relative('dist/cjs', path.normalize(built)).replace(/\.js$/, '.ts');
  return path.join(root, 'src', relative);
}

const entryPoints = Object.values(pkg.exports)
  .filter((conditions) => typeof conditions === 'object' && conditions.require)
  .map((conditions) => sourceOf(conditions.require.default));

/** @type {Partial<import('typedoc').TypeDocOptions & import('typedoc-plugin-markdown').PluginOptions>} */
export default {
  entryPoints,
  tsconfig: path.join(import.meta.dirname ?? '.', 'tsconfig.json'),
  plugin: ['typedoc-plugin-markdown'],
  out: path.join(root, 'docs/api'),
  readme: 'none',
  excludePrivate: true,
  excludeInternal: true,
  excludeExternals: true,
  disableSources: true,
  hidePageHeader: true,
  validation: { notExported: true, invalidLink: true, notDocumented: true },
  requiredToBeDocumented: ['Class', 'Function', 'Interface', 'TypeAlias', 'Variable', 'Enum', 'Method', 'Property', 'Accessor', 'Constructor'],
  treatValidationWarningsAsErrors: false,
};
