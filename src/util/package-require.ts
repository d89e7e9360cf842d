import { createRequire } from 'node:module';

/**
 * require() for the dependencies loaded lazily, on first use (protobufjs): a process that never
 * loads a .proto file or reads a rich status never loads them. This is the ES module version;
 * the CommonJS build (scripts/build-package.mjs) compiles this file as `export const packageRequire = require`,
 * since `import.meta` does not exist there.
 */
export const packageRequire: NodeJS.Require = createRequire(import.meta.url);
