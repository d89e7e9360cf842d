import {
  parseServiceConfig, registerResolver,
  type Address, type Resolver, type ResolverListener, type ServiceConfig, type TargetUri,
} from '../../src/index.js';

/**
 * An example naming plug-in, written against the public resolver API only: a scheme whose
 * address list (and service config) the test sets, as a registry client (etcd, Consul, …)
 * would push what it watches. `static-N:///anything` targets resolve to what `set()` gave.
 */
export class StaticNaming {
  private static count = 0;
  readonly scheme = `static-${++StaticNaming.count}`;
  private addresses: Address[] = [];
  private serviceConfig: ServiceConfig | undefined;
  private readonly live = new Set<ResolverListener>();
  /** How many times a channel asked for re-resolution (connection failure, GOAWAY). */
  resolveNowCalls = 0;
  /** The targets channels created resolvers for. */
  readonly targets: TargetUri[] = [];

  constructor() {
    registerResolver(this.scheme, {
      create: (target, listener): Resolver => {
        this.targets.push(target);
        this.live.add(listener);
        queueMicrotask(() => this.push(listener));
        return {
          resolveNow: () => {
            this.resolveNowCalls++;
          },
          close: () => this.live.delete(listener),
        };
      },
      defaultAuthority: (target) => target.endpoint || 'localhost',
    });
  }

  target(name = 'service'): string {
    return `${this.scheme}:///${name}`;
  }

  /** Publishes a new address list (and optionally a service config) to every channel using the scheme. */
  set(addresses: Address[], serviceConfig?: object): void {
    this.addresses = addresses;
    this.serviceConfig = serviceConfig && parseServiceConfig(serviceConfig);
    for (const listener of this.live) this.push(listener);
  }

  /** Resolvers currently open (closed ones, e.g. after the idle timeout, are gone). */
  get open(): number {
    return this.live.size;
  }

  private push(listener: ResolverListener): void {
    if (this.addresses.length === 0) listener.onError(new Error('no addresses published yet'));
    else listener.onUpdate({ addresses: this.addresses, serviceConfig: this.serviceConfig });
  }
}
