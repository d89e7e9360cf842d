// Message conversion: proto-loader's options, the defaults, strict encoding that
// names the bad field, and the sources loadProto accepts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Channel, GrpcError, Server, Status, createClient, loadProto, loadProtoSync, messageCodec, type LoadOptions,
} from '../src/index.js';

const fixtures = fileURLToPath(new URL('./fixtures/messages', import.meta.url));
const load = (options: LoadOptions = {}) => loadProtoSync(['sink.proto', 'legacy.proto', 'editions.proto'], { includeDirs: [fixtures], ...options });

/** Every value in a decoded object, recursively, so a test can say "no Long anywhere". */
function* leaves(value: unknown): Generator<unknown> {
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    if ('low' in value && 'high' in value) yield value; // a Long-like is itself a leaf
    else for (const v of Object.values(value)) yield* leaves(v);
  } else yield value;
}

const U64_MAX = '18446744073709551615';
const I64_MIN = '-9223372036854775808';

describe('decoding with the default options', () => {
  const sink = load().codec('sink.Sink');
  const decoded = sink.deserialize(sink.serialize({
    scalars: { fInt64: I64_MIN, fUint64: U64_MAX, fSfixed64: -5, color: 'ULTRA_VIOLET', fBytes: Buffer.from('hi') },
    mInt64: { '42': 'a', [I64_MIN]: 'min' },
    mUint64: { [U64_MAX]: Buffer.from([1]) },
    mBool: { true: 'GREEN' },
    mSfixed64: { '-1': '7' },
    cString: 'chosen',
    detail: { typeUrl: 'type.googleapis.com/sink.Scalars', value: Buffer.from([0x18, 0x01]) },
    createdAt: { seconds: '1700000000', nanos: 5 },
  }));

  it('gives lowerCamelCase keys, 64-bit integers as decimal strings, enum names and Buffers', () => {
    expect(decoded.scalars).toMatchObject({ fInt64: I64_MIN, fUint64: U64_MAX, fSfixed64: '-5', color: 'ULTRA_VIOLET' });
    expect(Buffer.isBuffer(decoded.scalars.fBytes)).toBe(true);
    expect(decoded.scalars.fBytes.toString()).toBe('hi');
    expect(decoded.createdAt).toEqual({ seconds: '1700000000', nanos: 5 });
  });

  it('keys 64-bit maps by the decimal form of the key, not a hash', () => {
    expect(decoded.mInt64).toEqual({ '42': 'a', [I64_MIN]: 'min' });
    expect(Object.keys(decoded.mUint64)).toEqual([U64_MAX]);
    expect(decoded.mSfixed64).toEqual({ '-1': '7' });
    expect(decoded.mBool).toEqual({ true: 'GREEN' });
  });

  it('fills in defaults, names the set oneof member, and leaves unset optionals out', () => {
    expect(decoded.rInt64).toEqual([]);
    expect(decoded.mString).toEqual({});
    expect(decoded.nested).toBeNull();
    expect(decoded.scalars.fString).toBe('');
    expect(decoded.scalars.fUint64).toBe(U64_MAX);
    expect(decoded.choice).toBe('cString');
    expect(decoded.cInt64).toBeUndefined();
    expect('optInt32' in decoded).toBe(false);
  });

  it('spells Any with the same casing as everything else', () => {
    expect(decoded.detail).toEqual({ typeUrl: 'type.googleapis.com/sink.Scalars', value: Buffer.from([0x18, 0x01]) });
  });

  it('contains no Long anywhere', () => {
    for (const leaf of leaves(decoded)) expect(typeof leaf === 'object' && leaf !== null && 'low' in leaf).toBe(false);
  });

  it('keeps proto2 defaults and reads closed enums by name', () => {
    const legacy = load().codec('legacy.Legacy');
    expect(legacy.deserialize(legacy.serialize({ id: 'x' }))).toMatchObject({ id: 'x', count: 7, mood: 'SAD', label: 'none', big: '0' });
  });
});

