// bench.Echo as a hand-built @grpc/grpc-js service definition with identity
// serializers (no proto-loader), shared by the grpc-js server and client.
import type * as grpc from '@grpc/grpc-js';
import { PATHS } from '../echo.js';

const id = (b: Buffer): Buffer => b;

function method(path: string, requestStream: boolean, responseStream: boolean) {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: id,
    requestDeserialize: id,
    responseSerialize: id,
    responseDeserialize: id,
  };
}

export const grpcJsEcho = {
  Unary: method(PATHS.unary, false, false),
  ServerStream: method(PATHS.serverStream, false, true),
  ClientStream: method(PATHS.clientStream, true, false),
  Bidi: method(PATHS.bidi, true, true),
} satisfies grpc.ServiceDefinition;

/** Large enough for the 1 MiB scenario on both sides. */
export const GRPCJS_OPTIONS = {
  'grpc.max_receive_message_length': 16 << 20,
  'grpc.max_send_message_length': 16 << 20,
};
