import type { Server } from '../server/server.js';
import type { ServerCallContext } from '../server/context.js';
import type { ServiceImplementation } from '../server/handlers.js';
import { GrpcError } from '../wire/error.js';
import { Status } from '../wire/status.js';
import { healthServiceDefinition } from './health-proto.js';
import { StatusWatcher } from './status-watcher.js';

/** grpc.health.v1.HealthCheckResponse.ServingStatus, by name. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
/** What setStatus accepts: SERVICE_UNKNOWN is what the server reports for a name it was never told about. */
export type SettableStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING';

const wireCode: Record<ServingStatus, number> = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 };

interface HealthCheckRequest {
  service: string;
}

/**
 * The standard health service (grpc.health.v1.Health), as used by
 * grpc_health_probe, Kubernetes gRPC probes and load balancers. The empty
 * service name "" stands for the whole server.
 */
export class HealthService {
  /** The grpc.health.v1.Health service definition. */
  readonly definition = healthServiceDefinition();
  /** Its handlers (Check and Watch); addTo() registers both on a server. */
  readonly implementation: ServiceImplementation = {
    Check: (request: HealthCheckRequest) => this.check(request),
    Watch: (request: HealthCheckRequest, ctx: ServerCallContext) => this.watch(request, ctx),
  };

  private readonly statuses = new Map<string, SettableStatus>();
  private readonly watchers = new Map<string, Set<StatusWatcher<ServingStatus>>>();
  private shutDown = false;
  private serverStopped = false;

  /** Starts with the given statuses; by default the whole server ("") is SERVING. */
  constructor(initial: Record<string, SettableStatus> = { '': 'SERVING' }) {
    for (const [service, status] of Object.entries(initial)) this.setStatus(service, status);
  }

  /**
   * Registers the service on `server` and marks everything NOT_SERVING
   * when the server shuts down (Watch callers see that, then their streams end).
   */
  addTo(server: Server): this {
    server.addService(this.definition, this.implementation);
    server.onShutdown(() => {
      this.shutdown();
      this.endWatches();
    });
    return this;
  }

  /** Sets a service's status and tells its watchers. Ignored after shutdown() until resume(). */
  setStatus(service: string, status: SettableStatus): void {
    if (!(status in wireCode) || (status as ServingStatus) === 'SERVICE_UNKNOWN') {
      throw new TypeError(`setStatus: status must be SERVING, NOT_SERVING or UNKNOWN, got ${String(status)}`);
    }
    if (this.shutDown) return;
    this.statuses.set(service, status);
    this.notify(service, status);
  }

  /** Forgets a service: Check answers NOT_FOUND and watchers see SERVICE_UNKNOWN. */
  clearStatus(service: string): void {
    if (this.shutDown || !this.statuses.delete(service)) return;
    this.notify(service, 'SERVICE_UNKNOWN');
  }

  /** The status Check and Watch report for `service`. */
  getStatus(service: string): ServingStatus {
    return this.statuses.get(service) ?? 'SERVICE_UNKNOWN';
  }

  /**
   * Marks every known service NOT_SERVING and ignores later setStatus calls,
   * so a draining server stops attracting traffic. Runs on server shutdown.
   */
  shutdown(): void {
    for (const service of this.statuses.keys()) {
      this.statuses.set(service, 'NOT_SERVING');
      this.notify(service, 'NOT_SERVING');
    }
    this.shutDown = true;
  }

  /** Accepts setStatus again after shutdown() (statuses stay NOT_SERVING until set). */
  resume(): void {
    this.shutDown = false;
  }

  private check({ service }: HealthCheckRequest): { status: number } {
    const status = this.statuses.get(service);
    if (status === undefined) throw new GrpcError(Status.NOT_FOUND, `unknown service "${service}"`);
    return { status: wireCode[status] };
  }

  private async *watch({ service }: HealthCheckRequest, ctx: ServerCallContext): AsyncGenerator<{ status: number }> {
    const watcher = new StatusWatcher<ServingStatus>(this.getStatus(service));
    let set = this.watchers.get(service);
    if (!set) this.watchers.set(service, (set = new Set()));
    set.add(watcher);
    if (this.serverStopped) watcher.end();
    const stop = () => watcher.end();
    ctx.signal.addEventListener('abort', stop, { once: true });
    try {
      for (let status = await watcher.next(); status !== undefined; status = await watcher.next()) {
        yield { status: wireCode[status] };
      }
    } finally {
      ctx.signal.removeEventListener('abort', stop);
      set.delete(watcher);
      if (set.size === 0 && this.watchers.get(service) === set) this.watchers.delete(service);
    }
  }

  private notify(service: string, status: ServingStatus): void {
    for (const watcher of this.watchers.get(service) ?? []) watcher.push(status);
  }

  /** Ends every Watch stream after its last update, so a graceful shutdown need not wait them out. */
  private endWatches(): void {
    this.serverStopped = true;
    for (const set of this.watchers.values()) for (const watcher of set) watcher.end();
  }
}
