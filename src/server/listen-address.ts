export type ListenTarget = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** Parses "host:port", "[v6]:port", ":port" or "unix:/path". */
export function parseListenAddress(address: string): ListenTarget {
  if (address.startsWith('unix:')) return { kind: 'unix', path: address.slice('unix:'.length).replace(/^\/\//, '') };
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!match) throw new Error(`invalid listen address ${JSON.stringify(address)}: expected host:port or unix:/path`);
  const port = Number(match[3]);
  if (port > 65535) throw new Error(`invalid port in ${JSON.stringify(address)}`);
  return { kind: 'tcp', host: match[1] ?? (match[2] || '0.0.0.0'), port };
}
