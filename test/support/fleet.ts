import net from 'node:net';
import { Server, interceptCall, type Address, type ClientInterceptor, type ServerCallContext } from '../../src/index.js';
import { Observations, probeImplementation, probeService } from './probe.js';

/**
 * Test files run in parallel and a killed server's port can be taken by another file's server,
 * which the first file's channels may still be reconnecting to. Calls from this worker's
 * channels carry this tag, and replicas count only those.
 */
export const FLEET_TAG = `${process.pid}-${Math.random().toString(36).slice(2)}`;

/** Add to a channel's interceptors so that its calls count in `Replica.calls()`. */
export const tagCalls: ClientInterceptor = (_call, next) =>
  interceptCall(next(), {
    start(metadata, proceed) {
      metadata.set('x-fleet-tag', FLEET_TAG);
      proceed(metadata);
    },
  });

/** How many of the calls a server saw came from this worker's tagged channels. */
export function taggedCalls(contexts: readonly ServerCallContext[]): number {
  let n = 0;
  for (const c of contexts) if (c.metadata.get('x-fleet-tag') === FLEET_TAG) n++;
  return n;
}

/** One probe server on one loopback address, counting the calls it served. */
export interface Replica {
  readonly host: string;
  port: number;
  server: Server;
  seen: Observations;
  readonly address: Address;
  /** ip:port, for ipv4: targets. */
  readonly hostPort: string;
  /** Calls served from channels with the `tagCalls` interceptor. */
  calls(): number;
  /**
   * As if the process died: every TCP connection drops with no HTTP/2 goodbye (no GOAWAY, no
   * RST_STREAM), and nothing listens any more. Clients see the connection lost: UNAVAILABLE.
   */
  kill(): void;
  /** Listens again on the same address and port. */
  restart(): Promise<void>;
  /** Listens again on the same address, on `port`. */
  restartOn(port: number): Promise<void>;
}

/**
 * A probe server behind a TCP forwarder on the replica's public address, so that a kill can
 * drop connections the way a crashed process does (Server.forceShutdown says goodbye first).
 */
async function listen(host: string, port: number): Promise<{ server: Server; seen: Observations; port: number; kill(): void }> {
  const seen = new Observations();
  const server = new Server();
  server.addService(probeService, probeImplementation(seen));
  const backendPort = await server.listen(`${host}:0`);
  const sockets = new Set<net.Socket>();
  const front = net.createServer((client) => {
    const backend = net.connect({ host, port: backendPort, noDelay: true });
    client.setNoDelay(true);
    for (const [a, b] of [[client, backend], [backend, client]]) {
      sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.end();
      });
      a.pipe(b);
    }
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(port, host, resolve);
  });
  return {
    server,
    seen,
    port: (front.address() as net.AddressInfo).port,
    kill() {
      for (const socket of sockets) socket.destroy();
      front.close();
      server.forceShutdown();
    },
  };
}

/** Starts a probe server on each of the given loopback addresses (127.0.0.1, 127.0.0.2, …). */
export async function startFleet(hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3']): Promise<Replica[]> {
  return Promise.all(
    hosts.map(async (host) => {
      let current = await listen(host, 0);
      const replica: Replica = {
        host,
        port: current.port,
        server: current.server,
        seen: current.seen,
        get address(): Address {
          return { kind: 'tcp', host, port: replica.port };
        },
        get hostPort() {
          return `${host}:${replica.port}`;
        },
        calls: () => taggedCalls(replica.seen.contexts),
        kill: () => current.kill(),
        restart: () => replica.restartOn(replica.port),
        async restartOn(port) {
          current = await listen(host, port);
          replica.server = current.server;
          replica.seen = current.seen;
          replica.port = current.port;
        },
      };
      return replica;
    }),
  );
}
