// Shared bits of the interop server and client: flag parsing, proto loading,
// payload helpers.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { loadProtoSync } from '../src/index.js';

/** interop/ in the source tree, found from dist/interop/*.js or interop/*.ts. */
export const interopDir = (() => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '../../interop') : here;
})();
export const protoDir = path.join(interopDir, 'proto');
export const certDir = path.join(interopDir, '.cache', 'certs');

/** Enums as numbers: the cases compare payload types with COMPRESSABLE (0). */
export function loadTestProto() {
  return loadProtoSync(['grpc/testing/test.proto'], { includeDirs: [protoDir], enums: Number });
}

export type Flags = Record<string, string>;

/**
 * Parses Go-style flags (`--name=value`, `--name value`, `-name`), so the
 * same command lines work for our binaries and the grpc-go ones. Names in
 * `bools` never consume the next argument, as with Go's flag package.
 */
export function parseFlags(argv: string[], defaults: Flags, bools: string[]): Flags {
  const flags: Flags = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z_0-9]+)(?:=(.*))?$/s.exec(argv[i]);
    if (!m || !(m[1] in defaults)) throw new Error(`unknown flag ${argv[i]}`);
    const name = m[1];
    if (m[2] !== undefined) flags[name] = m[2];
    else if (bools.includes(name)) flags[name] = 'true';
    else if (i + 1 < argv.length) flags[name] = argv[++i];
    else throw new Error(`flag ${argv[i]} needs a value`);
  }
  return flags;
}

export const isTrue = (v: string | undefined) => v === 'true' || v === '1';

/** The only payload type of the test protos is COMPRESSABLE (0): zeros. */
export const COMPRESSABLE = 0;

export function payload(size: number) {
  return { type: COMPRESSABLE, body: Buffer.alloc(size) };
}
