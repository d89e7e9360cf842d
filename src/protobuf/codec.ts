/**
 * Serialize/deserialize for one protobufjs message type under proto-loader-style
 * options. Encoding: strict input conversion (input.ts), then protobufjs's
 * generated encoder. Decoding: protobufjs's generated decoder and toObject,
 * which give plain objects (no Long, canonical map keys) under our options.
 * Everything is built once per type; a call allocates nothing beyond the
 * message objects themselves.
 */
import { InvalidFieldError, inputConverter, lookupMessage } from './input.js';
import { resolveMessageOptions, type MessageOptions } from './options.js';
import type { Protobuf } from './runtime.js';
import type { MessageCodec } from '../service.js';

export type { MessageCodec };

/** Conversion options for a codec; field names come from the Type itself (keepCase is a loading option). */
export type CodecOptions = Omit<MessageOptions, 'keepCase'>;

/**
 * Builds the codec for `type`. A value that cannot be encoded throws an Error
 * naming the type and the field path (the client and server turn it into
 * INTERNAL); it is never dropped.
 */
export function messageCodec<T = any>(type: Protobuf.Type, options: CodecOptions = {}): MessageCodec<T> {
  if ((options as MessageOptions).keepCase !== undefined) {
    throw new TypeError('keepCase names the fields of a loaded Root: give it to loadProto or fromRoot, not messageCodec');
  }
  const resolved = resolveMessageOptions({ ...options });
  const toObjectOptions: Protobuf.IConversionOptions = {
    longs: resolved.longs,
    enums: resolved.enums,
    bytes: resolved.bytes,
    defaults: resolved.defaults,
    arrays: resolved.arrays,
    objects: resolved.objects,
    oneofs: resolved.oneofs,
    json: resolved.json,
  };
  installAnyConversion(type.root);
  const convert = inputConverter(type);
  const typeName = type.fullName.slice(1);
  return {
    serialize(value: T): Uint8Array {
      let prepared: unknown;
      try {
        prepared = convert(value);
      } catch (err) {
        throw invalid(typeName, err);
      }
      return type.encode(prepared as Protobuf.Message).finish();
    },
    deserialize(bytes: Uint8Array): T {
      // A Buffer makes protobufjs hand out bytes fields as Buffers (and read strings faster).
      const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return type.toObject(type.decode(buffer), toObjectOptions) as T;
    },
  };
}

function invalid(typeName: string, err: unknown): Error {
  if (!(err instanceof InvalidFieldError)) return err instanceof Error ? err : new Error(String(err));
  const where = err.path.length ? ` field ${err.fieldPath}` : '';
  return new Error(`invalid ${typeName}${where}: ${err.reason}`, { cause: err });
}

const withAnyConversion = new WeakSet<Protobuf.Root>();

/**
 * google.protobuf.Any decodes with the casing of its type (typeUrl unless
 * keepCase), and with `json` expands to { '@type': url, ...fields } when the
 * type is loaded. protobufjs's built-in Any wrapper hard-codes type_url, so
 * the root's Any type gets this converter instead.
 */
function installAnyConversion(root: Protobuf.Root): void {
  if (withAnyConversion.has(root)) return;
  withAnyConversion.add(root);
  const any = lookupMessage(root, 'google.protobuf.Any');
  if (!any) return;
  const toObject = (message: Protobuf.Message, o: Protobuf.IConversionOptions = {}) => {
    const urlField = any.fields.typeUrl ? 'typeUrl' : 'type_url';
    const m = message as unknown as Record<string, unknown>;
    const url = m[urlField] as string | undefined;
    const value = m.value as ArrayLike<number> | undefined;
    if (o.json && url && value) {
      const inner = lookupMessage(root, url.slice(url.lastIndexOf('/') + 1));
      if (inner) {
        const object = inner.toObject(inner.decode(value as Uint8Array), o);
        object['@type'] = url;
        return object;
      }
    }
    const d: Record<string, unknown> = {};
    if (url || o.defaults) d[urlField] = url ?? '';
    if ((value && value.length) || o.defaults) d.value = bytesOut(value ?? [], o.bytes);
    return d;
  };
  // protobufjs assigns toObject again whenever it (re)generates the type's code; this one must stay.
  Object.defineProperty(any, 'toObject', { configurable: true, get: () => toObject, set: () => {} });
}

function bytesOut(value: ArrayLike<number>, form: unknown): unknown {
  // An unset bytes field reads as the prototype's default, which protobufjs keeps as a plain [].
  const buffer = Buffer.isBuffer(value) ? value : value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : Buffer.from(Array.from(value));
  if (form === String) return buffer.toString('base64');
  if (form === Array) return Array.from(buffer);
  return buffer;
}
