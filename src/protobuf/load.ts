import { existsSync } from 'node:fs';
import type { MethodDefinition, ServiceDefinition } from '../service.js';
import { messageCodec, type MessageCodec } from './codec.js';
import { lookupMessage } from './input.js';
import { resolveMessageOptions, type MessageOptions, type ParseOptions, type ResolvedMessageOptions } from './options.js';
import { protobufjs, protobufjsWithDescriptors, type Protobuf } from './runtime.js';
import { fileDescriptorsOf } from './file-descriptor-set.js';
import { rememberFileName, topLevelFileName } from './sources.js';

/** What loadProto() returns: the services, and codecs for the message types. */
export interface ProtoPackage {
  /** Every service in the loaded files, by fully-qualified name. */
  services: Record<string, ServiceDefinition>;
  /** The protobufjs root, for looking up message types. */
  root: Protobuf.Root;
  /** The codec for a message type by fully-qualified name, with the options the package was loaded with. */
  codec<T = any>(typeName: string): MessageCodec<T>;
  /** The options in effect, defaults filled in. */
  options: ResolvedMessageOptions;
}

/** proto-loader's options: the message options, the parse options, and where to find files. */
export interface LoadOptions extends MessageOptions, ParseOptions {
  /** Folders searched for the files and their imports, in order. */
  includeDirs?: string[];
}

/**
 * What loadProto accepts: .proto file names, an already-parsed protobufjs Root,
 * or a FileDescriptorSet (encoded bytes, as `protoc --descriptor_set_out` writes,
 * or the decoded object).
 */
export type ProtoSource = string | string[] | Protobuf.Root | Uint8Array | {
  /** FileDescriptorProto objects. */
  file: unknown[];
};

const LOAD_ONLY_OPTIONS = ['includeDirs', 'alternateCommentMode', 'preferTrailingComment'];

/** Loads .proto files (or a Root or a FileDescriptorSet) and builds a ServiceDefinition for each service, as @grpc/proto-loader does, with its options. */
export async function loadProto(source: ProtoSource, options: LoadOptions = {}): Promise<ProtoPackage> {
  const resolved = resolveMessageOptions({ ...options }, LOAD_ONLY_OPTIONS);
  if (!isFileList(source)) return fromSource(source, resolved);
  const root = makeRoot(options);
  await root.load(toArray(source), parseOptions(options, resolved));
  return fromRoot(root, resolved);
}

/** loadProto(), synchronously. */
export function loadProtoSync(source: ProtoSource, options: LoadOptions = {}): ProtoPackage {
  const resolved = resolveMessageOptions({ ...options }, LOAD_ONLY_OPTIONS);
  if (!isFileList(source)) return fromSource(source, resolved);
  const root = makeRoot(options);
  root.loadSync(toArray(source), parseOptions(options, resolved));
  return fromRoot(root, resolved);
}

/**
 * Builds service definitions from an already-populated protobufjs Root. With
 * keepCase off (the default) every field of the root is renamed to
 * lowerCamelCase, including those protobufjs adds from JSON (google.protobuf.Any's
 * type_url): the Root is changed in place.
 */
export function fromRoot(root: Protobuf.Root, options: MessageOptions = {}): ProtoPackage {
  const resolved = resolveMessageOptions({ ...options });
  applyCasing(root, resolved.keepCase);
  root.resolveAll();
  const { keepCase: _applied, ...codecOptions } = resolved;
  const codecs = new Map<Protobuf.Type, MessageCodec>();
  const codecOf = (type: Protobuf.Type): MessageCodec => {
    let codec = codecs.get(type);
    if (!codec) codecs.set(type, (codec = messageCodec(type, codecOptions)));
    return codec;
  };
  const services: Record<string, ServiceDefinition> = {};
  collectServices(root, services, codecOf);
  return {
    services,
    root,
    options: resolved,
    codec(typeName) {
      const type = lookupMessage(root, typeName);
      if (!type) throw new Error(`message type ${typeName} is not in the loaded package`);
      return codecOf(type);
    },
  };
}