describe('each option changes the decoded form as in proto-loader', () => {
  const value = {
    scalars: { fInt64: '9007199254740993', fBytes: Buffer.from([1, 2, 3]), color: 'GREEN', fDouble: NaN },
    cInt64: '-2',
    detail: { '@type': 'type.googleapis.com/sink.Sink.Nested', note: 'inside' },
  };
  const decode = (options: LoadOptions) => {
    const codec = load(options).codec('sink.Sink');
    return codec.deserialize(codec.serialize(options.keepCase ? snakeKeys(value) : value));
  };

  it('longs: Number and BigInt', () => {
    expect(decode({ longs: Number }).scalars.fInt64).toBe(9007199254740992); // proto-loader's precision loss, by request
    expect(decode({ longs: BigInt }).scalars.fInt64).toBe(9007199254740993n);
    expect(decode({ longs: BigInt }).cInt64).toBe(-2n);
  });

  it('enums: Number', () => {
    expect(decode({ enums: Number }).scalars.color).toBe(2);
  });

  it('bytes: String (base64) and Array', () => {
    expect(decode({ bytes: String }).scalars.fBytes).toBe('AQID');
    expect(decode({ bytes: Array }).scalars.fBytes).toEqual([1, 2, 3]);
  });

  it('defaults: false leaves unset fields out; arrays and objects bring back [] and {}', () => {
    const sparse = decode({ defaults: false });
    expect(sparse.scalars.fString).toBeUndefined();
    expect(sparse.rInt64).toBeUndefined();
    expect(sparse.nested).toBeUndefined();
    const withLists = decode({ defaults: false, arrays: true, objects: true });
    expect(withLists.rInt64).toEqual([]);
    expect(withLists.mString).toEqual({});
    expect(withLists.scalars.fString).toBeUndefined();
  });

  it('oneofs: false drops the virtual oneof property', () => {
    expect(decode({ oneofs: false }).choice).toBeUndefined();
    expect(decode({}).choice).toBe('cInt64');
  });

  it('json: NaN as a string and Any expanded with @type', () => {
    const json = decode({ json: true });
    expect(json.scalars.fDouble).toBe('NaN');
    expect(json.detail).toMatchObject({ '@type': 'type.googleapis.com/sink.Sink.Nested', note: 'inside' });
    expect(Number.isNaN(decode({}).scalars.fDouble)).toBe(true);
  });

  it('keepCase: field names as in the .proto file, built-in types included', () => {
    const kept = decode({ keepCase: true });
    expect(kept.scalars.f_int64).toBe('9007199254740993');
    expect(kept.c_int64).toBe('-2');
    expect(kept.choice).toBe('c_int64');
    const sink = load({ keepCase: true }).codec('sink.Sink');
    const back = sink.deserialize(sink.serialize({ detail: { type_url: 'x/y' }, meta: { fields: { k: { string_value: 'v' } } } }));
    expect(back.detail.type_url).toBe('x/y');
    expect(back.meta.fields.k).toEqual({ string_value: 'v', kind: 'string_value' });
  });

  it('rejects options it would otherwise ignore', () => {
    expect(() => load({ longs: Object as never })).toThrow('option longs must be one of String, Number, BigInt');
    expect(() => load({ keepcase: true } as never)).toThrow('unknown option keepcase');
    expect(() => load({ defaults: 'yes' as never })).toThrow('option defaults must be true or false');
  });
});

function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value) || value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeKeys(v)]));
}

