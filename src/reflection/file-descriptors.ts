import { protobufjs, type Protobuf } from '../protobuf/runtime.js';
import { bare, collectDeclarations, fileOf, type Declaration } from './source-files.js';

/**
 * Rebuilds FileDescriptorProtos (as plain objects with proto field names)
 * from a protobufjs Root: one per source file, under the name importers use,
 * with fully-qualified type names and a dependency list that names every
 * file whose types it references. protobufjs's own toDescriptor groups by
 * package instead of by file, so it cannot serve reflection.
 */
export interface BuiltFile {
  name: string;
  dependencies: string[];
  descriptor: Record<string, unknown>;
  /** Fully-qualified names (no leading dot) of everything declared in the file. */
  symbols: string[];
  /** Extensions declared in the file: extended message's full name and field number. */
  extensions: { extendee: string; number: number }[];
  /** Fully-qualified names of the messages declared in the file. */
  messages: string[];
}

export function buildFiles(root: Protobuf.Root): BuiltFile[] {
  const files: BuiltFile[] = [];
  for (const [name, { pkg, items }] of collectDeclarations(root)) files.push(new FileBuilder(root, name, pkg).build(items));
  return files;
}

const scalarTypes: Record<string, number> = {
  double: 1, float: 2, int64: 3, uint64: 4, int32: 5, fixed64: 6, fixed32: 7, bool: 8,
  string: 9, bytes: 12, uint32: 13, sfixed32: 15, sfixed64: 16, sint32: 17, sint64: 18,
};
const TYPE_GROUP = 10;
const TYPE_MESSAGE = 11;
const TYPE_ENUM = 14;
const LABEL_OPTIONAL = 1;
const LABEL_REQUIRED = 2;
const LABEL_REPEATED = 3;
const editions: Record<string, number> = { '2023': 1000, '2024': 1001 };

class FileBuilder {
  private readonly dependencies = new Set<string>();
  private readonly symbols: string[] = [];
  private readonly extensions: { extendee: string; number: number }[] = [];
  private readonly messages: string[] = [];
  private edition = 'proto2';

  constructor(private readonly root: Protobuf.Root, private readonly name: string, private readonly pkg: string) {}

  build(items: Declaration[]): BuiltFile {
    const descriptor: Record<string, unknown> = { name: this.name };
    if (this.pkg) descriptor.package = this.pkg;
    const messageType: unknown[] = [];
    const enumType: unknown[] = [];
    const service: unknown[] = [];
    const extension: unknown[] = [];
    this.edition = editionOf(items[0]);
    for (const item of items) {
      if (item instanceof protobufjs().Type) messageType.push(this.message(item));
      else if (item instanceof protobufjs().Enum) enumType.push(this.enumeration(item));
      else if (item instanceof protobufjs().Service) service.push(this.service(item));
      else extension.push(this.extension(item));
    }
    Object.assign(descriptor, { message_type: messageType, enum_type: enumType, service, extension });
    if (this.edition === 'proto3') descriptor.syntax = 'proto3';
    else if (this.edition in editions) Object.assign(descriptor, { syntax: 'editions', edition: editions[this.edition] });
    descriptor.dependency = [...this.dependencies];
    return { name: this.name, dependencies: [...this.dependencies], descriptor, symbols: this.symbols, extensions: this.extensions, messages: this.messages };
  }

  private message(type: Protobuf.Type): Record<string, unknown> {
    this.declare(type);
    this.messages.push(bare(type.fullName));
    const fields = type.fieldsArray.filter((f) => !f.declaringField); // sister fields of extensions live in their own file
    const real = type.oneofsArray.filter((o) => !isSynthetic(o));
    const oneofs = [...real, ...type.oneofsArray.filter(isSynthetic)]; // synthetic oneofs must come last
    const nestedType: unknown[] = [];
    const enumType: unknown[] = [];
    const extension: unknown[] = [];
    const field = fields.map((f) => {
      this.declare(f);
      if (f instanceof protobufjs().MapField) nestedType.push(this.mapEntry(f));
      return this.field(f, oneofs);
    });
    for (const oneof of oneofs) this.declare(oneof);
    for (const nested of type.nestedArray) {
      if (nested instanceof protobufjs().Type) nestedType.push(this.message(nested));
      else if (nested instanceof protobufjs().Enum) enumType.push(this.enumeration(nested));
      else if (nested instanceof protobufjs().Field) extension.push(this.extension(nested));
    }
    const out: Record<string, unknown> = {
      name: type.name, field, nested_type: nestedType, enum_type: enumType, extension,
      oneof_decl: oneofs.map((o) => ({ name: isSynthetic(o) ? `_${protoName(o.fieldsArray[0])}` : o.name })),
      extension_range: (type.extensions ?? []).map(([start, end]) => ({ start, end: end + 1 })),
      reserved_range: reservedRanges(type.reserved).map(([start, end]) => ({ start, end: end + 1 })),
      reserved_name: reservedNames(type.reserved),
    };
    if (type.options?.deprecated) out.options = { deprecated: true };
    return out;
  }

