/** Where a channel connects: a TCP host and port, or a unix socket path. */
export type Target =
  | { kind: 'tcp'; host: string; port: number; authority: string }
  | { kind: 'unix'; path: string; authority: string };

/** Parses "host:port", "[v6]:port", "dns:///host:port", "unix:/path" or "unix:///path". Port defaults to 443. */
export function parseTarget(target: string): Target {
  if (target.startsWith('unix:')) {
    const path = target.slice('unix:'.length).replace(/^\/\//, '');
    return { kind: 'unix', path, authority: 'localhost' };
  }
  const rest = target.replace(/^dns:(?:\/\/[^/]*\/)?/, '');
  const match = /^(?:\[([^\]]+)\]|([^:/]+))(?::(\d+))?$/.exec(rest);
  if (!match) throw new Error(`invalid target ${JSON.stringify(target)}: expected host:port, dns:///host:port or unix:/path`);
  const host = match[1] ?? match[2];
  const port = match[3] === undefined ? 443 : Number(match[3]);
  const authority = match[1] ? `[${host}]:${port}` : `${host}:${port}`;
  return { kind: 'tcp', host, port, authority };
}
