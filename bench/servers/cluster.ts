// Child-process entry for a Node echo server run in node:cluster workers that
// share one port: `node cluster.js <impl> <workers>`. The primary forks the
// workers, each starts the server on port 0 (cluster hands every worker the
// same port), and the primary reports {type:'ready', port, pids} over IPC.
// Connections are spread over the workers by the primary (round-robin).
import cluster from 'node:cluster';
import type { EchoServer } from '../echo.js';

async function start(impl: string): Promise<EchoServer> {
  if (impl === 'tsgrpc') return (await import('./tsgrpc.js')).startTsgrpc();
  if (impl === 'grpc-js') return (await import('./grpcjs.js')).startGrpcJs();
  if (impl === 'bare') return (await import('./bare.js')).startBare();
  throw new Error(`no cluster server for ${impl}`);
}

if (cluster.isPrimary) {
  const [impl = '', n = '2'] = process.argv.slice(2);
  const workers = Array.from({ length: Number(n) }, () => cluster.fork({ BENCH_CLUSTER_IMPL: impl }));
  const ports = await Promise.all(
    workers.map((w) => new Promise<number>((resolve, reject) => {
      w.once('message', (m: { port: number }) => resolve(m.port));
      w.once('exit', (code) => reject(new Error(`worker exited (${code}) before listening`)));
    })),
  );
  if (new Set(ports).size !== 1) throw new Error(`workers listen on different ports: ${ports.join(', ')}`);
  const stopAll = () => {
    for (const w of workers) w.process.kill('SIGTERM');
    process.exit(0);
  };
  process.on('disconnect', stopAll);
  process.on('SIGTERM', stopAll);
  process.send!({ type: 'ready', port: ports[0], pids: workers.map((w) => w.process.pid) });
} else {
  const server = await start(process.env.BENCH_CLUSTER_IMPL ?? '');
  process.on('SIGTERM', () => process.exit(0));
  process.send!({ port: server.port });
}
