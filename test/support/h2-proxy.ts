import net from 'node:net';

/** What the proxy saw on one proxied plaintext HTTP/2 connection. */
export interface ProxiedConnection {
  openedAt: number;
  /** When the client sent each PING (not the ACKs). */
  clientPings: number[];
  /** When the server sent each PING (not the ACKs). */
  serverPings: number[];
  /** GOAWAY frames the server sent: error code and debug data (Node follows the first with a bare one as it closes). */
  serverGoaways: { code: number; debug: string }[];
  closed: boolean;
}

const PREFACE_LENGTH = 24;
const FRAME_GOAWAY = 0x7;
const FRAME_PING = 0x6;
const FLAG_ACK = 0x1;

/**
 * Reads HTTP/2 frame headers out of one direction of a connection and reports
 * PING and GOAWAY frames. Plaintext only; payloads are passed through untouched.
 */
class FrameSniffer {
  private buffer = Buffer.alloc(0);
  private skip: number;

  constructor(hasPreface: boolean, private readonly onFrame: (type: number, flags: number, payload: Buffer) => void) {
    this.skip = hasPreface ? PREFACE_LENGTH : 0;
  }

  push(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (this.skip > 0) {
      const n = Math.min(this.skip, this.buffer.length);
      this.buffer = this.buffer.subarray(n);
      this.skip -= n;
    }
    while (this.buffer.length >= 9) {
      const length = this.buffer.readUIntBE(0, 3);
      if (this.buffer.length < 9 + length) return;
      this.onFrame(this.buffer[3], this.buffer[4], this.buffer.subarray(9, 9 + length));
      this.buffer = this.buffer.subarray(9 + length);
    }
  }
}

/**
 * A TCP proxy in front of a plaintext gRPC server that records the PING and
 * GOAWAY frames passing through, and can freeze: stop forwarding in both
 * directions while keeping the sockets open, as a hung or unplugged peer does.
 */
export class H2Proxy {
  readonly connections: ProxiedConnection[] = [];
  private readonly sockets = new Set<net.Socket>();
  private frozen = false;
  private readonly server: net.Server;
  port = 0;

  private constructor(private readonly targetPort: number) {
    this.server = net.createServer((client) => this.accept(client));
  }

  static async start(targetPort: number): Promise<H2Proxy> {
    const proxy = new H2Proxy(targetPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.server.address() as net.AddressInfo).port;
    return proxy;
  }

  /** From now on nothing is forwarded either way, and new connections hang after TCP accept. */
  freeze(): void {
    this.frozen = true;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }

  private accept(client: net.Socket): void {
    const record: ProxiedConnection = { openedAt: Date.now(), clientPings: [], serverPings: [], serverGoaways: [], closed: false };
    this.connections.push(record);
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        this.sockets.delete(s);
        record.closed = true;
        client.destroy();
        upstream.destroy();
      });
    }
    const fromClient = new FrameSniffer(true, (type, flags) => {
      if (type === FRAME_PING && !(flags & FLAG_ACK)) record.clientPings.push(Date.now());
    });
    const fromServer = new FrameSniffer(false, (type, flags, payload) => {
      if (type === FRAME_PING && !(flags & FLAG_ACK)) record.serverPings.push(Date.now());
      if (type === FRAME_GOAWAY) record.serverGoaways.push({ code: payload.readUInt32BE(4), debug: payload.subarray(8).toString() });
    });
    // Frames are recorded as sent, even when the freeze keeps them from arriving.
    client.on('data', (chunk: Buffer) => {
      fromClient.push(chunk);
      if (!this.frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      fromServer.push(chunk);
      if (!this.frozen) client.write(chunk);
    });
  }
}