describe('encoding accepts every form a decoded object can take', () => {
  const sink = load().codec('sink.Sink');
  const roundTrip = (value: object) => sink.deserialize(sink.serialize(value));

  it('64-bit integers as numbers, decimal strings, bigints and Longs', () => {
    for (const fInt64 of [-7, '-7', -7n, (protobuf.util.Long as any).fromNumber(-7)]) {
      expect(roundTrip({ scalars: { fInt64 } }).scalars.fInt64).toBe('-7');
    }
    expect(roundTrip({ scalars: { fUint64: 2 ** 60 } }).scalars.fUint64).toBe(String(2n ** 60n));
  });

  it('enums by name or number, bytes as Buffer, base64 or octets, doubles as "NaN"/"Infinity"', () => {
    expect(roundTrip({ rColor: ['RED', 2, -3] }).rColor).toEqual(['RED', 'GREEN', 'ULTRA_VIOLET']);
    expect(roundTrip({ rColor: [7] }).rColor).toEqual([7]); // an open enum keeps a value it does not know
    expect(roundTrip({ rBytes: [Buffer.from('a'), 'Yg==', [99]] }).rBytes.map(String)).toEqual(['a', 'b', 'c']);
    expect(roundTrip({ rDouble: ['Infinity', '-Infinity', 1.5] }).rDouble).toEqual([Infinity, -Infinity, 1.5]);
  });

  it('re-encodes a decoded object unchanged, whatever the options', () => {
    for (const options of [{}, { json: true }, { longs: BigInt, bytes: String }, { enums: Number, defaults: false }] as LoadOptions[]) {
      const codec = load(options).codec('sink.Sink');
      const once = codec.deserialize(codec.serialize({
        scalars: { fInt64: '12', fBytes: Buffer.from('x'), color: 'RED', fFloat: 0.5 }, cNested: { note: 'n', counts: ['1'] },
        optInt32: 0, mInt64: { '-3': 'x' }, detail: { '@type': 'type.googleapis.com/sink.Scalars', fString: 's' },
        meta: { fields: { k: { numberValue: 1 } } },
      }));
      expect(codec.deserialize(codec.serialize(once))).toEqual(once);
    }
  });

  it('takes a Date for a Timestamp', () => {
    expect(roundTrip({ createdAt: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)) }).createdAt).toEqual({ seconds: '1704164645', nanos: 678_000_000 });
    expect(roundTrip({ createdAt: new Date(-1) }).createdAt).toEqual({ seconds: '-1', nanos: 999_000_000 });
  });

  it('keeps Any\'s conversion when protobufjs regenerates the type\'s code', () => {
    const pkg = load({ json: true });
    const codec = pkg.codec('sink.Sink');
    pkg.root.lookupType('google.protobuf.Any').setup(); // what protobufjs does after any change to the type
    const back = codec.deserialize(codec.serialize({ detail: { '@type': 'type.googleapis.com/sink.Scalars', fInt32: 4 } }));
    expect(back.detail).toMatchObject({ '@type': 'type.googleapis.com/sink.Scalars', fInt32: 4 });
  });

  it('takes Any as { typeUrl, value }, as proto-loader\'s { type_url, value }, or as JSON with @type', () => {
    const scalars = load().codec('sink.Scalars');
    const packed = { typeUrl: 'type.googleapis.com/sink.Scalars', value: Buffer.from(scalars.serialize({ fString: 's' })) };
    expect(roundTrip({ detail: packed }).detail).toEqual(packed);
    expect(roundTrip({ detail: { type_url: packed.typeUrl, value: packed.value } }).detail).toEqual(packed);
    expect(roundTrip({ detail: { '@type': packed.typeUrl, fString: 's' } }).detail).toEqual(packed);
  });
});

