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
import { InvalidFieldError, describe, enumConverter, keyConverter, scalarConverter, type Convert } from './input-values.js';
import type { Protobuf } from './runtime.js';
import { protobufjs } from './runtime.js';

export { InvalidFieldError };

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

function valueConverter(field: Protobuf.Field): Convert {
  const pb = protobufjs();
  const resolved = field.resolvedType;
  if (resolved instanceof pb.Enum) return enumConverter(resolved);
  if (resolved instanceof pb.Type) return inputConverter(resolved);
  return scalarConverter(field);
}

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

