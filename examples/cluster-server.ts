/**
 * Serving on every core with node:cluster. A Node process runs JavaScript on
 * one core; to use more, the primary forks workers and each worker runs its
 * own tsgrpc Server listening on the same address. The primary accepts the
 * connections and hands them to the workers in turn (round-robin), so:
 * - nothing in tsgrpc changes: each worker is an ordinary Server;
 * - a connection stays on the worker that got it, so one client with one
 *   Channel is served by one worker; load spreads over connections (several
 *   clients, or several Channels);
 * - workers share nothing but the port: state that must be shared lives
 *   elsewhere (a database, or messages through the primary).
 *
 * Usage: node dist/examples/cluster-server.js [port=50051] [workers=cores]
 * Port 0 picks a free port, the same for every worker. The primary prints
 * "listening on 127.0.0.1:<port> (workers <pid>, <pid>, ...)" once all are up.
 */
import cluster from 'node:cluster';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Server, loadProto } from '../src/index.js';

const protoPath = fileURLToPath(new URL('../../examples/greeter.proto', import.meta.url));

async function worker(port: number): Promise<void> {
  const { services } = await loadProto(protoPath);
  const server = new Server();
  // Only SayHello is implemented; the Greeter's other methods answer UNIMPLEMENTED.
  server.addService(services['demo.Greeter'], {
    async sayHello(req: { name: string }) {
      return { message: `Hello, ${req.name}, from worker ${process.pid}` };
    },
  });
  const bound = await server.listen(`127.0.0.1:${port}`);
  process.on('SIGTERM', () => void server.shutdown(2000).then(() => process.exit(0)));
  process.send!({ port: bound });
}

async function primary(port: number, count: number): Promise<void> {
  const workers = Array.from({ length: count }, () => cluster.fork());
  const ports = await Promise.all(
    workers.map((w) => new Promise<number>((resolve, reject) => {
      w.once('message', (m: { port: number }) => resolve(m.port));
      w.once('exit', (code) => reject(new Error(`worker ${w.process.pid} exited (${code}) before listening`)));
    })),
  );
  console.log(`listening on 127.0.0.1:${ports[0]} (workers ${workers.map((w) => w.process.pid).join(', ')})`);
  const stop = () => {
    for (const w of workers) w.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

const port = Number(process.argv[2] ?? 50051);
if (cluster.isPrimary) await primary(port, Number(process.argv[3] ?? os.availableParallelism()));
else await worker(port);