describe('a value that cannot be encoded fails with the field named', () => {
  const pkg = load();
  const cases: [string, object, string][] = [
    ['sink.Sink', { scalars: { fString: 42 } }, 'field scalars.fString: expected a string of well-formed UTF-16 (no lone surrogates), got number 42'],
    ['sink.Sink', { rString: ['a', 7] }, 'field rString[1]: expected a string of well-formed UTF-16 (no lone surrogates), got number 7'],
    ['sink.Sink', { rString: ['\ud800'] }, 'field rString[0]: expected a string of well-formed UTF-16'],
    ['sink.Sink', { scalars: { color: 'PURPLE' } }, 'field scalars.color: "PURPLE" is not a value of enum sink.Color'],
    ['sink.Sink', { scalars: { fInt32: 2 ** 31 } }, 'field scalars.fInt32: expected an integer in -2147483648..2147483647'],
    ['sink.Sink', { scalars: { fUint32: 1.5 } }, 'field scalars.fUint32: expected an integer in 0..4294967295'],
    ['sink.Sink', { scalars: { fInt64: '12abc' } }, 'field scalars.fInt64: expected an integer'],
    ['sink.Sink', { scalars: { fUint64: -1n } }, 'field scalars.fUint64: expected an integer in 0..18446744073709551615'],
    ['sink.Sink', { scalars: { fInt64: 2n ** 63n } }, 'field scalars.fInt64: expected an integer in -9223372036854775808..9223372036854775807'],
    ['sink.Sink', { scalars: { fBool: 'true' } }, 'field scalars.fBool: expected a boolean'],
    ['sink.Sink', { scalars: { fBytes: 'not base64!' } }, 'field scalars.fBytes: expected bytes'],
    ['sink.Sink', { scalars: { fFloat: 1e39 } }, 'field scalars.fFloat: expected a number within float range'],
    ['sink.Sink', { scalars: { fDouble: '1.5' } }, 'field scalars.fDouble: expected a number, got the string "1.5"'],
    ['sink.Sink', { mInt32: { abc: 1 } }, 'field mInt32["abc"]: a map key of type int32 must be an integer'],
    ['sink.Sink', { mInt64: { '1e3': 'x' } }, 'field mInt64["1e3"]: a map key of type int64'],
    ['sink.Sink', { mBool: { yes: 'RED' } }, 'field mBool["yes"]: a bool map key must be "true" or "false"'],
    ['sink.Sink', { mMessage: { k: { note: 1 } } }, 'field mMessage["k"].note: expected a string of well-formed'],
    ['sink.Sink', { mString: new Map([['a', 'b']]) }, 'field mString: expected a plain object of entries, got a Map'],
    ['sink.Sink', { nested: { inner: { inner: { counts: [1, null] } } } }, 'field nested.inner.inner.counts[1]: a repeated field cannot hold null'],
    ['sink.Sink', { many: 'x' }, 'field many: expected an array, got the string "x"'],
    ['sink.Sink', { nested: [] }, 'field nested: expected an object, got an array'],
    ['sink.Sink', { nested: new Date(0) }, 'field nested: expected an object, got a Date'],
    ['sink.Sink', { mMessage: { k: new Map() } }, 'field mMessage["k"]: expected an object, got a Map'],
    ['sink.Sink', { createdAt: new Date(NaN) }, 'field createdAt: expected a valid Date'],
    ['sink.Sink', { cString: 'a', cInt64: 1 }, 'field cInt64: oneof choice has more than one member set: cString and cInt64'],
    ['sink.Sink', { cString: 'a', choice: 'cInt64' }, 'field choice: says "cInt64" is set, but cString is'],
    ['sink.Sink', { r_string: [] }, 'field r_string: unknown field (this type\'s field is called rString'],
    ['sink.Sink', { surprise: 1 }, 'field surprise: unknown field'],
    ['sink.Sink', { detail: { '@type': 'type.googleapis.com/nowhere.Thing' } }, 'field detail.@type: "nowhere.Thing" is not a message type'],
    ['sink.Sink', { detail: { '@type': 'x/sink.Scalars', fInt32: 'one' } }, 'field detail.fInt32: expected an integer'],
    ['sink.Sink', { detail: { typeUrl: 'a/b', type_url: 'a/b' } }, 'field detail.type_url: set under both spellings of typeUrl'],
    ['legacy.Legacy', { id: 'x', mood: 3 }, 'field mood: 3 is not a value of the closed enum legacy.Mood'],
    ['editions.Box', { size: 5 }, 'field size: 5 is not a value of the closed enum editions.Size'],
  ];
  for (const [typeName, value, message] of cases) {
    it(`${typeName} ${message}`, () => {
      expect(() => pkg.codec(typeName).serialize(value)).toThrow(`invalid ${typeName} ${message}`);
    });
  }

  it('ignores keys whose value is undefined, and inherited properties', () => {
    const codec = pkg.codec('sink.Scalars');
    const proto = { fString: 'inherited', somethingElse: 1 };
    const value = Object.assign(Object.create(proto), { fInt32: 3, extra: undefined });
    expect(codec.deserialize(codec.serialize(value))).toMatchObject({ fInt32: 3, fString: '' });
  });
});

