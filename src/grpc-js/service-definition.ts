import type { MethodDefinition as NativeMethod } from '../index.js';

/** One method as grpc-js describes it: proto-loader output, grpc-tools' *_grpc_pb.js, or hand-written. */
export interface MethodDefinition<Req = any, Res = any> {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize: (value: Req) => Buffer;
  requestDeserialize: (bytes: Buffer) => Req;
  responseSerialize: (value: Res) => Buffer;
  responseDeserialize: (bytes: Buffer) => Res;
  originalName?: string;
  requestType?: unknown;
  responseType?: unknown;
}

export type ServiceDefinition = Record<string, MethodDefinition>;

export type MethodType = 'unary' | 'clientStream' | 'serverStream' | 'bidi';

export function methodType(method: { requestStream?: boolean; responseStream?: boolean }): MethodType {
  if (method.requestStream) return method.responseStream ? 'bidi' : 'clientStream';
  return method.responseStream ? 'serverStream' : 'unary';
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A native method for a client call: grpc-js serializers get and return Buffers. */
export function clientMethod(path: string, serialize: (value: any) => Buffer, deserialize: (bytes: Buffer) => any, stream: { requestStream: boolean; responseStream: boolean }): NativeMethod {
  return {
    name: path.slice(path.lastIndexOf('/') + 1),
    path,
    requestStream: stream.requestStream,
    responseStream: stream.responseStream,
    serializeRequest: serialize,
    deserializeResponse: (bytes) => deserialize(toBuffer(bytes)),
    serializeResponse: () => {
      throw new Error(`${path}: a client method does not serialize responses`);
    },
    deserializeRequest: () => {
      throw new Error(`${path}: a client method does not deserialize requests`);
    },
  };
}

export { toBuffer };
