import { isIP } from 'node:net';
import type { ServiceConfig } from './service-config.js';
import { parseTargetUri, splitHostPort, type Address, type TargetUri } from './target-uri.js';

/** What a resolver reports: the addresses to balance over and, optionally, a service config. */
export interface ResolverUpdate {
  /** The addresses to balance over, in the order the resolver found them. */
  addresses: Address[];
  /** A parsed service config; `undefined` means "the resolver has none", which keeps the channel's default. */
  serviceConfig?: ServiceConfig;
}

/** How a resolver talks back to its channel. Either may be called any number of times. */
export interface ResolverListener {
  /** New addresses (and maybe a service config). */
  onUpdate(update: ResolverUpdate): void;
  /** Resolution failed: calls see UNAVAILABLE with this reason until the next update. */
  onError(error: Error): void;
}

/** A running resolution of one target. */
export interface Resolver {
  /** Asks for a fresh resolution (the channel calls it on connection failure or GOAWAY); may be rate-limited. */
  resolveNow(): void;
  /** Stops resolving; no more calls to the listener. */
  close(): void;
  /**
   * Optional: whether calls are waiting on the channel. A timer the resolver runs towards a
   * requested resolution should keep the process alive (ref) only while this is true, so an
   * idle channel never holds a process open but a waiting call is not abandoned.
   */
  setWaitedOn?(waited: boolean): void;
}

/** Channel options a resolver may honour. */
export interface ResolverOptions {
  /** Read a service config from DNS TXT records (`grpc_config=`). Off by default, as in other gRPC stacks. */
  serviceConfigFromDns?: boolean;
  /** Shortest time between two DNS resolutions (default 30 s). */
  minResolutionIntervalMs?: number;
}

/**
 * A naming scheme plug-in: register one with `registerResolver` to make targets such as
 * `consul:///my-service` work. The resolver pushes address lists (and service configs) to the
 * listener whenever they change.
 */
export interface ResolverFactory {
  /** Starts resolving `target` for one channel, reporting to `listener`. */
  create(target: TargetUri, listener: ResolverListener, options: ResolverOptions): Resolver;
  /** The `:authority` calls carry for this target when no override is set. */
  defaultAuthority(target: TargetUri): string;
}

const factories = new Map<string, ResolverFactory>();

/** Adds (or replaces) the resolver for `scheme`, for every channel created afterwards. */
export function registerResolver(scheme: string, factory: ResolverFactory): void {
  factories.set(scheme.toLowerCase(), factory);
}

/** The target, parsed against the schemes registered now, and the factory that resolves it. */
export function resolverFor(target: string): { uri: TargetUri; factory: ResolverFactory } {
  const uri = parseTargetUri(target, new Set(factories.keys()));
  return { uri, factory: factories.get(uri.scheme)! };
}

/** A resolver whose answer never changes: address-list schemes, and tests. */
export class FixedResolver implements Resolver {
  /**
   * Reports `resolve()` to `listener` once, asynchronously, and again on every resolveNow().
   * @param listener The channel.
   * @param resolve Computes the addresses.
   */
  constructor(listener: ResolverListener, resolve: () => ResolverUpdate) {
    // Deliver after the channel has finished wiring itself up, as a real resolver would.
    queueMicrotask(() => {
      try {
        listener.onUpdate(resolve());
      } catch (err) {
        listener.onError(err as Error);
      }
    });
  }

  resolveNow(): void {}
  /** Nothing to stop. */
  close(): void {}
}

function addressList(uri: TargetUri, family: 4 | 6): Address[] {
  if (uri.authority) throw new Error(`invalid target ${JSON.stringify(uri.original)}: ${uri.scheme}: takes no authority`);
  const list = uri.endpoint.split(',').filter(Boolean);
  if (list.length === 0) throw new Error(`invalid target ${JSON.stringify(uri.original)}: no addresses`);
  return list.map((entry) => {
    const { host, port } = splitHostPort(entry);
    if (isIP(host) !== family) throw new Error(`invalid target ${JSON.stringify(uri.original)}: ${JSON.stringify(host)} is not an IPv${family} address`);
    return { kind: 'tcp', host, port } as const;
  });
}

function addressListScheme(family: 4 | 6): ResolverFactory {
  return {
    create: (uri, listener) => new FixedResolver(listener, () => ({ addresses: addressList(uri, family) })),
    defaultAuthority: (uri) => (uri.endpoint.split(',')[0] ?? 'localhost'),
  };
}

const unixScheme = (abstract: boolean): ResolverFactory => ({
  create: (uri, listener) =>
    new FixedResolver(listener, () => {
      if (!uri.endpoint) throw new Error(`invalid target ${JSON.stringify(uri.original)}: no socket path`);
      // Linux abstract sockets are named by a leading NUL byte.
      return { addresses: [{ kind: 'unix', path: abstract ? `\0${uri.endpoint}` : uri.endpoint }] };
    }),
  defaultAuthority: () => 'localhost',
});

registerResolver('ipv4', addressListScheme(4));
registerResolver('ipv6', addressListScheme(6));
registerResolver('unix', unixScheme(false));
registerResolver('unix-abstract', unixScheme(true));
