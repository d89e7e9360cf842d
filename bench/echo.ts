// Shared definition of the bench.Echo service (see echo.proto). Messages are
// raw bytes on every implementation, so the benchmark measures transport and
// framing, not protobuf.

export const SERVICE = 'bench.Echo';
export const PATHS = {
  unary: '/bench.Echo/Unary',
  serverStream: '/bench.Echo/ServerStream',
  clientStream: '/bench.Echo/ClientStream',
  bidi: '/bench.Echo/Bidi',
} as const;

/** Payload of `size` bytes whose first 4 bytes carry `count` (ServerStream's N). */
export function makePayload(size: number, count = 0): Buffer {
  const b = Buffer.alloc(Math.max(size, 4), 0x61);
  b.writeUInt32BE(count, 0);
  return size < 4 ? b.subarray(0, size) : b;
}

/** How many responses a ServerStream request asks for. */
export function streamCount(req: Uint8Array): number {
  if (req.length < 4) return 1;
  return ((req[0] << 24) | (req[1] << 16) | (req[2] << 8) | req[3]) >>> 0;
}

/** ClientStream's reply: the message count as 4 big-endian bytes. */
export function countReply(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/** The common client interface every implementation is driven through. */
export interface EchoClient {
  unary(payload: Buffer): Promise<Buffer>;
  /** Resolves with the number of messages received. */
  serverStream(req: Buffer): Promise<number>;
  /** Sends `count` copies of `msg`; resolves with the server's count reply. */
  clientStream(msg: Buffer, count: number): Promise<number>;
  /**
   * One bidi stream, ping-pong: send `msg`, wait for its echo, repeat while
   * `next(rttMs)` returns true. Resolves with the number of round trips.
   */
  pingPong(msg: Buffer, next: (rttMs: number) => boolean): Promise<number>;
  /**
   * Callback form of unary, for clients whose native API has one (bare
   * node:http2, grpc-js): the load loop then makes no promise per call.
   */
  unaryCb?(payload: Buffer, cb: (err: Error | null, res?: Buffer) => void): void;
  /** The protobuf scenario (bench/proto/orders.proto): one Orders.Echo call through the library's codec. */
  order?(msg: object): Promise<object>;
  close(): void;
}

export interface EchoServer {
  port: number;
  close(): Promise<void>;
}

export const SERVER_IMPLS = ['bare', 'grpc-js', 'tsgrpc', 'go'] as const;
export const CLIENT_IMPLS = ['bare', 'grpc-js', 'tsgrpc'] as const;
export type ServerImpl = (typeof SERVER_IMPLS)[number];
export type ClientImpl = (typeof CLIENT_IMPLS)[number];
