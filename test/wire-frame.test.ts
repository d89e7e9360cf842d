import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, GrpcError, Status, encodeFrame, framePrefix } from '../src/index.js';
import { wholeFrame } from '../src/wire/frame.js';

function decodeAll(chunks: Buffer[], max = 1 << 24): { payload: Buffer; compressed: boolean }[] {
  const out: { payload: Buffer; compressed: boolean }[] = [];
  const decoder = new FrameDecoder({
    maxMessageSize: max,
    compressionAllowed: true,
    onMessage: (payload, compressed) => out.push({ payload: Buffer.from(payload), compressed }),
  });
  for (const c of chunks) decoder.push(c);
  decoder.finish();
  return out;
}

function splitAt(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    chunks.push(data.subarray(last, p));
    last = p;
  }
  chunks.push(data.subarray(last));
  return chunks;
}

function thrownBy(fn: () => void): GrpcError {
  try {
    fn();
  } catch (err) {
    return err as GrpcError;
  }
  throw new Error('expected a throw');
}

describe('frame codec', () => {
  it('decodes any sequence of messages split at any chunk boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ payload: fc.uint8Array({ maxLength: 300 }), compressed: fc.boolean() }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (messages, cuts) => {
          const wire = Buffer.concat(messages.flatMap((m) => encodeFrame(m.payload, m.compressed)));
          const decoded = decodeAll(splitAt(wire, cuts));
          expect(decoded.map((d) => d.compressed)).toEqual(messages.map((m) => m.compressed));
          expect(decoded.map((d) => [...d.payload])).toEqual(messages.map((m) => [...m.payload]));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes byte-at-a-time delivery of large messages', () => {
    const big = Buffer.alloc(70_000, 7);
    const wire = Buffer.concat([...encodeFrame(big), ...encodeFrame(Buffer.from('x'))]);
    const chunks = [...wire].map((b) => Buffer.of(b));
    const decoded = decodeAll(chunks);
    expect(decoded).toHaveLength(2);
    expect(decoded[0].payload.equals(big)).toBe(true);
    expect(decoded[1].payload.toString()).toBe('x');
  });

  it('hands out a message inside one chunk as a view of that chunk, not a copy', () => {
    const chunk = Buffer.concat([...encodeFrame(Buffer.from('hello')), ...encodeFrame(Buffer.from('world'))]);
    const views: Buffer[] = [];
    const decoder = new FrameDecoder({ maxMessageSize: 100, onMessage: (p) => views.push(p) });
    decoder.push(chunk);
    expect(views.map((v) => v.toString())).toEqual(['hello', 'world']);
    for (const v of views) expect(v.buffer).toBe(chunk.buffer);
    expect(views[0].byteOffset).toBe(chunk.byteOffset + 5);
  });

  it('gathers a split message into one buffer of exactly its size', () => {
    const wire = Buffer.concat(encodeFrame(Buffer.alloc(1000, 1)));
    const views: Buffer[] = [];
    const decoder = new FrameDecoder({ maxMessageSize: 2000, onMessage: (p) => views.push(p) });
    decoder.push(wire.subarray(0, 300));
    decoder.push(wire.subarray(300, 700));
    decoder.push(wire.subarray(700));
    expect(views).toHaveLength(1);
    expect(views[0].length).toBe(1000);
    wire.fill(9); // the gathered message owns its bytes: changing the chunks leaves it intact
    expect(views[0].equals(Buffer.alloc(1000, 1))).toBe(true);
  });

  it('decodes an empty message', () => {
    expect(decodeAll([Buffer.concat(encodeFrame(Buffer.alloc(0)))])).toEqual([{ payload: Buffer.alloc(0), compressed: false }]);
  });

  it('refuses an oversized frame from its header alone, before buffering the body', () => {
    const decoder = new FrameDecoder({ maxMessageSize: 1024, onMessage: () => {} });
    const err = thrownBy(() => decoder.push(framePrefix(4 * 1024 * 1024)));
    expect(err).toBeInstanceOf(GrpcError);
    expect(err.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(err.details).toBe('received message larger than max (4194304 vs. 1024)');
  });

  it('rejects a compressed flag when no encoding was negotiated, and unknown flag values', () => {
    const decoder = new FrameDecoder({ maxMessageSize: 1024, onMessage: () => {} });
    const err = thrownBy(() => decoder.push(Buffer.concat(encodeFrame(Buffer.from('z'), true))));
    expect(err.code).toBe(Status.INTERNAL);
    expect(err.details).toMatch(/compressed message.*no grpc-encoding/);
    const bad = Buffer.concat(encodeFrame(Buffer.from('z')));
    bad[0] = 2;
    const err2 = thrownBy(() => new FrameDecoder({ maxMessageSize: 10, onMessage: () => {} }).push(bad));
    expect(err2.code).toBe(Status.INTERNAL);
    expect(err2.details).toMatch(/compressed flag is 2/);
  });

  it('reports a stream that ends inside a frame as truncated', () => {
    const decoder = new FrameDecoder({ maxMessageSize: 1024, onMessage: () => {} });
    decoder.push(Buffer.concat(encodeFrame(Buffer.alloc(100))).subarray(0, 50));
    expect(decoder.hasPartialFrame).toBe(true);
    const err = thrownBy(() => decoder.finish());
    expect(err.code).toBe(Status.INTERNAL);
    expect(err.details).toBe('stream ended inside a message: received 45 of 100 payload bytes');
    const headerOnly = new FrameDecoder({ maxMessageSize: 1024, onMessage: () => {} });
    headerOnly.push(Buffer.from([0, 0]));
    expect(thrownBy(() => headerOnly.finish()).details).toMatch(/received 2 of 5 header bytes/);
  });

  it('encodes small payloads into one buffer and large ones without copying', () => {
    const small = encodeFrame(Buffer.from('abc'));
    expect(small).toHaveLength(1);
    expect([...small[0]]).toEqual([0, 0, 0, 0, 3, 97, 98, 99]);
    const payload = Buffer.alloc(1 << 20);
    const large = encodeFrame(payload, true);
    expect(large).toHaveLength(2);
    expect(large[1]).toBe(payload);
    expect([...large[0]]).toEqual([1, 0, 16, 0, 0]);
  });
});

describe('wholeFrame: the reader-less path for a chunk that is one message', () => {
  it('agrees with FrameDecoder: the payload exactly when the chunk is one whole uncompressed frame within the limit', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), fc.integer({ min: -6, max: 6 }), fc.integer({ min: 0, max: 400 }), (payload, compressed, trim, max) => {
        const frame = Buffer.concat(encodeFrame(payload, compressed));
        const chunk = trim >= 0 ? frame.subarray(0, Math.max(0, frame.length - trim)) : Buffer.concat([frame, Buffer.alloc(-trim)]);
        const whole = wholeFrame(chunk, max);
        if (!compressed && trim === 0 && payload.length <= max) expect(whole && Buffer.from(whole)).toEqual(Buffer.from(payload));
        else expect(whole).toBeUndefined();
      }),
    );
  });

  it('leaves two frames in one chunk to the decoder', () => {
    const two = Buffer.concat([...encodeFrame(Buffer.from('a')), ...encodeFrame(Buffer.from('b'))]);
    expect(wholeFrame(two, 100)).toBeUndefined();
  });
});
