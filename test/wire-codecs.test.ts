import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GrpcError, Metadata, Status, decodeStatusDetails, encodeStatusDetails, encodeTimeout, parseTimeout, percentDecode, percentEncode,
} from '../src/index.js';
import { compressorFor, peerAccepts } from '../src/wire/compression.js';
import { parseStatusCode, statusFromHttp } from '../src/wire/status.js';

describe('grpc-timeout', () => {
  it('parses every unit', () => {
    expect(parseTimeout('2H')).toBe(7_200_000);
    expect(parseTimeout('3M')).toBe(180_000);
    expect(parseTimeout('4S')).toBe(4000);
    expect(parseTimeout('5m')).toBe(5);
    expect(parseTimeout('6000u')).toBe(6);
    expect(parseTimeout('7000000n')).toBe(7);
    expect(parseTimeout('99999999n')).toBeCloseTo(99.999999, 6);
  });

  it.each(['', 'S', '1', '1s', '123456789S', '-1S', '1.5S', ' 1S', '1 S', '1SS'])('rejects malformed value %j with a clear message', (v) => {
    expect(() => parseTimeout(v)).toThrow(/malformed grpc-timeout .*expected 1 to 8 digits followed by one of H M S m u n/);
  });

  it('encodes with the coarsest exact unit', () => {
    expect(encodeTimeout(3_600_000)).toBe('1H');
    expect(encodeTimeout(120_000)).toBe('2M');
    expect(encodeTimeout(1000)).toBe('1S');
    expect(encodeTimeout(1500)).toBe('1500m');
    expect(encodeTimeout(1.5)).toBe('1500u');
    expect(encodeTimeout(0)).toBe('0H');
    // 1e8 s needs 9 digits; no unit is exact within 8, so round up in the finest unit that fits.
    expect(encodeTimeout(100_000_000_000)).toBe('1666667M');
  });

  it('round-trips: never shorter, and within the precision of the unit used', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e12, noNaN: true }), (ms) => {
        const wire = encodeTimeout(ms);
        expect(wire).toMatch(/^\d{1,8}[HMSmun]$/);
        const back = parseTimeout(wire);
        expect(back).toBeGreaterThanOrEqual(ms - 1e-6);
        // 8 digits keep at least 5 significant ones after a unit change: relative error below 1e-5.
        expect(back - ms).toBeLessThanOrEqual(Math.max(ms * 1e-5, 1e-6));
      }),
      { numRuns: 500 },
    );
  });
});

describe('grpc-message percent-encoding', () => {
  it('encodes non-printable and non-ASCII bytes and %', () => {
    expect(percentEncode('plain text')).toBe('plain text');
    expect(percentEncode('50% ✓\n')).toBe('50%25 %E2%9C%93%0A');
  });

  it('leaves malformed escapes as written', () => {
    expect(percentDecode('%zz %4 %')).toBe('%zz %4 %');
    expect(percentDecode('a%20b')).toBe('a b');
  });

  it('round-trips any unicode string through printable ASCII', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        const wire = percentEncode(s);
        expect(wire).toMatch(/^[\x20-\x7e]*$/);
        expect(percentDecode(wire)).toBe(s);
      }),
      { numRuns: 500 },
    );
  });
});

