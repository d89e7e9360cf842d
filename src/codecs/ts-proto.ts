/**
 * ts-proto's generated message objects as tsgrpc's codec:
 *   defineService('pkg.Shop', { Place: { request: tsProtoCodec(Order), response: tsProtoCodec(Receipt) } })
 * Input goes through the message's `fromPartial` when ts-proto generated one, so
 * partial objects get their defaults.
 */
import type { MessageCodec } from '../service.js';

export interface TsProtoMessageFns<T> {
  encode(message: T, writer?: any): { finish(): Uint8Array };
  decode(input: Uint8Array, length?: number): T;
  fromPartial?(object: any): T;
}

export function tsProtoCodec<T>(fns: TsProtoMessageFns<T>): MessageCodec<T> {
  const complete = fns.fromPartial ? fns.fromPartial.bind(fns) : (v: T) => v;
  return {
    serialize: (value) => fns.encode(complete(value)).finish(),
    deserialize: (bytes) => fns.decode(bytes),
  };
}
