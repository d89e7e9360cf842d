import { Backoff } from './backoff.js';
import { ConnectivityState } from './connectivity.js';
import { failPicker, loadBalancerFactory, waitPicker, type BalancerHelper, type LoadBalancer } from './load-balancer.js';
import './pick-first.js';
import './round-robin.js';
import type { Resolver, ResolverFactory, ResolverOptions, ResolverUpdate } from './resolver.js';
import type { ServiceConfig } from './service-config.js';
import type { TargetUri } from './target-uri.js';

const DEFAULT_POLICY = 'pick_first';

/**
 * The part of a channel between its resolver and its load balancer: it runs the resolver,
 * picks the service config (the resolver's, else the channel's default), creates the policy
 * that config names, and hands it every address list. A resolver that fails before any
 * address arrived puts the channel in TRANSIENT_FAILURE and is asked again after a backoff.
 */
export class ResolvingBalancer {
  private resolver: Resolver | undefined;
  private balancer: { name: string; lb: LoadBalancer } | undefined;
  private config: ServiceConfig | undefined;
  private readonly retry = new Backoff(1000, 30_000);
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly target: TargetUri,
    private readonly factory: ResolverFactory,
    private readonly options: ResolverOptions,
    private readonly defaultConfig: ServiceConfig | undefined,
    private readonly helper: BalancerHelper,
  ) {
    this.config = defaultConfig;
  }

  /** The service config in force: the resolver's latest, else the channel's default. */
  get serviceConfig(): ServiceConfig | undefined {
    return this.config;
  }

  /** Starts resolving (at the first call); later, wakes an idle balancer. */
  exitIdle(): void {
    if (this.closed) return;
    if (!this.resolver) {
      this.helper.update(ConnectivityState.CONNECTING, waitPicker);
      try {
        this.resolver = this.factory.create(this.target, { onUpdate: (u) => this.updated(u), onError: (e) => this.failed(e) }, this.options);
      } catch (err) {
        // A plug-in that rejects the target outright: every call fails with its reason.
        this.closed = true;
        this.helper.update(ConnectivityState.TRANSIENT_FAILURE, failPicker(err as Error));
      }
      return;
    }
    if (this.balancer) this.balancer.lb.exitIdle();
    else this.resolver.resolveNow();
  }

  requestResolution(): void {
    this.resolver?.resolveNow();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.resolver?.close();
    this.balancer?.lb.close();
  }

  private updated(update: ResolverUpdate): void {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retry.reset();
    const config = update.serviceConfig ?? this.defaultConfig;
    const choice = chooseBalancer(config);
    if (!choice) {
      const names = config!.loadBalancing.map((c) => c.name).join(', ');
      return this.failed(new Error(`the service config names no load-balancing policy this channel knows (${names})`));
    }
    this.config = config;
    const fresh = this.balancer?.name !== choice.name;
    if (fresh) {
      this.balancer?.lb.close();
      this.balancer = { name: choice.name, lb: loadBalancerFactory(choice.name)!(this.helper) };
    }
    this.balancer!.lb.updateAddresses(update.addresses, choice.config);
    if (fresh) this.balancer!.lb.exitIdle();
  }

  private failed(error: Error): void {
    if (this.closed) return;
    // With addresses from an earlier resolution the balancer carries on with them.
    if (this.balancer) return;
    this.helper.update(ConnectivityState.TRANSIENT_FAILURE, failPicker(error));
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.resolver?.resolveNow();
    }, this.retry.nextDelay());
    this.retryTimer.unref();
  }
}

/** The first policy of `loadBalancingConfig` that is registered; pick_first when the config names none. */
function chooseBalancer(config: ServiceConfig | undefined): { name: string; config: Record<string, unknown> } | undefined {
  if (!config || config.loadBalancing.length === 0) return { name: DEFAULT_POLICY, config: {} };
  return config.loadBalancing.find((c) => loadBalancerFactory(c.name));
}
