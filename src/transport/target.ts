import { isIP } from 'node:net';
import { splitHostPort, type Address } from './target-uri.js';

/**
 * What one subchannel dials: a resolved TCP address or a unix socket path, plus the
 * channel's :authority and the TLS server name it implies (a resolved IP is no name).
 */
export type Target =
  | { kind: 'tcp'; host: string; port: number; authority: string; serverName?: string }
  | { kind: 'unix'; path: string; authority: string };

export function dialTarget(address: Address, authority: string): Target {
  if (address.kind === 'unix') return { kind: 'unix', path: address.path, authority };
  let serverName: string | undefined;
  try {
    const { host } = splitHostPort(authority);
    if (!isIP(host)) serverName = host;
  } catch {
    // An authority that is not host[:port] names no TLS server.
  }
  return { kind: 'tcp', host: address.host, port: address.port, authority, serverName };
}
