/**
 * @bufbuild/protobuf (protobuf-es, as connect-es uses) as tsgrpc's codec. The
 * runtime functions are passed in rather than imported, so tsgrpc depends on
 * neither protobuf-es nor protobufjs:
 *   import { create, toBinary, fromBinary } from '@bufbuild/protobuf';
 *   server.addService(protobufEsService(Shop, { create, toBinary, fromBinary }), impl);
 * Messages are protobuf-es messages (int64 as bigint, oneofs as { case, value });
 * a plain init object is accepted as input and completed with `create`.
 * With `FileDescriptorProtoSchema` (from '@bufbuild/protobuf/wkt') in the runtime,
 * the service carries its file descriptors, so server reflection describes it.
 */
import type { MessageCodec, ServiceDefinition } from '../service.js';
import { defineService, type MethodSpec } from './define-service.js';

/** The three @bufbuild/protobuf functions the codec uses, passed in so that tsgrpc does not import protobuf-es. */
export interface ProtobufEsRuntime {
  /** Makes a message of `schema` from an init object. */
  create(schema: any, init?: any): any;
  /** Serializes a message. */
  toBinary(schema: any, message: any): Uint8Array;
  /** Parses a message. */
  fromBinary(schema: any, bytes: Uint8Array): any;
  /** google.protobuf.FileDescriptorProto's schema: lets the service carry its files for reflection. */
  FileDescriptorProtoSchema?: any;
}

/** The parts of a generated file descriptor (DescFile) reflection needs. */
export interface ProtobufEsFile {
  /** The file's FileDescriptorProto message. */
  readonly proto: unknown;
  /** The files it imports. */
  readonly dependencies: readonly ProtobufEsFile[];
}

/** The parts of a generated message schema (GenMessage) the codec reads. */
export interface ProtobufEsSchema {
  /** The fully-qualified message name, e.g. "pkg.Order". */
  readonly typeName: string;
}

/** The parts of a generated service descriptor (GenService) the adapter reads. */
export interface ProtobufEsServiceDesc {
  /** The fully-qualified service name, e.g. "pkg.Shop". */
  readonly typeName: string;
  /** The file it was declared in, when the generated code gives it (reflection serves it). */
  readonly file?: ProtobufEsFile;
  /** Its methods, as protobuf-es generated them. */
  readonly methods: readonly {
    /** The method name as declared. */
    readonly name: string;
    /** The streaming shape. */
    readonly methodKind: 'unary' | 'server_streaming' | 'client_streaming' | 'bidi_streaming';
    /** The request message schema. */
    readonly input: ProtobufEsSchema;
    /** The response message schema. */
    readonly output: ProtobufEsSchema;
  }[];
}

/** A codec for one protobuf-es message schema. Serializing accepts a message or a plain init object (completed with `create`). */
export function protobufEsCodec<T = any>(schema: ProtobufEsSchema, runtime: ProtobufEsRuntime): MessageCodec<T> {
  const { create, toBinary, fromBinary } = runtime;
  return {
    serialize: (value) => toBinary(schema, create(schema, value)),
    deserialize: (bytes) => fromBinary(schema, bytes) as T,
  };
}

/** A ServiceDefinition from a protobuf-es generated service descriptor, for Server.addService() and createClient(). */
export function protobufEsService(service: ProtobufEsServiceDesc, runtime: ProtobufEsRuntime): ServiceDefinition {
  const methods: Record<string, MethodSpec> = {};
  for (const m of service.methods) {
    methods[m.name] = {
      requestStream: m.methodKind === 'client_streaming' || m.methodKind === 'bidi_streaming',
      responseStream: m.methodKind === 'server_streaming' || m.methodKind === 'bidi_streaming',
      request: protobufEsCodec(m.input, runtime),
      response: protobufEsCodec(m.output, runtime),
    };
  }
  const definition = defineService(service.typeName, methods);
  const { file } = service;
  const schema = runtime.FileDescriptorProtoSchema;
  if (!file || !schema) return definition;
  let encoded: Uint8Array[] | undefined;
  return { ...definition, fileDescriptors: () => (encoded ??= withDependencies(file).map((f) => runtime.toBinary(schema, f.proto))) };
}

/** The file and everything it imports, transitively, each once. */
function withDependencies(file: ProtobufEsFile): ProtobufEsFile[] {
  const out = new Set<ProtobufEsFile>();
  const visit = (f: ProtobufEsFile) => {
    if (out.has(f)) return;
    out.add(f);
    f.dependencies.forEach(visit);
  };
  visit(file);
  return [...out];
}
