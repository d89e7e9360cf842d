/**
 * Custom metadata: case-insensitive keys, several values per key, and keys
 * ending in "-bin" carrying binary values (base64 on the wire).
 */
export type MetadataValue = string | Buffer;

const KEY_PATTERN = /^[0-9a-z_.-]+$/;
const ASCII_VALUE_PATTERN = /^[\x20-\x7e]*$/;

/** Whether values of `key` are binary: keys ending in "-bin". */
export function isBinaryKey(key: string): boolean {
  return key.endsWith('-bin');
}

/**
 * A binary header value as sent: standard base64 without padding, which the
 * spec says implementations SHOULD emit (they MUST accept both).
 */
export function encodeBinaryHeader(value: Uint8Array): string {
  const padded = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  let end = padded.length;
  while (end > 0 && padded.charCodeAt(end - 1) === 61 /* '=' */) end--;
  return end === padded.length ? padded : padded.slice(0, end);
}

/** Headers that belong to the protocol, never to user metadata. */
export function isReservedHeader(key: string): boolean {
  return key.startsWith(':') || key.startsWith('grpc-') || RESERVED.has(key);
}
// 'date' is added by HTTP servers (Node's among them), not by the application.
const RESERVED = new Set(['content-type', 'te', 'date', 'content-length', 'connection', 'host', 'transfer-encoding', 'keep-alive', 'upgrade']);

/**
 * gRPC metadata: case-insensitive keys, each with one or more values in order. Keys ending in "-bin" hold binary values (Buffers); all others hold strings.
 * Protocol headers (":path", "grpc-*", "content-type", ...) are never part of it.
 */
export class Metadata implements Iterable<[string, MetadataValue]> {
  private readonly entries = new Map<string, MetadataValue[]>();

  /**
   * Metadata with the given entries, if any.
   * @param init Initial entries; an array adds several values for one key.
   */
  constructor(init?: Record<string, MetadataValue | MetadataValue[]>) {
    if (init) for (const [k, v] of Object.entries(init)) {
      for (const value of Array.isArray(v) ? v : [v]) this.add(k, value);
    }
  }

  /** Replaces all values of the key. */
  set(key: string, value: MetadataValue): this {
    const k = checkEntry(key, value);
    this.entries.set(k, [value]);
    return this;
  }

  /** Adds a value after the existing ones. Throws for an invalid key, a reserved header, or a value of the wrong kind for the key. */
  add(key: string, value: MetadataValue): this {
    const k = checkEntry(key, value);
    const list = this.entries.get(k);
    if (list) list.push(value);
    else this.entries.set(k, [value]);
    return this;
  }

  /** The first value of the key, if any. */
  get(key: string): MetadataValue | undefined {
    return this.entries.get(key.toLowerCase())?.[0];
  }

  /** All values of the key, in order (empty if none). */
  getAll(key: string): MetadataValue[] {
    return [...(this.entries.get(key.toLowerCase()) ?? [])];
  }

  /** Whether the key has a value. */
  has(key: string): boolean {
    return this.entries.has(key.toLowerCase());
  }

  /** Removes every value of the key; true if there were any. */
  delete(key: string): boolean {
    return this.entries.delete(key.toLowerCase());
  }

  /** The number of keys. */
  get size(): number {
    return this.entries.size;
  }

  /** The keys, lowercase, in insertion order. */
  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Every [key, value] pair, a key with several values once per value. */
  *[Symbol.iterator](): Iterator<[string, MetadataValue]> {
    for (const [key, values] of this.entries) for (const v of values) yield [key, v];
  }

  /** An independent copy. */
  clone(): Metadata {
    const copy = new Metadata();
    for (const [k, v] of this.entries) copy.entries.set(k, [...v]);
    return copy;
  }

  /** Copies every entry of `other` into this one, after the existing values. */
  merge(other: Metadata): this {
    for (const [k, v] of other) this.add(k, v);
    return this;
  }

  /** Keys to their values, binary values as base64, for logging. */
  toJSON(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [k, values] of this.entries) {
      out[k] = values.map((v) => (typeof v === 'string' ? v : v.toString('base64')));
    }
    return out;
  }

  /** Writes the entries into an HTTP/2 header object, skipping reserved keys. */
  writeTo(headers: Record<string, string | string[] | number>): void {
    for (const [k, values] of this.entries) {
      if (isReservedHeader(k)) continue;
      const wire = values.map((v) => (typeof v === 'string' ? v : encodeBinaryHeader(v)));
      headers[k] = wire.length === 1 ? wire[0] : wire;
    }
  }

  /** Reads user metadata out of received HTTP/2 headers, leaving protocol headers out. */
  static fromHeaders(headers: Record<string, string | string[] | undefined | number>): Metadata {
    const pairs: string[] = [];
    for (const key in headers) {
      const raw = headers[key];
      if (raw === undefined) continue;
      for (const v of Array.isArray(raw) ? raw : [String(raw)]) pairs.push(key, v);
    }
    return Metadata.fromRawHeaders(pairs);
  }

  /**
   * Reads user metadata from Node's flat [name, value, name, value, ...] list,
   * which keeps repeated headers apart where the header object joins them.
   */
  static fromRawHeaders(raw: readonly string[]): Metadata {
    const md = new Metadata();
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const key = raw[i].toLowerCase();
      if (isReservedHeader(key)) continue;
      if (isBinaryKey(key)) {
        // Binary values may also arrive comma-joined; base64 never contains ','.
        for (const part of raw[i + 1].split(',')) md.addEntry(key, Buffer.from(part.trim(), 'base64'));
      } else {
        md.addEntry(key, raw[i + 1]);
      }
    }
    return md;
  }

  private addEntry(key: string, value: MetadataValue): void {
    const list = this.entries.get(key);
    if (list) list.push(value);
    else this.entries.set(key, [value]);
  }
}

function checkEntry(key: string, value: MetadataValue): string {
  const k = key.toLowerCase();
  if (!KEY_PATTERN.test(k)) {
    throw new TypeError(`invalid metadata key ${JSON.stringify(key)}: only 0-9 a-z _ . - are allowed`);
  }
  if (isBinaryKey(k)) {
    if (!Buffer.isBuffer(value)) throw new TypeError(`metadata key ${JSON.stringify(k)} ends in -bin, so its value must be a Buffer`);
  } else if (typeof value !== 'string') {
    throw new TypeError(`metadata key ${JSON.stringify(k)} needs a string value (only -bin keys take Buffers)`);
  } else if (!ASCII_VALUE_PATTERN.test(value)) {
    throw new TypeError(`metadata value for ${JSON.stringify(k)} must be printable ASCII; use a -bin key for other bytes`);
  }
  return k;
}
