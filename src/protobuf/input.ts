/**
 * Strict input conversion: turns the plain object a user passes into the form
 * protobufjs's generated encoder expects, and refuses anything it cannot encode
 * exactly (wrong type, unknown enum name, unknown key, out-of-range integer, two
 * members of one oneof). protobufjs's own fromObject coerces such values
 * (String(42), 'abc' | 0, unknown enum names dropped); this layer is why a bad
 * value fails the call instead of vanishing.
 *
 * Each message type gets one plan (a table of per-field converters) built on
 * first use and cached; a call walks the keys the object actually has.
 */
import type { Protobuf } from './runtime.js';
import { protobufjs } from './runtime.js';

type Convert = (value: unknown) => unknown;
type WellFormed = string & { isWellFormed(): boolean };

/** A value that cannot be encoded; `path` is filled in as the error leaves nested messages. */
export class InvalidFieldError extends Error {
  readonly path: string[] = [];
  constructor(readonly reason: string) {
    super(reason);
  }

  /** "steps[2].seconds" */
  get fieldPath(): string {
    return this.path.map((p, i) => (i === 0 || p.startsWith('[') ? p : `.${p}`)).join('');
  }
}

interface FieldPlan {
  /** The key the encoder reads (the protobufjs field name). */
  name: string;
  convert: Convert;
  /** The oneof this field belongs to, if any. */
  oneof?: string;
  /** A google.protobuf field reachable under two spellings: setting both is an error. */
  twin?: boolean;
}

interface TypePlan {
  fields: Record<string, FieldPlan>;
  /** Oneof name -> member names: the virtual property decoded objects carry (option `oneofs`). */
  oneofs: Record<string, string[]>;
  oneofNames: string[];
  /** Field names as written, for "did you mean" hints. */
  hints: Map<string, string>;
  /** A type with its own input form (google.protobuf.Any). */
  special?: Convert;
}

const plans = new WeakMap<Protobuf.Type, TypePlan>();

/** The converter for a message type's plain-object form. */
export function inputConverter(type: Protobuf.Type): Convert {
  let plan: TypePlan | undefined;
  return (value) => convertMessage((plan ??= planFor(type)), value);
}

function planFor(type: Protobuf.Type): TypePlan {
  let plan = plans.get(type);
  if (!plan) {
    plan = buildPlan(type);
    plans.set(type, plan);
  }
  return plan;
}

const hasOwn = Object.prototype.hasOwnProperty;

function convertMessage(plan: TypePlan, value: unknown): Record<string, unknown> {
  if (plan.special) return plan.special(value) as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array || value instanceof Map || value instanceof Date) {
    // A Map or a Date has no own enumerable keys: taking one as a message would send it empty.
    throw new InvalidFieldError(`expected an object, got ${describe(value)}`);
  }
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const keys = Object.keys(source);
  let key: string | undefined;
  try {
    for (let i = 0; i < keys.length; i++) {
      key = keys[i];
      const v = source[key];
      const field = plan.fields[key];
      if (field === undefined) {
        if (v !== undefined) checkExtraKey(plan, key, v);
        continue;
      }
      if (v === undefined || v === null) continue;
      if (field.twin && out[field.name] !== undefined) throw new InvalidFieldError(`set under both spellings of ${field.name}`);
      out[field.name] = field.convert(v);
      if (field.oneof !== undefined) {
        const previous = out[field.oneof];
        if (previous !== undefined) throw new InvalidFieldError(`oneof ${field.oneof} has more than one member set: ${previous as string} and ${key}`);
        // The encoder only reads fields, so the oneof's own name is free to remember which member is set.
        out[field.oneof] = key;
      }
    }
    key = undefined;
    for (let i = 0; i < plan.oneofNames.length; i++) {
      const name = plan.oneofNames[i];
      const claimed = source[name];
      if (claimed != null && claimed !== out[name]) {
        key = name;
        throw new InvalidFieldError(`says ${JSON.stringify(claimed)} is set, but ${out[name] === undefined ? 'no member is' : `${out[name] as string} is`}`);
      }
    }
  } catch (err) {
    throw within(err, key);
  }
  return out;
}

