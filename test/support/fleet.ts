import { Server, type Address } from '../../src/index.js';
import { Observations, probeImplementation, probeService } from './probe.js';

/** One probe server on one loopback address, counting the calls it served. */
export interface Replica {
  readonly host: string;
  port: number;
  server: Server;
  seen: Observations;
  readonly address: Address;
  /** ip:port, for ipv4: targets. */
  readonly hostPort: string;
  calls(): number;
  /** Hard stop: every connection is dropped, in-flight calls fail. */
  kill(): void;
  /** Listens again on the same address and port. */
  restart(): Promise<void>;
  /** Listens again on the same address, on `port`. */
  restartOn(port: number): Promise<void>;
}

async function listen(host: string, port: number): Promise<{ server: Server; seen: Observations; port: number }> {
  const seen = new Observations();
  const server = new Server();
  server.addService(probeService, probeImplementation(seen));
  return { server, seen, port: await server.listen(`${host}:${port}`) };
}

/** Starts a probe server on each of the given loopback addresses (127.0.0.1, 127.0.0.2, …). */
export async function startFleet(hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3']): Promise<Replica[]> {
  return Promise.all(
    hosts.map(async (host) => {
      const first = await listen(host, 0);
      const replica: Replica = {
        host,
        ...first,
        get address(): Address {
          return { kind: 'tcp', host, port: replica.port };
        },
        get hostPort() {
          return `${host}:${replica.port}`;
        },
        calls: () => replica.seen.contexts.length,
        kill: () => replica.server.forceShutdown(),
        restart: () => replica.restartOn(replica.port),
        async restartOn(port) {
          const next = await listen(host, port);
          replica.server = next.server;
          replica.seen = next.seen;
          replica.port = port;
        },
      };
      return replica;
    }),
  );
}
