// Child-process entry for a Node echo server: `node main.js <impl>`.
// Reports {type:'ready', port} over IPC, answers {type:'mem'} with its memory
// after a forced GC, {type:'gc-start'}/{type:'gc-stop'} with the garbage made in between, and exits when the parent disconnects.
import type { EchoServer } from '../echo.js';
import { memorySnapshot } from '../memory.js';
import { countGarbage, type GarbageCounter } from '../garbage.js';

async function start(impl: string): Promise<EchoServer> {
  switch (impl) {
    case 'bare':
      return (await import('./bare.js')).startBare();
    case 'grpc-js':
      return (await import('./grpcjs.js')).startGrpcJs();
    case 'tsgrpc':
      return (await import('./tsgrpc.js')).startTsgrpc();
    case 'tsgrpc-compat':
      return (await import('./grpcjs.js')).startGrpcJs((await import('../../src/grpc-js/index.js')) as any);
    case 'tsgrpc-intercepted':
      return (await import('./tsgrpc.js')).startTsgrpc(true);
  }
  throw new Error(`unknown server impl ${impl}`);
}

const server = await start(process.argv[2] ?? '');
let garbage: GarbageCounter | undefined;
process.on('message', (m: { type: string }) => {
  if (m.type === 'mem') process.send!({ type: 'mem', mem: memorySnapshot() });
  // Garbage per call: the parent brackets a fixed number of calls.
  if (m.type === 'gc-start') {
    garbage = countGarbage();
    process.send!({ type: 'gc-started' });
  }
  if (m.type === 'gc-stop') process.send!({ type: 'gc', ...garbage!.stop() });
});
// Exit normally (not by signal) so --cpu-prof can write its profile.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.send!({ type: 'ready', port: server.port });
