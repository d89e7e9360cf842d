/**
 * protoc-gen-tsgrpc: tsgrpc-gen as a protoc / buf plugin. protoc hands over a
 * CodeGeneratorRequest (parsed files as descriptors, with comments in
 * source_code_info); we answer with a CodeGeneratorResponse holding one .ts
 * module per file to generate, the same module `tsgrpc-gen` writes for it.
 * Parameters (`--tsgrpc_opt=...` or buf's `opt:`), comma-separated:
 * keep_case, longs=String|Number|BigInt, enums=String|Number,
 * bytes=Buffer|String|Array, no_defaults, arrays, objects, no_oneofs, import_from=module.
 */
import { generateFromRoot, type GenerateOptions } from './codegen.js';
import { protobufjsWithDescriptors, type Protobuf } from './runtime.js';
import { packageRequire } from '../util/package-require.js';


/** CodeGeneratorResponse.Feature: proto3 optional and editions (proto2 .. 2023). */
const FEATURES = 1 | 2;
const EDITION_PROTO2 = 998;
const EDITION_2023 = 1000;

interface FileDescriptor {
  name: string;
  package?: string;
  dependency?: string[];
  messageType?: MessageDescriptor[];
  enumType?: EnumDescriptor[];
  service?: { name: string; method?: { name: string }[] }[];
  sourceCodeInfo?: { location?: { path?: number[]; leadingComments?: string; trailingComments?: string }[] };
}
interface MessageDescriptor {
  name: string;
  field?: { number: number }[];
  nestedType?: MessageDescriptor[];
  enumType?: EnumDescriptor[];
}
interface EnumDescriptor {
  name: string;
  value?: { name: string }[];
}

let pluginRoot: Protobuf.Root | undefined;

function pluginTypes(): { request: Protobuf.Type; response: Protobuf.Type } {
  const pb = protobufjsWithDescriptors();
  if (!pluginRoot) {
    pluginRoot = pb.Root.fromJSON(packageRequire('protobufjs/google/protobuf/descriptor.json'));
    pluginRoot.addJSON(packageRequire('protobufjs/google/protobuf/compiler/plugin.json').nested);
  }
  return {
    request: pluginRoot.lookupType('google.protobuf.compiler.CodeGeneratorRequest'),
    response: pluginRoot.lookupType('google.protobuf.compiler.CodeGeneratorResponse'),
  };
}

/** Runs the plugin on an encoded CodeGeneratorRequest; returns the encoded response (errors included, as protoc expects). */
export function runPlugin(requestBytes: Uint8Array): Uint8Array {
  const { request: Request, response: Response } = pluginTypes();
  let body: Record<string, unknown>;
  try {
    const request = Request.decode(requestBytes) as unknown as { fileToGenerate: string[]; parameter?: string; protoFile: FileDescriptor[] };
    const options = parseParameter(request.parameter ?? '');
    const byName = new Map(request.protoFile.map((f) => [f.name, f]));
    const file = request.fileToGenerate.map((name) => ({
      name: name.replace(/\.proto$/, '.ts'),
      content: generateFile(name, byName, options),
    }));
    body = { file, supportedFeatures: FEATURES, minimumEdition: EDITION_PROTO2, maximumEdition: EDITION_2023 };
  } catch (err) {
    body = { error: `protoc-gen-tsgrpc: ${err instanceof Error ? err.message : String(err)}`, supportedFeatures: FEATURES };
  }
  return Response.encode(Response.fromObject(body)).finish();
}

const CHOICES: Record<string, Record<string, unknown>> = {
  longs: { String, Number, BigInt },
  enums: { String, Number },
  bytes: { Buffer, String, Array },
};