describe('metadata', () => {
  it('is case-insensitive and keeps several values in order', () => {
    const md = new Metadata();
    md.add('X-Trace', 'a').add('x-trace', 'b');
    expect(md.getAll('X-TRACE')).toEqual(['a', 'b']);
    md.set('x-trace', 'c');
    expect(md.getAll('x-trace')).toEqual(['c']);
  });

  it('validates keys and values with messages that say what is wrong', () => {
    const md = new Metadata();
    expect(() => md.set('bad key', 'v')).toThrow(/invalid metadata key "bad key"/);
    expect(() => md.set('blob-bin', 'text')).toThrow(/ends in -bin, so its value must be a Buffer/);
    expect(() => md.set('name', Buffer.from('x'))).toThrow(/needs a string value/);
    expect(() => md.set('name', 'line\nbreak')).toThrow(/printable ASCII/);
  });

  it('reads -bin values padded, unpadded and comma-joined, and hides reserved headers', () => {
    const md = Metadata.fromHeaders({
      ':path': '/a/b', 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '1S', 'grpc-encoding': 'gzip',
      'x-a-bin': 'AQI', 'x-b-bin': 'AQI=,AwQ', 'x-plain': ['one', 'two'], 'user-agent': 'ua',
    });
    expect([...md.keys()].sort()).toEqual(['user-agent', 'x-a-bin', 'x-b-bin', 'x-plain']);
    expect(md.get('x-a-bin')).toEqual(Buffer.from([1, 2]));
    expect(md.getAll('x-b-bin')).toEqual([Buffer.from([1, 2]), Buffer.from([3, 4])]);
    expect(md.getAll('x-plain')).toEqual(['one', 'two']);
  });

  it('round-trips through HTTP/2 headers', () => {
    const key = fc.stringMatching(/^[a-z0-9_.-]{1,12}$/).filter((k) => !k.startsWith('grpc-') && !['te', 'content-type', 'content-length', 'connection', 'host', 'transfer-encoding', 'keep-alive', 'upgrade'].includes(k));
    const entry = fc.oneof(
      fc.tuple(key.map((k) => `${k}-bin`), fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b) as Buffer | string)),
      fc.tuple(key.filter((k) => !k.endsWith('-bin')), fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,20}[\x21-\x7e])?$/).map((s) => s as Buffer | string)),
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 10 }), (entries) => {
        const md = new Metadata();
        for (const [k, v] of entries) md.add(k, v);
        const headers: Record<string, string | string[] | number> = {};
        md.writeTo(headers);
        expect(Metadata.fromHeaders(headers).toJSON()).toEqual(md.toJSON());
      }),
      { numRuns: 300 },
    );
  });
});

describe('status codes', () => {
  it('maps HTTP statuses per the spec', () => {
    expect(statusFromHttp(400)).toBe(Status.INTERNAL);
    expect(statusFromHttp(401)).toBe(Status.UNAUTHENTICATED);
    expect(statusFromHttp(403)).toBe(Status.PERMISSION_DENIED);
    expect(statusFromHttp(404)).toBe(Status.UNIMPLEMENTED);
    for (const s of [429, 502, 503, 504]) expect(statusFromHttp(s)).toBe(Status.UNAVAILABLE);
    expect(statusFromHttp(500)).toBe(Status.UNKNOWN);
  });

  it('treats out-of-range grpc-status values as UNKNOWN', () => {
    expect(parseStatusCode('5')).toBe(Status.NOT_FOUND);
    expect(parseStatusCode('17')).toBe(Status.UNKNOWN);
    expect(parseStatusCode('abc')).toBe(Status.UNKNOWN);
    expect(parseStatusCode(undefined)).toBeUndefined();
  });

  it('round-trips google.rpc.Status details', () => {
    const rich = { code: 3, message: 'bad ✓', details: [{ typeUrl: 'type.googleapis.com/x.Y', value: Buffer.from([1, 2, 3]) }] };
    expect(decodeStatusDetails(encodeStatusDetails(rich))).toEqual(rich);
    const err = new GrpcError(Status.INVALID_ARGUMENT, 'bad', undefined, encodeStatusDetails(rich));
    expect(err.richStatus).toEqual(rich);
    expect(err.message).toBe('INVALID_ARGUMENT (3): bad');
  });
});

describe('compression codecs', () => {
  it.each(['gzip', 'deflate'])('%s round-trips', (name) => {
    const codec = compressorFor(name)!;
    const data = Buffer.from('abc'.repeat(1000));
    const packed = codec.compress(data);
    expect(packed.length).toBeLessThan(data.length);
    expect(codec.decompress(packed, 1 << 20).equals(data)).toBe(true);
  });

  it('caps the decompressed size (a zip bomb gives RESOURCE_EXHAUSTED)', () => {
    const codec = compressorFor('gzip')!;
    const bomb = codec.compress(Buffer.alloc(10 << 20));
    expect(() => codec.decompress(bomb, 1 << 20)).toThrow(expect.objectContaining({ code: Status.RESOURCE_EXHAUSTED }));
  });

  it('rejects corrupt input with INTERNAL and unknown encodings with UNIMPLEMENTED', () => {
    expect(() => compressorFor('gzip')!.decompress(Buffer.from('not gzip'), 100)).toThrow(expect.objectContaining({ code: Status.INTERNAL }));
    expect(() => compressorFor('snappy')).toThrow(expect.objectContaining({ code: Status.UNIMPLEMENTED }));
    expect(compressorFor('identity')).toBeUndefined();
    expect(peerAccepts('identity, gzip', 'gzip')).toBe(true);
    expect(peerAccepts('identity', 'gzip')).toBe(false);
  });
});
