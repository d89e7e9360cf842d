import { existsSync } from 'node:fs';
import protobuf from 'protobufjs';
import type { MethodDefinition, ServiceDefinition } from '../service.js';
import { rememberFileName, rememberServiceRoot, topLevelFileName } from './sources.js';

export interface ProtoPackage {
  /** Every service in the loaded files, by fully-qualified name. */
  services: Record<string, ServiceDefinition>;
  /** The protobufjs root, for looking up message types. */
  root: protobuf.Root;
}

export interface LoadOptions {
  /** Folders searched for the files and their imports, in order. */
  includeDirs?: string[];
}

export async function loadProto(files: string | string[], options: LoadOptions = {}): Promise<ProtoPackage> {
  const root = makeRoot(options);
  await root.load(toArray(files), { keepCase: false });
  return fromRoot(root);
}

export function loadProtoSync(files: string | string[], options: LoadOptions = {}): ProtoPackage {
  const root = makeRoot(options);
  root.loadSync(toArray(files), { keepCase: false });
  return fromRoot(root);
}

/** Builds service definitions from an already-populated protobufjs Root (e.g. from JSON descriptors). */
export function fromRoot(root: protobuf.Root): ProtoPackage {
  root.resolveAll();
  const services: Record<string, ServiceDefinition> = {};
  collectServices(root, services);
  return { services, root };
}

function makeRoot(options: LoadOptions): protobuf.Root {
  const root = new protobuf.Root();
  const dirs = options.includeDirs ?? [];
  const defaultResolve = root.resolvePath.bind(root);
  root.resolvePath = (origin, target) => {
    const resolved = findInDirs(dirs, target) ?? defaultResolve(origin, target);
    // Reflection serves each file under the name its importers use.
    if (resolved) rememberFileName(root, resolved, origin ? target : topLevelFileName(target, resolved, dirs));
    return resolved;
  };
  return root;
}

function findInDirs(dirs: string[], target: string): string | undefined {
  for (const dir of dirs) {
    const candidate = `${dir.replace(/\/$/, '')}/${target}`;
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function collectServices(ns: protobuf.NamespaceBase, out: Record<string, ServiceDefinition>): void {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Service) {
      const name = nested.fullName.replace(/^\./, '');
      out[name] = serviceFrom(name, nested);
      rememberServiceRoot(out[name], ns.root);
    } else if (nested instanceof protobuf.Namespace) {
      collectServices(nested, out);
    }
  }
}

function serviceFrom(name: string, service: protobuf.Service): ServiceDefinition {
  const methods: Record<string, MethodDefinition> = {};
  for (const method of service.methodsArray) {
    const req = method.resolvedRequestType!;
    const res = method.resolvedResponseType!;
    methods[method.name] = {
      name: method.name,
      path: `/${name}/${method.name}`,
      requestStream: !!method.requestStream,
      responseStream: !!method.responseStream,
      serializeRequest: (v) => req.encode(v).finish(),
      deserializeRequest: (b) => req.decode(b),
      serializeResponse: (v) => res.encode(v).finish(),
      deserializeResponse: (b) => res.decode(b),
    };
  }
  return { name, methods };
}

function toArray(files: string | string[]): string[] {
  return Array.isArray(files) ? files : [files];
}