describe('what loadProto accepts', () => {
  const check = (pkg: ReturnType<typeof load>) => {
    expect(Object.keys(pkg.services)).toContain('sink.SinkService');
    const codec = pkg.codec('sink.Sink');
    expect(codec.deserialize(codec.serialize({ scalars: { fInt64: '5' }, detail: { typeUrl: 'a/b' } }))).toMatchObject({
      scalars: { fInt64: '5' }, detail: { typeUrl: 'a/b' },
    });
  };

  it('.proto files, sync and async', async () => {
    check(load());
    check(await loadProto('sink.proto', { includeDirs: [fixtures] }));
  });

  it('an already-parsed protobufjs Root (parsed with keepCase, renamed to our casing)', () => {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : path.join(fixtures, target));
    root.loadSync('sink.proto', { keepCase: true });
    check(loadProtoSync(root));
  });

  it('a FileDescriptorSet, encoded or as an object', async () => {
    const { default: descriptor } = await import('protobufjs/ext/descriptor/index.js' as string);
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : path.join(fixtures, target));
    root.loadSync('sink.proto', { keepCase: true });
    const set = (root as unknown as { toDescriptor(edition: string): protobuf.Message }).toDescriptor('proto3');
    const bytes = descriptor.FileDescriptorSet.encode(set).finish();
    check(loadProtoSync(bytes));
    check(loadProtoSync(descriptor.FileDescriptorSet.toObject(set) as { file: unknown[] }));
  });

  it('refuses anything else', () => {
    expect(() => loadProtoSync(42 as never)).toThrow('loadProto takes .proto file names, a protobufjs Root, or a FileDescriptorSet');
  });

  it('messageCodec works on any protobufjs type, with proto-loader-style options', () => {
    const type = protobuf.parse('syntax = "proto3"; message M { int64 n = 1; bytes b = 2; }').root.lookupType('M');
    const codec = messageCodec(type, { longs: Number, bytes: String, defaults: false });
    expect(codec.deserialize(codec.serialize({ n: '12', b: 'AQ==' }))).toEqual({ n: 12, b: 'AQ==' });
    expect(() => codec.serialize({ n: 'x' })).toThrow('invalid M field n: expected an integer');
    expect(() => messageCodec(type, { keepCase: true } as never)).toThrow('keepCase names the fields of a loaded Root');
  });
});

describe('over the wire: an unencodable message fails the call with INTERNAL', () => {
  const pkg = load();
  const service = pkg.services['sink.SinkService'];
  let server: Server;
  let channel: Channel;
  let handled = 0;
  beforeAll(async () => {
    server = new Server().addService(service, {
      async echo(req: any) {
        handled++;
        if (req.optString === 'bad reply') return { scalars: { fUint32: -1 } };
        return req;
      },
      async *echoStream(reqs: AsyncIterable<any>) {
        for await (const r of reqs) yield r;
      },
    });
    channel = new Channel(`127.0.0.1:${await server.listen('127.0.0.1:0')}`);
  });
  afterAll(async () => {
    channel.close();
    await server.shutdown(1000);
  });

  it('round-trips a message through a real server', async () => {
    const client = createClient(service, channel) as any;
    const reply = await client.echo({ scalars: { fUint64: U64_MAX, color: 'GREEN' }, mInt64: { '42': 'x' } });
    expect(reply.scalars.fUint64).toBe(U64_MAX);
    expect(reply.scalars.color).toBe('GREEN');
    expect(reply.mInt64).toEqual({ '42': 'x' });
  });

  it('a bad request never leaves the client', async () => {
    const client = createClient(service, channel) as any;
    const before = handled;
    const err = await client.echo({ scalars: { color: 'PURPLE' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrpcError);
    expect(err.code).toBe(Status.INTERNAL);
    expect(err.details).toContain('invalid sink.Sink field scalars.color: "PURPLE" is not a value of enum sink.Color');
    expect(handled).toBe(before);
  });

  it('a bad reply reaches the client as INTERNAL naming the field', async () => {
    const client = createClient(service, channel) as any;
    const err = await client.echo({ optString: 'bad reply' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrpcError);
    expect(err.code).toBe(Status.INTERNAL);
    expect(err.details).toContain('invalid sink.Sink field scalars.fUint32: expected an integer in 0..4294967295');
  });

  it('a bad message in a stream fails that stream', async () => {
    const client = createClient(service, channel) as any;
    const call = client.echoStream();
    await call.write({ optString: 'fine' });
    await expect(call.write({ rBool: [1] })).rejects.toMatchObject({ code: Status.INTERNAL, details: expect.stringContaining('field rBool[0]: expected a boolean') });
  });
});