/** A key that is not a field: a oneof's virtual property, something inherited, or an error. */
function checkExtraKey(plan: TypePlan, key: string, value: unknown): void {
  const members = plan.oneofs[key];
  if (members !== undefined) {
    if (value === null || (typeof value === 'string' && members.includes(value))) return;
    throw new InvalidFieldError(`a oneof's virtual property must name one of ${members.join(', ')}, got ${describe(value)}`);
  }
  const other = plan.hints.get(key);
  const hint = other ? ` (this type's field is called ${other}: see the loadProto option keepCase)` : '';
  throw new InvalidFieldError(`unknown field${hint}`);
}

function within(err: unknown, segment: string | undefined): unknown {
  if (err instanceof InvalidFieldError) {
    if (segment !== undefined) err.path.unshift(segment);
    return err;
  }
  // protobufjs or a getter threw something else: keep it, but say where.
  const wrapped = new InvalidFieldError(err instanceof Error ? err.message : String(err));
  if (segment !== undefined) wrapped.path.push(segment);
  return wrapped;
}

function buildPlan(type: Protobuf.Type): TypePlan {
  const pb = protobufjs();
  const plan: TypePlan = { fields: Object.create(null), oneofs: Object.create(null), oneofNames: [], hints: new Map() };
  // Code written against proto-loader spells some google.protobuf fields the other way (type_url, stringValue).
  const wellKnown = type.fullName.startsWith('.google.protobuf.');
  for (const field of type.fieldsArray) {
    field.resolve();
    const convert = field.map ? mapConverter(field as unknown as Protobuf.MapField) : field.repeated ? repeatedConverter(valueConverter(field)) : valueConverter(field);
    const aliases = [field.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), pb.util.camelCase(field.name)].filter((a) => a !== field.name);
    const twin = wellKnown && aliases.length > 0;
    plan.fields[field.name] = { name: field.name, convert, oneof: field.partOf?.name, twin };
    for (const alias of aliases) {
      if (twin) plan.fields[alias] = plan.fields[field.name];
      else plan.hints.set(alias, field.name);
    }
  }
  for (const oneof of type.oneofsArray) {
    plan.oneofs[oneof.name] = oneof.fieldsArray.map((f) => f.name);
    plan.oneofNames.push(oneof.name);
  }
  if (type.fullName === '.google.protobuf.Any') plan.special = anyConverter(type, plan);
  if (type.fullName === '.google.protobuf.Timestamp') plan.special = timestampConverter(plan);
  return plan;
}

function repeatedConverter(convert: Convert): Convert {
  return (value) => {
    if (!Array.isArray(value)) throw new InvalidFieldError(`expected an array, got ${describe(value)}`);
    const out = new Array(value.length);
    let i = 0;
    try {
      for (; i < value.length; i++) {
        const element = value[i];
        if (element === null || element === undefined) throw new InvalidFieldError(`a repeated field cannot hold ${element}`);
        out[i] = convert(element);
      }
    } catch (err) {
      throw within(err, `[${i}]`);
    }
    return out;
  };
}

function mapConverter(field: Protobuf.MapField): Convert {
  const convertKey = keyConverter(field.keyType);
  const convertValue = valueConverter(field as unknown as Protobuf.Field);
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Map) {
      throw new InvalidFieldError(`expected a plain object of entries, got ${describe(value)}`);
    }
    const out: Record<string, unknown> = {};
    let key: string | undefined;
    try {
      for (key of Object.keys(value)) {
        const entry = (value as Record<string, unknown>)[key];
        if (entry === null || entry === undefined) throw new InvalidFieldError(`a map value cannot be ${entry}`);
        const k = convertKey(key);
        const v = convertValue(entry);
        if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
        else out[k] = v;
      }
    } catch (err) {
      throw within(err, `[${JSON.stringify(key)}]`);
    }
    return out;
  };
}

const INT32 = { min: -0x80000000, max: 0x7fffffff };
const UINT32 = { min: 0, max: 0xffffffff };
const DECIMAL = /^-?(?:0|[1-9][0-9]*)$/;
const INT64 = { min: -(1n << 63n), max: (1n << 63n) - 1n, unsigned: false };
const UINT64 = { min: 0n, max: (1n << 64n) - 1n, unsigned: true };

