import { Metadata as NativeMetadata } from '../index.js';

/** A metadata value: a string, or a Buffer for keys ending in `-bin`. */
export type MetadataValue = string | Buffer;
/** grpc-js's per-call flags carried on a Metadata object. */
export interface MetadataOptions {
  /** Marks the call idempotent (accepted for compatibility; tsgrpc sends no such flag). */
  idempotentRequest?: boolean;
  /** Waits for the channel to be ready instead of failing fast when it is not. */
  waitForReady?: boolean;
  /** Marks the request cacheable (accepted for compatibility; tsgrpc sends no such flag). */
  cacheableRequest?: boolean;
  /** Asks to hold the request in a buffer (accepted for compatibility; no effect in tsgrpc). */
  corked?: boolean;
}

// grpc-js accepts ':' in keys (pseudo-headers); they are never sent.
const LEGAL_KEY = /^[:0-9a-z_.-]+$/;
const LEGAL_VALUE = /^[ -~]*$/;

function checkEntry(key: string, value: MetadataValue): void {
  if (!LEGAL_KEY.test(key)) throw new Error(`Metadata key "${key}" contains illegal characters`);
  if (key.endsWith('-bin')) {
    if (!Buffer.isBuffer(value)) throw new Error("keys that end with '-bin' must have Buffer values");
  } else {
    if (Buffer.isBuffer(value)) throw new Error("keys that don't end with '-bin' must have String values");
    if (!LEGAL_VALUE.test(value)) throw new Error(`Metadata string value "${value}" contains illegal characters`);
  }
}

/** grpc-js's Metadata: lowercase keys, string values, Buffer values for "-bin" keys. */
export class Metadata {
  /** Public in grpc-js too; other copies of the module read it. */
  internalRepr = new Map<string, MetadataValue[]>();
  private options: MetadataOptions;

  /** Makes an empty Metadata with the given call flags. */
  constructor(options: MetadataOptions = {}) {
    this.options = options;
  }

  /** Replaces every value of `key` (lowercased) with `value`; throws on an illegal key or value. */
  set(key: string, value: MetadataValue): void {
    key = key.toLowerCase();
    checkEntry(key, value);
    this.internalRepr.set(key, [value]);
  }

  /** Appends `value` to the values of `key` (lowercased); throws on an illegal key or value. */
  add(key: string, value: MetadataValue): void {
    key = key.toLowerCase();
    checkEntry(key, value);
    const values = this.internalRepr.get(key);
    if (values) values.push(value);
    else this.internalRepr.set(key, [value]);
  }

  /** Removes every value of `key`. */
  remove(key: string): void {
    this.internalRepr.delete(key.toLowerCase());
  }

  /** The values of `key` in the order added; an empty array if there are none. */
  get(key: string): MetadataValue[] {
    return this.internalRepr.get(key.toLowerCase()) ?? [];
  }

  /** The first value of each key. */
  getMap(): Record<string, MetadataValue> {
    const map: Record<string, MetadataValue> = {};
    for (const [key, values] of this.internalRepr) {
      if (values.length > 0) map[key] = copyValue(values[0]);
    }
    return map;
  }

  /** A deep copy: Buffer values are copied too. */
  clone(): Metadata {
    const copy = new Metadata(this.options);
    for (const [key, values] of this.internalRepr) copy.internalRepr.set(key, values.map(copyValue));
    return copy;
  }

  /** Appends every value of `other` to this metadata, key by key. */
  merge(other: Metadata): void {
    for (const [key, values] of entriesOf(other)) {
      this.internalRepr.set(key, [...(this.internalRepr.get(key) ?? []), ...values]);
    }
  }

  /** Replaces the call flags. */
  setOptions(options: MetadataOptions): void {
    this.options = options;
  }

  /** The call flags. */
  getOptions(): MetadataOptions {
    return this.options;
  }

  /** The HTTP/2 header form: Buffer values base64-encoded, pseudo-headers (`:` keys) left out. */
  toHttp2Headers(): Record<string, string | string[]> {
    const headers: Record<string, string | string[]> = {};
    for (const [key, values] of this.internalRepr) {
      if (key.startsWith(':')) continue;
      const wire = values.map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : v));
      headers[key] = wire.length === 1 ? wire[0] : wire;
    }
    return headers;
  }

  /** Every key with its values, for `JSON.stringify`. */
  toJSON(): Record<string, MetadataValue[]> {
    return Object.fromEntries(this.internalRepr);
  }

  /** Builds a Metadata from HTTP/2 headers, decoding base64 `-bin` values. */
  static fromHttp2Headers(headers: Record<string, string | string[] | undefined>): Metadata {
    return fromNative(NativeMetadata.fromHeaders(headers));
  }
}

function copyValue(value: MetadataValue): MetadataValue {
  return Buffer.isBuffer(value) ? Buffer.from(value) : value;
}

/**
 * A Metadata from this module, from another copy of it, or from @grpc/grpc-js:
 * recognised by shape (its internalRepr map), never by instanceof.
 */
export function isMetadata(value: unknown): value is Metadata {
  return typeof value === 'object' && value !== null && (value as Metadata).internalRepr instanceof Map;
}

function entriesOf(md: Metadata): Iterable<[string, MetadataValue[]]> {
  if (!isMetadata(md)) throw new TypeError('expected a Metadata object');
  return md.internalRepr;
}

/** The native Metadata for the wire; pseudo-headers and protocol headers are left out, as grpc-js does. */
export function toNative(md: Metadata | undefined): NativeMetadata | undefined {
  if (md === undefined || md === null) return undefined;
  const entries = entriesOf(md);
  if ((entries as Map<string, MetadataValue[]>).size === 0) return undefined;
  const native = new NativeMetadata();
  for (const [key, values] of entries) {
    if (key.startsWith(':') || key.startsWith('grpc-')) continue;
    for (const value of values) native.add(key, value);
  }
  return native;
}

export function fromNative(native: NativeMetadata | undefined): Metadata {
  const md = new Metadata();
  if (!native) return md;
  for (const [key, value] of native) {
    const values = md.internalRepr.get(key);
    if (values) values.push(value);
    else md.internalRepr.set(key, [value]);
  }
  return md;
}
