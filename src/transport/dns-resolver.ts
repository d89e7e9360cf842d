import dns from 'node:dns';
import { isIP } from 'node:net';
import os from 'node:os';
import { parseServiceConfig } from './service-config.js';
import { registerResolver, type Resolver, type ResolverListener, type ResolverOptions, type ResolverUpdate } from './resolver.js';
import { splitHostPort, type Address, type TargetUri } from './target-uri.js';

const DEFAULT_MIN_INTERVAL_MS = 30_000;

/**
 * The default scheme. Resolves every A and AAAA record of the host (through the system
 * resolver, or the DNS server named in `dns://server/host`), again whenever the channel asks
 * (connection failure, GOAWAY), but not more often than the minimum interval.
 */
export class DnsResolver implements Resolver {
  private readonly host: string;
  private readonly port: number;
  private readonly server: dns.promises.Resolver | undefined;
  private readonly minIntervalMs: number;
  private lastStarted = -Infinity;
  private running = false;
  private pending: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly target: TargetUri, private readonly listener: ResolverListener, private readonly options: ResolverOptions) {
    ({ host: this.host, port: this.port } = splitHostPort(target.endpoint));
    this.minIntervalMs = options.minResolutionIntervalMs ?? DEFAULT_MIN_INTERVAL_MS;
    if (target.authority) {
      this.server = new dns.promises.Resolver();
      this.server.setServers([target.authority]);
    }
    this.resolveNow();
  }

  resolveNow(): void {
    if (this.closed || this.running || this.pending) return;
    const wait = this.lastStarted + this.minIntervalMs - performance.now();
    if (wait > 0) {
      this.pending = setTimeout(() => {
        this.pending = undefined;
        this.resolveNow();
      }, wait);
      this.pending.unref();
      return;
    }
    this.lastStarted = performance.now();
    this.running = true;
    this.resolve().then(
      (update) => {
        this.running = false;
        if (!this.closed) this.listener.onUpdate(update);
      },
      (err: Error) => {
        this.running = false;
        if (!this.closed) this.listener.onError(new Error(`DNS resolution of ${JSON.stringify(this.host)} failed: ${err.message}`));
      },
    );
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.pending);
  }

  private async resolve(): Promise<ResolverUpdate> {
    // An IP literal has no name to hold TXT records: no query for it.
    const txt = this.options.serviceConfigFromDns && !isIP(this.host);
    const [addresses, serviceConfig] = await Promise.all([this.addresses(), txt ? this.txtServiceConfig() : undefined]);
    if (addresses.length === 0) throw new Error('no A or AAAA records');
    return { addresses, serviceConfig };
  }

  private async addresses(): Promise<Address[]> {
    const { host, port } = this;
    if (isIP(host)) return [{ kind: 'tcp', host, port }];
    let ips: string[];
    if (this.server) {
      const settled = await Promise.allSettled([this.server.resolve4(host), this.server.resolve6(host)]);
      ips = settled.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      if (ips.length === 0 && settled[0].status === 'rejected') throw settled[0].reason;
    } else {
      ips = (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    }
    return [...new Set(ips)].map((ip) => ({ kind: 'tcp', host: ip, port }));
  }

  /** `_grpc_config.<host>` TXT records: `grpc_config=[{"serviceConfig": …, "clientLanguage": […], …}]`. */
  private async txtServiceConfig(): Promise<ResolverUpdate['serviceConfig']> {
    let records: string[][];
    try {
      records = await (this.server ?? dns.promises).resolveTxt(`_grpc_config.${this.host}`);
    } catch {
      return undefined; // No TXT record is the common case, not an error.
    }
    const text = records.map((chunks) => chunks.join('')).find((r) => r.startsWith('grpc_config='));
    if (!text) return undefined;
    return parseServiceConfig(chooseServiceConfig(JSON.parse(text.slice('grpc_config='.length))));
  }
}

/** Picks the first choice of a TXT config list that applies to this client (naming doc: language, percentage, hostname). */
export function chooseServiceConfig(choices: unknown, random = Math.random, hostname = os.hostname()): object {
  if (!Array.isArray(choices)) throw new Error('invalid grpc_config TXT record: expected a JSON array of choices');
  for (const choice of choices as Record<string, unknown>[]) {
    const languages = choice.clientLanguage as string[] | undefined;
    if (languages && !languages.some((l) => ['node', 'nodejs', 'javascript', 'typescript'].includes(l.toLowerCase()))) continue;
    const hosts = choice.clientHostname as string[] | undefined;
    if (hosts && !hosts.includes(hostname)) continue;
    const percentage = choice.percentage as number | undefined;
    if (percentage !== undefined && random() * 100 >= percentage) continue;
    if (typeof choice.serviceConfig !== 'object' || choice.serviceConfig === null) throw new Error('invalid grpc_config TXT record: a choice has no serviceConfig object');
    return choice.serviceConfig;
  }
  return {};
}

registerResolver('dns', {
  create: (target, listener, options) => new DnsResolver(target, listener, options),
  defaultAuthority: (target) => target.endpoint,
});