function keyConverter(keyType: string): (key: string) => string {
  switch (keyType) {
    case 'string':
      return (key) => key;
    case 'bool':
      return (key) => {
        if (key === 'true' || key === 'false') return key;
        throw new InvalidFieldError(`a bool map key must be "true" or "false"`);
      };
    case 'int32': case 'sint32': case 'sfixed32': case 'uint32': case 'fixed32': {
      const range = keyType.includes('uint') || keyType === 'fixed32' ? UINT32 : INT32;
      return (key) => {
        const n = Number(key);
        if (DECIMAL.test(key) && n >= range.min && n <= range.max) return key;
        throw new InvalidFieldError(`a map key of type ${keyType} must be an integer in ${range.min}..${range.max} written in decimal`);
      };
    }
    default: {
      const range = keyType === 'uint64' || keyType === 'fixed64' ? UINT64 : INT64;
      return (key) => {
        if (DECIMAL.test(key)) {
          const n = BigInt(key);
          if (n >= range.min && n <= range.max) return key;
        }
        throw new InvalidFieldError(`a map key of type ${keyType} must be an integer in ${range.min}..${range.max} written in decimal`);
      };
    }
  }
}

function valueConverter(field: Protobuf.Field): Convert {
  const pb = protobufjs();
  const resolved = field.resolvedType;
  if (resolved instanceof pb.Enum) return enumConverter(resolved);
  if (resolved instanceof pb.Type) return inputConverter(resolved);
  switch (field.type) {
    case 'string':
      // A lone surrogate cannot be written as UTF-8: protobufjs would send U+FFFD in its place.
      return (v) => (typeof v === 'string' && (v as WellFormed).isWellFormed() ? v : fail('a string of well-formed UTF-16 (no lone surrogates)', v));
    case 'bool':
      return (v) => (typeof v === 'boolean' ? v : fail('a boolean', v));
    case 'int32': case 'sint32': case 'sfixed32':
      return (v) => (typeof v === 'number' && (v | 0) === v ? v : fail(`an integer in ${INT32.min}..${INT32.max} (${field.type})`, v));
    case 'uint32': case 'fixed32':
      return (v) => (typeof v === 'number' && v >>> 0 === v ? v : fail(`an integer in 0..${UINT32.max} (${field.type})`, v));
    case 'double':
      return (v) => (typeof v === 'number' ? v : isSpecialFloat(v) ? Number(v) : fail('a number', v));
    case 'float':
      return (v) => {
        const n = typeof v === 'number' ? v : isSpecialFloat(v) ? Number(v) : fail('a number', v);
        if (Number.isFinite(n) && !Number.isFinite(Math.fround(n))) fail('a number within float range (±3.4e38)', v);
        return n;
      };
    case 'bytes':
      return bytesValue;
    case 'int64': case 'sint64': case 'sfixed64':
      return int64Converter(INT64, field.type);
    case 'uint64': case 'fixed64':
      return int64Converter(UINT64, field.type);
    default:
      throw new Error(`${field.fullName}: unsupported field type ${field.type}`);
  }
}

function isSpecialFloat(v: unknown): boolean {
  return v === 'NaN' || v === 'Infinity' || v === '-Infinity';
}

/**
 * 64-bit integers: a number (an exact integer), a decimal string, a bigint, or a
 * Long. protobufjs's writer takes numbers, decimal strings and Long-likes as
 * they are; a bigint becomes its decimal string.
 */
function int64Converter(range: typeof INT64, typeName: string): Convert {
  const expected = `an integer in ${range.min}..${range.max} (${typeName}) as a number, decimal string, bigint or Long`;
  const inRange = (n: bigint) => n >= range.min && n <= range.max;
  return (v) => {
    switch (typeof v) {
      case 'number':
        if (Number.isSafeInteger(v) ? v >= 0 || !range.unsigned : Number.isInteger(v) && inRange(BigInt(v))) return v;
        break;
      case 'string':
        if (!DECIMAL.test(v)) break;
        // Up to 15 digits is always a safe integer: hand the writer a number (its fast path, no Long parsing).
        if (v.length <= 15) {
          if (range.unsigned && v.charCodeAt(0) === 45 /* - */) break;
          return +v;
        }
        if (inRange(BigInt(v))) return v;
        break;
      case 'bigint':
        if (inRange(v)) return v.toString();
        break;
      case 'object': {
        const long = v as { low?: unknown; high?: unknown } | null;
        if (long !== null && Number.isInteger(long.low) && Number.isInteger(long.high)) return long;
        break;
      }
    }
    return fail(expected, v);
  };
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** bytes: a Uint8Array (Buffer), a base64 string (option bytes: String), or an array of octets (bytes: Array). */
function bytesValue(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') {
    const unpadded = v.replace(/=+$/, '').length;
    if (BASE64.test(v) && unpadded % 4 !== 1) return Buffer.from(v, 'base64');
    return fail('bytes as a Uint8Array or a base64 string', v);
  }
  if (Array.isArray(v) && v.every((b) => typeof b === 'number' && (b & 0xff) === b)) return Buffer.from(v);
  return fail('bytes as a Uint8Array, a base64 string or an array of octets', v);
}

