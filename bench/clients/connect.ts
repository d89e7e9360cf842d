// Picks a client implementation by name.
import type { EchoClient } from '../echo.js';

export async function connect(impl: string, port: number): Promise<EchoClient> {
  switch (impl) {
    case 'bare':
      return (await import('./bare.js')).connectBare(port);
    case 'grpc-js':
      return (await import('./grpcjs.js')).connectGrpcJs(port);
    case 'tsgrpc':
      return (await import('./tsgrpc.js')).connectTsgrpc(port);
    case 'tsgrpc-compat':
      return (await import('./grpcjs.js')).connectGrpcJs(port, (await import('../../src/grpc-js/index.js')) as any);
    case 'tsgrpc-intercepted':
      return (await import('./tsgrpc.js')).connectTsgrpc(port, true);
  }
  throw new Error(`unknown client impl ${impl}`);
}
