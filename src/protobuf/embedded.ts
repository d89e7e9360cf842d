import { protobufjs, type Protobuf } from './runtime.js';
import type { MethodDefinition, ServiceDefinition } from '../service.js';
import { rememberFileName, rememberServiceRoot } from './sources.js';

/**
 * A .proto file shipped inside this package as text (the health and
 * reflection services), parsed under the name other files import it by.
 * Its messages keep their proto field names and go through protobufjs
 * encode/decode unconverted: the built-in services that use it handle
 * their own messages and must not depend on user-facing conversion options.
 */
export class EmbeddedProto {
  readonly root = new (protobufjs().Root)();

  constructor(readonly fileName: string, source: string) {
    protobufjs().parse(source, this.root, { keepCase: true });
    this.root.resolveAll();
    markFile(this.root, fileName);
    rememberFileName(this.root, fileName, fileName);
  }

  /** A message type by its fully-qualified name. */
  type(fullName: string): Protobuf.Type {
    return this.root.lookupType(fullName);
  }

  /** The service definition for a service in this file, known to reflection. */
  service(fullName: string): ServiceDefinition {
    const service = this.root.lookupService(fullName);
    const methods: Record<string, MethodDefinition> = {};
    for (const method of service.methodsArray) {
      const req = method.resolvedRequestType!;
      const res = method.resolvedResponseType!;
      methods[method.name] = {
        name: method.name,
        path: `/${fullName}/${method.name}`,
        requestStream: !!method.requestStream,
        responseStream: !!method.responseStream,
        serializeRequest: (v) => req.encode(v).finish(),
        deserializeRequest: (b) => req.decode(b),
        serializeResponse: (v) => res.encode(v).finish(),
        deserializeResponse: (b) => res.decode(b),
      };
    }
    const definition: ServiceDefinition = { name: fullName, methods };
    rememberServiceRoot(definition, this.root);
    return definition;
  }
}

/** protobuf.parse only records file names when Root#load drives it, so tag the declarations here. */
function markFile(ns: Protobuf.NamespaceBase, fileName: string): void {
  for (const nested of ns.nestedArray) {
    nested.filename = fileName;
    if (nested instanceof protobufjs().Namespace) markFile(nested, fileName);
  }
}
