/**
 * Strict converters for single values: scalars, enums and map keys. Each takes
 * what a decoded object can hold under any option set (see input.ts) and hands
 * protobufjs's writer a value it encodes exactly, or throws InvalidFieldError.
 */
import type { Protobuf } from './runtime.js';

export type Convert = (value: unknown) => unknown;
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

const INT32 = { min: -0x80000000, max: 0x7fffffff };
const UINT32 = { min: 0, max: 0xffffffff };
const DECIMAL = /^-?(?:0|[1-9][0-9]*)$/;
const INT64 = { min: -(1n << 63n), max: (1n << 63n) - 1n, unsigned: false };
const UINT64 = { min: 0n, max: (1n << 64n) - 1n, unsigned: true };

export function keyConverter(keyType: string): (key: string) => string {
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

/** The converter for a scalar field type (not an enum or message). */
export function scalarConverter(field: Protobuf.Field): Convert {
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

export function enumConverter(enumType: Protobuf.Enum): Convert {
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
export function fail(expected: string, value: unknown): never {
  throw new InvalidFieldError(`expected ${expected}, got ${describe(value)}`);
}

export function describe(value: unknown): string {
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
