import path from 'node:path';
import type protobuf from 'protobufjs';
import type { ServiceDefinition } from '../service.js';

/**
 * Where loaded definitions came from, kept so a reflection service can
 * rebuild file descriptors later: the Root behind each service definition,
 * and for each .proto file read from disk the name an import statement uses
 * for it ("google/protobuf/empty.proto", not "/abs/path/...").
 */
const rootOfService = new WeakMap<ServiceDefinition, protobuf.Root>();
const fileNamesOfRoot = new WeakMap<protobuf.Root, Map<string, string>>();

export function rememberServiceRoot(service: ServiceDefinition, root: protobuf.Root): void {
  rootOfService.set(service, root);
}

/** The protobufjs Root a service definition was built from, if it came from loadProto/fromRoot. */
export function serviceRoot(service: ServiceDefinition): protobuf.Root | undefined {
  return rootOfService.get(service);
}

/** Records the import name of a file the Root read from `resolvedPath`; the first name given wins. */
export function rememberFileName(root: protobuf.Root, resolvedPath: string, name: string): void {
  let names = fileNamesOfRoot.get(root);
  if (!names) fileNamesOfRoot.set(root, (names = new Map()));
  if (!names.has(resolvedPath)) names.set(resolvedPath, name);
}

/** The import name of a file the Root read, or undefined if it was not recorded. */
export function protoFileName(root: protobuf.Root, resolvedPath: string): string | undefined {
  return fileNamesOfRoot.get(root)?.get(resolvedPath);
}

/**
 * The name a file given to loadProto directly is known by: relative to the
 * include folder it was found in (as protoc names it), else as given when
 * relative, else its base name.
 */
export function topLevelFileName(given: string, resolvedPath: string, includeDirs: readonly string[]): string {
  const absolute = path.resolve(resolvedPath);
  for (const dir of includeDirs) {
    const relative = path.relative(path.resolve(dir), absolute);
    if (relative && !relative.startsWith('..') && !path.isAbsolute(relative)) return relative.split(path.sep).join('/');
  }
  return path.isAbsolute(given) ? path.basename(given) : given.replace(/^(\.\/)+/, '');
}
