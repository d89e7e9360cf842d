import type { MethodDefinition as NativeMethod } from '../index.js';

/** One method as grpc-js describes it: proto-loader output, grpc-tools' *_grpc_pb.js, or hand-written. */
export interface MethodDefinition<Req = any, Res = any> {
  /** The full method path, `/package.Service/Method`. */
  path: string;
  /** Whether the client sends a stream of messages. */
  requestStream: boolean;
  /** Whether the server sends a stream of messages. */
  responseStream: boolean;
  /** Encodes a request message to bytes. */
  requestSerialize: (value: Req) => Buffer;
  /** Decodes a request message from bytes. */
  requestDeserialize: (bytes: Buffer) => Req;
  /** Encodes a response message to bytes. */
  responseSerialize: (value: Res) => Buffer;
  /** Decodes a response message from bytes. */
  responseDeserialize: (bytes: Buffer) => Res;
  /** The method's name as written in the .proto file; generated clients also get a method under this name. */
  originalName?: string;
  /** The request type's descriptor, as proto-loader provides it (unused by tsgrpc). */
  requestType?: unknown;
  /** The response type's descriptor, as proto-loader provides it (unused by tsgrpc). */
  responseType?: unknown;
}

/** A service as grpc-js describes it: its methods by name. */
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