  private field(field: Protobuf.Field | Protobuf.MapField, oneofs: Protobuf.OneOf[]): Record<string, unknown> {
    const name = protoName(field);
    const out: Record<string, unknown> = { name, number: field.id, json_name: jsonName(name) };
    if (field instanceof protobufjs().MapField) {
      Object.assign(out, { label: LABEL_REPEATED, type: TYPE_MESSAGE, type_name: `${field.parent!.fullName}.${mapEntryName(name)}` });
      return out;
    }
    out.label = field.repeated ? LABEL_REPEATED : field.required && this.edition === 'proto2' ? LABEL_REQUIRED : LABEL_OPTIONAL;
    Object.assign(out, this.fieldType(field));
    if (field.partOf) out.oneof_index = oneofs.indexOf(field.partOf);
    if (field.options?.proto3_optional) out.proto3_optional = true;
    const defaultValue = field.options?.default;
    if (defaultValue !== undefined) out.default_value = String(defaultValue);
    const options: Record<string, boolean> = {};
    if (typeof field.options?.packed === 'boolean') options.packed = field.options.packed;
    if (field.options?.deprecated) options.deprecated = true;
    if (Object.keys(options).length > 0) out.options = options;
    return out;
  }

  private fieldType(field: Protobuf.FieldBase): Record<string, unknown> {
    const scalar = scalarTypes[field.type];
    if (scalar !== undefined && !field.resolvedType) return { type: scalar };
    const target = field.resolve().resolvedType;
    if (!target) throw new Error(`reflection: type ${field.type} of ${field.fullName} did not resolve`);
    this.refer(target);
    const group = (target as { group?: boolean }).group || (field as { delimited?: boolean }).delimited;
    const type = target instanceof protobufjs().Enum ? TYPE_ENUM : group ? TYPE_GROUP : TYPE_MESSAGE;
    return { type, type_name: target.fullName };
  }

  /** protoc's map entry: a nested message with key = 1 and value = 2, flagged map_entry. */
  private mapEntry(field: Protobuf.MapField): Record<string, unknown> {
    const value: Record<string, unknown> = { name: 'value', number: 2, label: LABEL_OPTIONAL, json_name: 'value', ...this.fieldType(field) };
    return {
      name: mapEntryName(protoName(field)),
      field: [{ name: 'key', number: 1, label: LABEL_OPTIONAL, type: scalarTypes[field.keyType], json_name: 'key' }, value],
      options: { map_entry: true },
    };
  }

  private extension(field: Protobuf.Field): Record<string, unknown> {
    this.declare(field);
    const extendee = field.extensionField?.parent ?? field.parent?.lookupType(field.extend!);
    if (!extendee) throw new Error(`reflection: extended type ${field.extend} of ${field.fullName} did not resolve`);
    this.refer(extendee);
    this.extensions.push({ extendee: bare(extendee.fullName), number: field.id });
    return { ...this.field(field, []), extendee: extendee.fullName };
  }

  private enumeration(e: Protobuf.Enum): Record<string, unknown> {
    this.declare(e);
    // Enum values are scoped next to their enum, not inside it.
    const scope = bare(e.parent?.fullName ?? '');
    const value = Object.entries(e.values).map(([name, number]) => {
      this.symbols.push(scope ? `${scope}.${name}` : name);
      return e.valuesOptions?.[name]?.deprecated ? { name, number, options: { deprecated: true } } : { name, number };
    });
    const out: Record<string, unknown> = {
      name: e.name, value,
      reserved_range: reservedRanges(e.reserved).map(([start, end]) => ({ start, end })),
      reserved_name: reservedNames(e.reserved),
    };
    const options: Record<string, boolean> = {};
    if (e.options?.allow_alias) options.allow_alias = true;
    if (e.options?.deprecated) options.deprecated = true;
    if (Object.keys(options).length > 0) out.options = options;
    return out;
  }

  private service(service: Protobuf.Service): Record<string, unknown> {
    this.declare(service);
    const method = service.methodsArray.map((m) => {
      this.declare(m);
      m.resolve();
      const input = m.resolvedRequestType!;
      const output = m.resolvedResponseType!;
      this.refer(input);
      this.refer(output);
      const out: Record<string, unknown> = { name: m.name, input_type: input.fullName, output_type: output.fullName };
      if (m.requestStream) out.client_streaming = true;
      if (m.responseStream) out.server_streaming = true;
      if (m.options?.deprecated) out.options = { deprecated: true };
      return out;
    });
    const out: Record<string, unknown> = { name: service.name, method };
    if (service.options?.deprecated) out.options = { deprecated: true };
    return out;
  }

  private declare(object: Protobuf.ReflectionObject): void {
    this.symbols.push(bare(object.fullName));
  }

  private refer(target: Protobuf.ReflectionObject): void {
    const file = fileOf(this.root, target);
    if (file !== this.name) this.dependencies.add(file);
  }
}

function editionOf(object: Protobuf.ReflectionObject | undefined): string {
  const edition = (object as { _edition?: string } | undefined)?._edition;
  return edition ?? 'proto3';
}

function isSynthetic(oneof: Protobuf.OneOf): boolean {
  return oneof.fieldsArray.length === 1 && Boolean(oneof.fieldsArray[0].options?.proto3_optional);
}

function protoName(field: Protobuf.FieldBase): string {
  return (field as { protoName?: string }).protoName ?? field.name;
}

/** protoc's json_name: underscores dropped, the letter after each one upper-cased. */
function jsonName(name: string): string {
  return name.replace(/_+([a-zA-Z0-9]?)/g, (_m, c: string) => c.toUpperCase());
}

/** protoc names a map field's entry message "<CamelCaseField>Entry". */
function mapEntryName(fieldName: string): string {
  const camel = jsonName(fieldName);
  return `${camel.charAt(0).toUpperCase()}${camel.slice(1)}Entry`;
}

function reservedRanges(reserved: (number[] | string)[] | undefined): [number, number][] {
  return (reserved ?? []).filter((r): r is number[] => Array.isArray(r)).map(([start, end]) => [start, end]);
}

function reservedNames(reserved: (number[] | string)[] | undefined): string[] {
  return (reserved ?? []).filter((r): r is string => typeof r === 'string');
}
