// One grpc-js API suite, four pairings: grpc-js alone (the reference), tsgrpc/grpc-js alone,
// and each serving the other.
import * as grpcJs from '@grpc/grpc-js';
import { describe } from 'vitest';
import * as ours from '../src/grpc-js/index.js';
import { compatSuite } from './support/grpcjs-compat-suite.js';

const MODULES = { '@grpc/grpc-js': grpcJs, 'tsgrpc/grpc-js': ours } as const;

for (const [serverName, serverGrpc] of Object.entries(MODULES)) {
  for (const [clientName, clientGrpc] of Object.entries(MODULES)) {
    describe(`${serverName} server, ${clientName} client`, () => compatSuite(serverGrpc, clientGrpc));
  }
}
