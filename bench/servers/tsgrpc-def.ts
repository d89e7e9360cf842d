// bench.Echo as a hand-built tsgrpc ServiceDefinition with identity
// serializers, shared by the tsgrpc server and client.
import type { MethodDefinition, ServiceDefinition } from '../../src/index.js';
import { PATHS, SERVICE } from '../echo.js';

const id = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);

function method(name: string, path: string, requestStream: boolean, responseStream: boolean): MethodDefinition<Buffer, Buffer> {
  return {
    name,
    path,
    requestStream,
    responseStream,
    serializeRequest: id,
    deserializeRequest: id,
    serializeResponse: id,
    deserializeResponse: id,
  };
}

export const tsgrpcEcho = {
  name: SERVICE,
  methods: {
    Unary: method('Unary', PATHS.unary, false, false),
    ServerStream: method('ServerStream', PATHS.serverStream, false, true),
    ClientStream: method('ClientStream', PATHS.clientStream, true, false),
    Bidi: method('Bidi', PATHS.bidi, true, true),
  },
} satisfies ServiceDefinition;

export const TSGRPC_MAX_MESSAGE = 16 << 20;
