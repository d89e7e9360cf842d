// A hand-made HTTP/2 client over a plain TCP socket, for inputs node:http2 cannot produce:
// RST_STREAM without END_STREAM first, reset floods, oversized header blocks, stalled frames.
// It answers SETTINGS and PING like a well-behaved peer and never decodes HPACK.
import net from 'node:net';

export const FrameType = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export interface Frame { type: number; flags: number; streamId: number; payload: Buffer }

export function encodeFrame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

/** HPACK integer with an n-bit prefix (RFC 7541 §5.1). */
function hpackInt(value: number, prefixBits: number, firstByte = 0): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [firstByte | value];
  const out = [firstByte | max];
  value -= max;
  while (value >= 128) {
    out.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

/** A header block of "literal without indexing, new name" fields: no table state, no Huffman. */
export function encodeHeaderBlock(headers: Array<[string, string]>): Buffer {
  const bytes: number[] = [];
  for (const [name, value] of headers) {
    bytes.push(0x00);
    for (const s of [name, value]) {
      const b = Buffer.from(s, 'latin1');
      bytes.push(...hpackInt(b.length, 7), ...b);
    }
  }
  return Buffer.from(bytes);
}

export function grpcRequestHeaders(path: string, extra: Array<[string, string]> = []): Array<[string, string]> {
  return [[':method', 'POST'], [':scheme', 'http'], [':path', path], [':authority', 'localhost'], ['content-type', 'application/grpc'], ['te', 'trailers'], ...extra];
}

export class RawH2Client {
  private buffer: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly listeners = new Set<(f: Frame) => void>();
  private readonly closeWaiters = new Set<() => void>();
  readonly received: Frame[] = [];
  readonly closed: Promise<void>;
  /** Set once the server sent GOAWAY. */
  goaway: { lastStreamId: number; code: number } | undefined;

  private constructor(readonly socket: net.Socket, private readonly keep: boolean, private readonly autoReply: boolean) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.once('close', () => {
      for (const w of [...this.closeWaiters]) w();
    });
  }

  /**
   * Connects and, unless `handshake` is false, sends the preface, SETTINGS with a large initial window, and a
   * large connection WINDOW_UPDATE. `keepFrames` stores every received frame in `received`. `autoReply`
   * (default: as `handshake`) acknowledges SETTINGS and PING; without it the client stays silent.
   */
  static connect(port: number, opts: { handshake?: boolean; keepFrames?: boolean; autoReply?: boolean } = {}): Promise<RawH2Client> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        const client = new RawH2Client(socket, opts.keepFrames ?? false, opts.autoReply ?? opts.handshake !== false);
        if (opts.handshake !== false) client.handshake();
        resolve(client);
      });
    });
  }

  handshake(): void {
    const settings = Buffer.alloc(6);
    settings.writeUInt16BE(0x4, 0); // SETTINGS_INITIAL_WINDOW_SIZE
    settings.writeUInt32BE(0x7fffffff, 2);
    const increment = Buffer.alloc(4);
    increment.writeUInt32BE(0x7fffffff - 65535);
    this.write(Buffer.concat([PREFACE, encodeFrame(FrameType.SETTINGS, 0, 0, settings), encodeFrame(FrameType.WINDOW_UPDATE, 0, 0, increment)]));
  }

  /** A fresh client-initiated stream id. */
  newStreamId(): number {
    const id = this.nextId;
    this.nextId += 2;
    return id;
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  headersFrame(streamId: number, headers: Array<[string, string]>, endStream = false): Buffer {
    return encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0), streamId, encodeHeaderBlock(headers));
  }

  dataFrame(streamId: number, payload: Buffer, endStream = false): Buffer {
    return encodeFrame(FrameType.DATA, endStream ? Flag.END_STREAM : 0, streamId, payload);
  }

  rstFrame(streamId: number, code: number): Buffer {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(code);
    return encodeFrame(FrameType.RST_STREAM, 0, streamId, p);
  }

  /** Calls `listener` for every frame from now on; returns a function that stops it. */
  onFrame(listener: (f: Frame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the first frame (from now on) that matches; rejects after timeoutMs or when the socket closes. */
  waitFor(match: (f: Frame) => boolean, timeoutMs = 10_000, what = 'a frame'): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const done = (err?: Error, frame?: Frame) => {
        clearTimeout(timer);
        stop();
        this.closeWaiters.delete(onClose);
        if (err) reject(err);
        else resolve(frame!);
      };
      const stop = this.onFrame((f) => match(f) && done(undefined, f));
      const onClose = () => done(new Error(`connection closed while waiting for ${what}`));
      const timer = setTimeout(() => done(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
      if (this.socket.destroyed) onClose();
      else this.closeWaiters.add(onClose);
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    while (this.buffer.length >= 9) {
      const length = this.buffer.readUIntBE(0, 3);
      if (this.buffer.length < 9 + length) break;
      const frame: Frame = {
        type: this.buffer[3],
        flags: this.buffer[4],
        streamId: this.buffer.readUInt32BE(5) & 0x7fffffff,
        payload: this.buffer.subarray(9, 9 + length),
      };
      this.buffer = this.buffer.subarray(9 + length);
      this.onFrameReceived(frame);
    }
  }

  private onFrameReceived(f: Frame): void {
    if (this.autoReply && f.type === FrameType.SETTINGS && !(f.flags & Flag.ACK)) this.write(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0));
    if (this.autoReply && f.type === FrameType.PING && !(f.flags & Flag.ACK)) this.write(encodeFrame(FrameType.PING, Flag.ACK, 0, f.payload));
    if (f.type === FrameType.GOAWAY) this.goaway = { lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4) };
    if (this.keep) this.received.push(f);
    for (const l of [...this.listeners]) l(f);
  }
}
