// Child-process entry for a Node echo server: `node main.js <impl>`.
// Reports {type:'ready', port} over IPC, answers {type:'mem'} with its memory
// after a forced GC, and exits when the parent disconnects.
import type { EchoServer } from '../echo.js';
import { memorySnapshot } from '../memory.js';

async function start(impl: string): Promise<EchoServer> {
  switch (impl) {
    case 'bare':
      return (await import('./bare.js')).startBare();
    case 'grpc-js':
      return (await import('./grpcjs.js')).startGrpcJs();
    case 'tsgrpc':
      return (await import('./tsgrpc.js')).startTsgrpc();
    case 'tsgrpc-intercepted':
      return (await import('./tsgrpc.js')).startTsgrpc(true);
  }
  throw new Error(`unknown server impl ${impl}`);
}

const server = await start(process.argv[2] ?? '');
process.on('message', (m: { type: string }) => {
  if (m.type === 'mem') process.send!({ type: 'mem', mem: memorySnapshot() });
});
// Exit normally (not by signal) so --cpu-prof can write its profile.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.send!({ type: 'ready', port: server.port });
