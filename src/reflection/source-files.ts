import { protobufjs, type Protobuf } from '../protobuf/runtime.js';
import { protoFileName } from '../protobuf/sources.js';

/** What a .proto file declares at its top level. */
export type Declaration = Protobuf.Type | Protobuf.Enum | Protobuf.Service | Protobuf.Field;

export interface FileDeclarations {
  pkg: string;
  items: Declaration[];
}

/** A Root's top-level declarations grouped by the file they came from, in declaration order. */
export function collectDeclarations(root: Protobuf.Root): Map<string, FileDeclarations> {
  const out = new Map<string, FileDeclarations>();
  collect(root, root, out);
  return out;
}

function collect(root: Protobuf.Root, ns: Protobuf.NamespaceBase, out: Map<string, FileDeclarations>): void {
  for (const nested of ns.nestedArray) {
    const isDeclaration = nested instanceof protobufjs().Type || nested instanceof protobufjs().Service
      || nested instanceof protobufjs().Enum || nested instanceof protobufjs().Field;
    if (isDeclaration) {
      const file = fileOf(root, nested);
      let entry = out.get(file);
      if (!entry) out.set(file, (entry = { pkg: bare(ns.fullName), items: [] }));
      entry.items.push(nested as Declaration);
    } else if (nested instanceof protobufjs().Namespace) {
      collect(root, nested, out);
    }
  }
}

/** The file a declaration (or the top-level declaration around it) came from. */
export function fileOf(root: Protobuf.Root, object: Protobuf.ReflectionObject): string {
  let top = object;
  while (top.parent && (top.parent instanceof protobufjs().Type || top.parent instanceof protobufjs().Service)) top = top.parent;
  if (top.filename) return protoFileName(root, top.filename) ?? top.filename;
  const bundled = bundledFiles().get(top.fullName);
  if (bundled) return bundled;
  // Loaded from JSON: no file is known, so each package gets one.
  const pkg = bare(top.parent?.fullName ?? '');
  return `${pkg ? pkg.replace(/\./g, '/') : 'default'}.proto`;
}

let bundled: Map<string, string> | undefined;

/** protobufjs ships the well-known types as JSON without file names: map them back to their files. */
function bundledFiles(): Map<string, string> {
  if (bundled) return bundled;
  bundled = new Map();
  for (const [file, json] of Object.entries(protobufjs().common as unknown as Record<string, any>)) {
    if (typeof json !== 'object' || !json) continue;
    const declarations = json?.nested?.google?.nested?.protobuf?.nested ?? {};
    for (const name of Object.keys(declarations)) bundled.set(`.google.protobuf.${name}`, file);
  }
  return bundled;
}

export function bare(fullName: string): string {
  return fullName.replace(/^\./, '');
}