export function parseParameter(parameter: string): GenerateOptions {
  const options: Record<string, unknown> = {};
  for (const part of parameter.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [key, value] = part.split('=', 2);
    if (key === 'keep_case') options.keepCase = true;
    else if (key === 'no_defaults') options.defaults = false;
    else if (key === 'arrays') options.arrays = true;
    else if (key === 'objects') options.objects = true;
    else if (key === 'no_oneofs') options.oneofs = false;
    else if (key === 'import_from' && value) options.importFrom = value;
    else if (key in CHOICES && value !== undefined && value in CHOICES[key]) options[key] = CHOICES[key][value];
    else throw new Error(`unknown parameter ${JSON.stringify(part)} (known: keep_case, longs=String|Number|BigInt, enums=String|Number, bytes=Buffer|String|Array, no_defaults, arrays, objects, no_oneofs, import_from=module)`);
  }
  return options as GenerateOptions;
}

/** The module for one file: that file and everything it imports, as tsgrpc-gen does for it. */
function generateFile(name: string, byName: Map<string, FileDescriptor>, options: GenerateOptions): string {
  const files: FileDescriptor[] = [];
  const visit = (n: string) => {
    const f = byName.get(n);
    if (!f) throw new Error(`${n} is imported but protoc did not send it`);
    if (files.includes(f)) return;
    for (const dep of f.dependency ?? []) visit(dep);
    files.push(f);
  };
  visit(name);
  const pb = protobufjsWithDescriptors();
  const root = pb.Root.fromDescriptor({ file: files } as never, { keepCase: !!options.keepCase });
  for (const f of files) applyComments(root, f);
  return generateFromRoot(root, name.split('/').pop()!, options);
}

/**
 * Descriptors carry comments apart from the declarations, addressed by path
 * (4 = message_type, 2 = field, 3 = nested_type, 4/5 = enum_type, 6 = service, 2 = method/value).
 */
function applyComments(root: Protobuf.Root, file: FileDescriptor): void {
  const pb = protobufjsWithDescriptors();
  const comments = new Map<string, string>();
  for (const loc of file.sourceCodeInfo?.location ?? []) {
    const text = (loc.leadingComments || loc.trailingComments || '').trim();
    // protoc keeps the leading "*" of /** */ lines; "///" and "//" arrive bare.
    if (text) comments.set((loc.path ?? []).join('.'), text.split('\n').map((l) => l.replace(/^\s*\*? ?/, '')).join('\n').trim());
  }
  const prefix = file.package ? `${file.package}.` : '';
  const onEnum = (desc: EnumDescriptor, fullName: string, path: string) => {
    const e = root.lookup(fullName);
    if (!(e instanceof pb.Enum)) return;
    e.comment = comments.get(path) ?? e.comment;
    (desc.value ?? []).forEach((v, i) => {
      const c = comments.get(`${path}.2.${i}`);
      if (c) e.comments[v.name] = c;
    });
  };
  const onMessage = (desc: MessageDescriptor, fullName: string, path: string) => {
    const type = root.lookup(fullName);
    if (!(type instanceof pb.Type)) return;
    type.comment = comments.get(path) ?? type.comment;
    (desc.field ?? []).forEach((f, i) => {
      const field = type.fieldsById[f.number];
      const c = comments.get(`${path}.2.${i}`);
      if (field && c) field.comment = c;
    });
    (desc.nestedType ?? []).forEach((n, i) => onMessage(n, `${fullName}.${n.name}`, `${path}.3.${i}`));
    (desc.enumType ?? []).forEach((n, i) => onEnum(n, `${fullName}.${n.name}`, `${path}.4.${i}`));
  };
  (file.messageType ?? []).forEach((m, i) => onMessage(m, `${prefix}${m.name}`, `4.${i}`));
  (file.enumType ?? []).forEach((e, i) => onEnum(e, `${prefix}${e.name}`, `5.${i}`));
  (file.service ?? []).forEach((s, i) => {
    const service = root.lookup(`${prefix}${s.name}`);
    if (!(service instanceof pb.Service)) return;
    service.comment = comments.get(`6.${i}`) ?? service.comment;
    (s.method ?? []).forEach((m, j) => {
      const c = comments.get(`6.${i}.2.${j}`);
      if (c && service.methods[m.name]) service.methods[m.name].comment = c;
    });
  });
}