function enumConverter(enumType: Protobuf.Enum): Convert {
  const byName: Record<string, number> = Object.assign(Object.create(null), enumType.values);
  const numbers = new Set(Object.values(enumType.values));
  // proto2 enums are closed: a number they do not declare would land in the peer's unknown fields.
  const closed = (enumType as unknown as { _features?: { enum_type?: string } })._features?.enum_type === 'CLOSED';
  const names = Object.keys(byName).join(', ');
  return (v) => {
    if (typeof v === 'string') {
      const n = byName[v];
      if (n !== undefined) return n;
      throw new InvalidFieldError(`${JSON.stringify(v)} is not a value of enum ${enumType.fullName.slice(1)} (${names})`);
    }
    if (typeof v === 'number' && (v | 0) === v) {
      if (!closed || numbers.has(v)) return v;
      throw new InvalidFieldError(`${v} is not a value of the closed enum ${enumType.fullName.slice(1)} (${names})`);
    }
    return fail(`a value of enum ${enumType.fullName.slice(1)} (a name or a number)`, v);
  };
}

/**
 * google.protobuf.Any: either { typeUrl, value } (type_url is accepted as well,
 * whatever keepCase says, for code written against proto-loader), or the JSON
 * form { '@type': 'type.googleapis.com/pkg.Msg', ...fields of pkg.Msg }.
 */
/** google.protobuf.Timestamp: { seconds, nanos }, or a Date (millisecond precision) for convenience. */
function timestampConverter(plan: TypePlan): Convert {
  const generic: TypePlan = { ...plan, special: undefined };
  return (value) => {
    if (!(value instanceof Date)) return convertMessage(generic, value);
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new InvalidFieldError('expected a valid Date, got an Invalid Date');
    const seconds = Math.floor(ms / 1000);
    return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
  };
}

function anyConverter(type: Protobuf.Type, plan: TypePlan): Convert {
  const urlField = type.fields.typeUrl ? 'typeUrl' : 'type_url';
  const generic: TypePlan = { ...plan, special: undefined };
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return convertMessage(generic, value);
    const source = value as Record<string, unknown>;
    const url = source['@type'];
    if (url === undefined) return convertMessage(generic, value);
    if (typeof url !== 'string') throw within(new InvalidFieldError(`expected a type URL string, got ${describe(url)}`), '@type');
    const name = url.slice(url.lastIndexOf('/') + 1);
    const inner = lookupMessage(type.root, name);
    if (!inner) throw within(new InvalidFieldError(`${JSON.stringify(name)} is not a message type loaded with this package`), '@type');
    const { '@type': _, ...rest } = source;
    const message = convertMessage(planFor(inner), rest);
    return { [urlField]: url.includes('/') ? url : `type.googleapis.com/${url}`, value: inner.encode(message).finish() };
  };
}

export function lookupMessage(root: Protobuf.Root, name: string): Protobuf.Type | undefined {
  const found = root.lookup(name.startsWith('.') ? name : `.${name}`);
  return found instanceof protobufjs().Type ? found : undefined;
}

function fail(expected: string, value: unknown): never {
  throw new InvalidFieldError(`expected ${expected}, got ${describe(value)}`);
}

function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'bigint':
      return `bigint ${value}n`;
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return 'an array';
      if (value instanceof Uint8Array) return 'a Uint8Array';
      if (value instanceof Map) return 'a Map';
      if (value instanceof Date) return 'a Date';
      return 'an object';
    default:
      return String(typeof value);
  }
}
