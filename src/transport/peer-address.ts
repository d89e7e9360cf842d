import type { Socket } from 'node:net';

/** The address of a connection's other end, "ip:port" ("[v6]:port" for IPv6), or "unknown" once the socket is gone. */
export function peerAddress(socket: Socket | undefined): string {
  const address = readSocket(socket, (s) => s.remoteAddress);
  if (address === undefined) return 'unknown';
  return address.includes(':') ? `[${address}]:${socket!.remotePort}` : `${address}:${socket!.remotePort}`;
}

/** node:http2 hands out a proxy of the session's socket that throws once the session is gone. */
export function readSocket<T>(socket: Socket | undefined, read: (s: Socket) => T): T | undefined {
  try {
    return socket ? read(socket) : undefined;
  } catch {
    return undefined;
  }
}