function fromSource(source: Exclude<ProtoSource, string | string[]>, options: ResolvedMessageOptions): ProtoPackage {
  const pb = protobufjs();
  if (source instanceof pb.Root) return fromRoot(source, options);
  if (source instanceof Uint8Array || (typeof source === 'object' && source !== null && Array.isArray((source as { file?: unknown }).file))) {
    const root = protobufjsWithDescriptors().Root.fromDescriptor(source, { keepCase: options.keepCase });
    return fromRoot(root, options);
  }
  throw new TypeError('loadProto takes .proto file names, a protobufjs Root, or a FileDescriptorSet (bytes or object)');
}

function isFileList(source: ProtoSource): source is string | string[] {
  return typeof source === 'string' || Array.isArray(source);
}

function parseOptions(options: LoadOptions, resolved: ResolvedMessageOptions): Protobuf.IParseOptions {
  return {
    keepCase: resolved.keepCase,
    alternateCommentMode: options.alternateCommentMode,
    preferTrailingComment: options.preferTrailingComment,
  };
}

function makeRoot(options: LoadOptions): Protobuf.Root {
  const root = new (protobufjs().Root)();
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

/**
 * One casing rule for every field (and oneof). keepCase off: lowerCamelCase everywhere,
 * including fields the parser did not rename (protobufjs's built-in
 * google.protobuf types come from JSON: Any's type_url). keepCase on: names as
 * in the .proto files, which for the built-ins means restoring snake_case
 * (protobufjs ships Struct's Value with stringValue, numberValue, ...).
 */
export function applyCasing(ns: Protobuf.NamespaceBase, keepCase: boolean): void {
  const pb = protobufjs();
  for (const nested of ns.nestedArray) {
    if (nested instanceof pb.Type && !keepCase) {
      // Descriptor sets keep oneof names as written; the .proto parser camelCases them.
      for (const oneof of nested.oneofsArray) {
        const camel = pb.util.camelCase(oneof.name);
        if (camel === oneof.name || nested.oneofs[camel]) continue;
        delete nested.oneofs[oneof.name];
        oneof.name = camel;
        nested.oneofs[camel] = oneof;
      }
    }
    if (nested instanceof pb.Type && (!keepCase || nested.fullName.startsWith('.google.protobuf.'))) {
      for (const field of [...nested.fieldsArray]) {
        if (field.extend !== undefined) continue;
        const renamed = keepCase ? snakeCase(field.name) : pb.util.camelCase(field.name);
        if (renamed === field.name || nested.fields[renamed]) continue;
        const oneof = field.partOf;
        const before = field.name;
        // Reflection and codegen still need the name as written in the .proto file.
        const named = field as Protobuf.Field & { protoName?: string };
        named.protoName ??= keepCase ? renamed : before;
        nested.remove(field);
        field.name = renamed;
        nested.add(field);
        if (oneof) oneof.oneof = oneof.oneof.map((name) => (name === before ? renamed : name));
      }
    }
    if (nested instanceof pb.Namespace) applyCasing(nested, keepCase);
  }
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function collectServices(
  ns: Protobuf.NamespaceBase,
  out: Record<string, ServiceDefinition>,
  codecOf: (type: Protobuf.Type) => MessageCodec,
): void {
  const pb = protobufjs();
  for (const nested of ns.nestedArray) {
    if (nested instanceof pb.Service) {
      const name = nested.fullName.replace(/^\./, '');
      out[name] = { ...serviceFrom(name, nested, codecOf), fileDescriptors: fileDescriptorsOf(ns.root) };
    } else if (nested instanceof pb.Namespace) {
      collectServices(nested, out, codecOf);
    }
  }
}

function serviceFrom(name: string, service: Protobuf.Service, codecOf: (type: Protobuf.Type) => MessageCodec): ServiceDefinition {
  const methods: Record<string, MethodDefinition> = {};
  for (const method of service.methodsArray) {
    const req = codecOf(method.resolvedRequestType!);
    const res = codecOf(method.resolvedResponseType!);
    methods[method.name] = {
      name: method.name,
      path: `/${name}/${method.name}`,
      requestStream: !!method.requestStream,
      responseStream: !!method.responseStream,
      serializeRequest: req.serialize,
      deserializeRequest: req.deserialize,
      serializeResponse: res.serialize,
      deserializeResponse: res.deserialize,
    };
  }
  return { name, methods };
}

function toArray(files: string | string[]): string[] {
  return Array.isArray(files) ? files : [files];
}
