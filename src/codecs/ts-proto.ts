/**
 * ts-proto's generated message objects as tsgrpc's codec:
 *   defineService('pkg.Shop', { Place: { request: tsProtoCodec(Order), response: tsProtoCodec(Receipt) } })
 * Input goes through the message's `fromPartial` when ts-proto generated one, so
 * partial objects get their defaults.
 */
import type { MessageCodec } from '../service.js';

/** The functions ts-proto generates for a message type that the codec uses. */
export interface TsProtoMessageFns<T> {
  /** Serializes a message into a writer; `finish()` gives the bytes. */
  encode(message: T, writer?: any): {
    /** The serialized bytes. */
    finish(): Uint8Array;
  };
  /** Parses a message. */
  decode(input: Uint8Array, length?: number): T;
  /** Completes a partial object with defaults, when ts-proto generated it. */
  fromPartial?(object: any): T;
}

/** A codec for one ts-proto message type, for defineService(). */
export function tsProtoCodec<T>(fns: TsProtoMessageFns<T>): MessageCodec<T> {
  const complete = fns.fromPartial ? fns.fromPartial.bind(fns) : (v: T) => v;
  return {
    serialize: (value) => fns.encode(complete(value)).finish(),
    deserialize: (bytes) => fns.decode(bytes),
  };
}
