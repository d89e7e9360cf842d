// Minimal gRPC length-prefixed framing for the bare node:http2 implementations
// (bench/servers/bare.ts, bench/clients/bare.ts). Kept deliberately lean: it is
// the ceiling the real libraries are compared against.
import type { Writable } from 'node:stream';

/** One framed message; small payloads are copied into a single buffer. */
export function frame(payload: Buffer): Buffer[] {
  const prefix = Buffer.allocUnsafe(5);
  prefix[0] = 0;
  prefix.writeUInt32BE(payload.length, 1);
  if (payload.length > 16384) return [prefix, payload];
  return [Buffer.concat([prefix, payload], 5 + payload.length)];
}

/**
 * Writes one framed message: a single pooled buffer for small payloads (one
 * allocation, one write), prefix + payload uncopied above 16 KiB.
 */
export function writeFramed(stream: Writable, payload: Buffer, end: boolean): void {
  if (payload.length <= 16384) {
    const b = Buffer.allocUnsafe(5 + payload.length);
    b[0] = 0;
    b.writeUInt32BE(payload.length, 1);
    payload.copy(b, 5);
    if (end) stream.end(b);
    else stream.write(b);
    return;
  }
  const [prefix] = frame(payload);
  stream.cork();
  stream.write(prefix);
  if (end) stream.end(payload);
  else stream.write(payload);
  stream.uncork();
}

/**
 * The single message of a unary side, from the first data chunk and any
 * later ones; undefined unless the bytes are exactly one whole message. In
 * the common case (one chunk) this is one bounds check and one view.
 */
export function oneMessage(first: Buffer | undefined, more: Buffer[] | undefined): Buffer | undefined {
  if (first === undefined) return undefined;
  const all = more === undefined ? first : Buffer.concat([first, ...more]);
  if (all.length < 5 || all[0] !== 0 || all.readUInt32BE(1) !== all.length - 5) return undefined;
  return all.subarray(5);
}

/**
 * Incremental splitter: whole frames inside a chunk are handed out as
 * zero-copy views; a partial frame is buffered and concatenated only once
 * enough bytes have arrived, so large frames cost one copy, not one per chunk.
 */
export class Splitter {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private need = 0;

  constructor(private readonly onMessage: (msg: Buffer) => void) {}

  push(chunk: Buffer): void {
    if (this.pendingLen > 0) {
      this.pending.push(chunk);
      this.pendingLen += chunk.length;
      if (this.pendingLen < this.need) return;
      chunk = Buffer.concat(this.pending, this.pendingLen);
      this.pending = [];
      this.pendingLen = 0;
    }
    let off = 0;
    while (chunk.length - off >= 5) {
      const len = chunk.readUInt32BE(off + 1);
      if (chunk.length - off - 5 < len) break;
      this.onMessage(chunk.subarray(off + 5, off + 5 + len));
      off += 5 + len;
    }
    if (off < chunk.length) {
      const rest = chunk.subarray(off);
      this.pending.push(rest);
      this.pendingLen = rest.length;
      this.need = rest.length >= 5 ? 5 + rest.readUInt32BE(1) : 5;
    }
  }
}

/**
 * Flow-control windows for the bare implementations. Node's default 64 KiB
 * stream window stalls 1 MiB messages and long streams on window updates; a
 * library on node:http2 can set the same, so the ceiling uses them.
 */
export const STREAM_WINDOW = 1 << 20;
export const CONNECTION_WINDOW = 16 << 20;
