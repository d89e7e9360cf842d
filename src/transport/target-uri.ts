import { isIPv4 } from 'node:net';

/**
 * Channel targets as the gRPC naming doc defines them: `scheme:[//authority/]endpoint`,
 * with `dns` as the default scheme, so a bare `host:port` means `dns:///host:port`.
 */
export interface TargetUri {
  /** Lower-case scheme: dns, ipv4, ipv6, unix, unix-abstract, or a registered plug-in scheme. */
  scheme: string;
  /** The `//authority/` part, e.g. a DNS server for `dns://8.8.8.8/host`; empty when absent. */
  authority: string;
  /** What the resolver resolves: `host:port`, an address list, or a path. */
  endpoint: string;
  /** The target as the user wrote it, for error messages. */
  original: string;
}

/** A resolved address a subchannel can dial. */
export type Address =
  | {
    /** A TCP address. */
    kind: 'tcp';
    /** An IP address or host name. */
    host: string;
    /** The port. */
    port: number;
  }
  | {
    /** A unix domain socket. */
    kind: 'unix';
    /** The socket's path. */
    path: string;
  };

export const DEFAULT_PORT = 443;

/**
 * Parses a channel target. `knownSchemes` says which schemes have a resolver; a target
 * whose scheme is unknown is an error, unless it reads as `host:port` (then it is DNS).
 */
export function parseTargetUri(target: string, knownSchemes: ReadonlySet<string>): TargetUri {
  if (target === '') throw new Error('invalid target "": expected host:port or a scheme:endpoint URI');
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(target);
  if (match) {
    const scheme = match[1].toLowerCase();
    if (knownSchemes.has(scheme)) return split(scheme, match[2], target);
    // "host:port" and "host:" look like a scheme followed by a path: they are DNS names.
    if (!/^\d*$/.test(match[2])) {
      throw new Error(
        `invalid target ${JSON.stringify(target)}: unknown scheme "${scheme}" (known: ${[...knownSchemes].sort().join(', ')}); ` +
          'register a resolver for it, or write host:port',
      );
    }
  }
  return { scheme: 'dns', authority: '', endpoint: target, original: target };
}

function split(scheme: string, rest: string, original: string): TargetUri {
  if (!rest.startsWith('//')) return { scheme, authority: '', endpoint: rest, original };
  const slash = rest.indexOf('/', 2);
  // unix:///abs/path keeps its leading slash; "unix://relative" has none to strip.
  if (slash === -1) return { scheme, authority: rest.slice(2), endpoint: '', original };
  return { scheme, authority: rest.slice(2, slash), endpoint: scheme === 'unix' ? rest.slice(slash) : rest.slice(slash + 1), original };
}

/**
 * Splits `host[:port]` or `[v6]:port`, with `defaultPort` when none is given. Throws a clear
 * error for anything else.
 */
export function splitHostPort(text: string, defaultPort = DEFAULT_PORT): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text);
  const port = m?.[3] === undefined ? defaultPort : Number(m[3]);
  if (!m || port > 65535) throw new Error(`invalid address ${JSON.stringify(text)}: expected host, host:port or [ipv6]:port`);
  return { host: m[1] ?? m[2], port };
}

/** host:port as it goes in :authority and error messages (IPv6 in brackets). */
export function formatAddress(address: Address): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * Whether a target names this machine only: sockets, `localhost`, or loopback IPs (every one,
 * for address lists). Judged from the name alone, before any resolution.
 */
export function isLoopbackTarget(uri: TargetUri): boolean {
  if (uri.scheme === 'unix' || uri.scheme === 'unix-abstract') return true;
  if (uri.scheme !== 'dns' && uri.scheme !== 'ipv4' && uri.scheme !== 'ipv6') return false;
  if (uri.scheme === 'dns' && uri.authority) return false;
  const entries = uri.scheme === 'dns' ? [uri.endpoint] : uri.endpoint.split(',').filter(Boolean);
  return entries.length > 0 && entries.every((entry) => {
    try {
      const { host } = splitHostPort(entry);
      return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
    } catch {
      return false;
    }
  });
}
