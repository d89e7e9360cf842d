// Micro-benchmark of tsgrpc's FrameDecoder/encodeFrame (src/wire/frame.ts)
// against a naive Buffer.concat-per-chunk decoder and the bare Splitter.
// Run as a child: `node micro-frame.js <secondsPerCase> <streamMiB>`; prints JSON.
import { FrameDecoder, encodeFrame } from '../src/index.js';
import { Splitter, frame } from './wire.js';

/** Re-concatenates everything buffered on every chunk: quadratic in frame size. */
export class NaiveDecoder {
  private buf = Buffer.alloc(0);
  constructor(private readonly onMessage: (m: Buffer) => void) {}
  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    let off = 0;
    while (this.buf.length - off >= 5) {
      const len = this.buf.readUInt32BE(off + 1);
      if (this.buf.length - off - 5 < len) break;
      this.onMessage(this.buf.subarray(off + 5, off + 5 + len));
      off += 5 + len;
    }
    this.buf = this.buf.subarray(off);
  }
}

export interface MicroRow {
  op: 'decode' | 'encode';
  impl: string;
  size: number;
  mbps: number;
  framesPerSec: number;
}

/** Deterministic PRNG so every run slices the stream the same way. */
function rng(seed: number): () => number {
  return () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** A stream of `size`-byte frames cut into random chunks of 1..16 KiB (HTTP/2's default max DATA frame). */
function chunkedStream(size: number, totalBytes: number): { chunks: Buffer[]; frames: number } {
  const frames = Math.max(1, Math.floor(totalBytes / (size + 5)));
  const one = Buffer.concat(frame(Buffer.alloc(size, 7)));
  const all = Buffer.concat(Array.from({ length: frames }, () => one));
  const rand = rng(size);
  const chunks: Buffer[] = [];
  for (let off = 0; off < all.length; ) {
    const n = 1 + Math.floor(rand() * 16384);
    chunks.push(all.subarray(off, off + n));
    off += n;
  }
  return { chunks, frames };
}

type Decoder = { push(c: Buffer): void };
const DECODERS: Record<string, (on: (m: Buffer) => void) => Decoder> = {
  'tsgrpc FrameDecoder': (on) => new FrameDecoder({ maxMessageSize: 1 << 30, onMessage: on }),
  'naive concat': (on) => new NaiveDecoder(on),
  'bare Splitter': (on) => new Splitter(on),
};

const ENCODERS: Record<string, (p: Buffer) => Buffer[]> = {
  'tsgrpc encodeFrame': (p) => encodeFrame(p),
  'naive concat': (p) => {
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(p.length, 1);
    return [Buffer.concat([prefix, p])];
  },
};

function timeLoop(seconds: number, pass: () => number): { perSec: number; units: number } {
  const start = performance.now();
  let units = 0;
  do units += pass();
  while (performance.now() - start < seconds * 1000);
  return { perSec: units / ((performance.now() - start) / 1000), units };
}

export function runMicro(seconds: number, streamBytes: number): MicroRow[] {
  const rows: MicroRow[] = [];
  for (const size of [100, 16384, 1 << 20]) {
    const { chunks, frames } = chunkedStream(size, Math.max(streamBytes, 2 * (size + 5)));
    for (const [impl, make] of Object.entries(DECODERS)) {
      let got = 0;
      const pass = () => {
        const d = make((m) => (got += m.length === size ? 1 : NaN));
        for (const c of chunks) d.push(c);
        return frames;
      };
      pass(); // correctness check
      if (got !== frames) throw new Error(`${impl} decoded ${got} of ${frames} frames`);
      timeLoop(seconds / 2, pass); // warm-up: let the JIT settle before timing
      const r = timeLoop(seconds, pass);
      rows.push({ op: 'decode', impl, size, framesPerSec: r.perSec, mbps: (r.perSec * (size + 5)) / 1e6 });
    }
    const payload = Buffer.alloc(size, 7);
    const batch = Math.max(1, Math.floor(streamBytes / (size + 5)));
    for (const [impl, enc] of Object.entries(ENCODERS)) {
      let sink = 0;
      const pass = () => {
        for (let i = 0; i < batch; i++) sink += enc(payload).length;
        return batch;
      };
      timeLoop(seconds / 2, pass); // warm-up
      const r = timeLoop(seconds, pass);
      if (sink === 0) throw new Error('encoder produced nothing');
      rows.push({ op: 'encode', impl, size, framesPerSec: r.perSec, mbps: (r.perSec * (size + 5)) / 1e6 });
    }
  }
  return rows;
}

if (process.argv[1]?.endsWith('micro-frame.js') && process.argv[2]) {
  const rows = runMicro(Number(process.argv[2]), Number(process.argv[3] ?? 16) * (1 << 20));
  process.stdout.write(JSON.stringify(rows));
}
