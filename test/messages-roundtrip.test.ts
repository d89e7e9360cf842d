// Round-trip property tests against real @grpc/grpc-js + @grpc/proto-loader over
// the kitchen-sink proto: an object grpc-js sends with a given option set reaches
// a tsgrpc handler identical, an object tsgrpc sends reaches a grpc-js handler
// identical, and replies come back identical both ways.
//
// proto-loader (on protobufjs 7) differs from us in three documented places, which
// the comparison maps before comparing: it keys 64-bit maps by an 8-character hash
// string, spells Any's type_url (and, with keepCase, Struct's stringValue ...) as
// protobufjs's built-in JSON does, and adds a "_field" property for proto3 optionals.
// And one bug of its own: it sends the bool map key "false" as true (see boolKeys).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, GrpcError, Server, Status, createClient, loadProtoSync, type LoadOptions } from '../src/index.js';

const fixtures = fileURLToPath(new URL('./fixtures/messages', import.meta.url));
type Obj = Record<string, any>;

const OPTION_SETS: { name: string; options: LoadOptions & protoLoader.Options }[] = [
  { name: 'the usual grpc-js port: keepCase, longs/enums as String, defaults, oneofs', options: { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } },
  { name: 'camelCase with bytes as base64 strings', options: { keepCase: false, longs: String, enums: String, bytes: String, defaults: true, oneofs: true } },
];

/**
 * protobufjs 7 (under proto-loader) encodes the bool map key "false" as true: a
 * grpc-js bug, so objects grpc-js sends use only "true"; ours send both.
 */
let boolKeys: fc.Arbitrary<string> = fc.constantFrom('true', 'false');

const LONG = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const I64 = { min: -(1n << 63n), max: (1n << 63n) - 1n };
const U64 = { min: 0n, max: (1n << 64n) - 1n };

/** Decoded-form values (defaults on) for a field's scalar or enum type. */
function valueArb(field: protobuf.Field, options: LoadOptions, depth: number): fc.Arbitrary<unknown> {
  const t = field.resolvedType;
  if (t instanceof protobuf.Enum) return fc.constantFrom(...Object.keys(t.values));
  if (t instanceof protobuf.Type) return messageArb(t, options, depth - 1);
  switch (field.type) {
    case 'double': return fc.double();
    case 'float': return fc.float();
    case 'int32': case 'sint32': case 'sfixed32': return fc.integer();
    case 'uint32': case 'fixed32': return fc.nat({ max: 0xffffffff });
    case 'bool': return fc.boolean();
    case 'string': return fc.string({ unit: 'grapheme', maxLength: 6 });
    case 'bytes': return fc.uint8Array({ maxLength: 6 }).map((b) => (options.bytes === String ? Buffer.from(b).toString('base64') : Buffer.from(b)));
    default: {
      const range = field.type === 'uint64' || field.type === 'fixed64' ? U64 : I64;
      return fc.bigInt(range).map(String);
    }
  }
}

function keyArb(keyType: string): fc.Arbitrary<string> {
  switch (keyType) {
    case 'string': return fc.string({ maxLength: 4 });
    case 'bool': return boolKeys;
    case 'int32': case 'sint32': case 'sfixed32': return fc.integer().map(String);
    case 'uint32': case 'fixed32': return fc.nat({ max: 0xffffffff }).map(String);
    default: return fc.bigInt(keyType === 'uint64' || keyType === 'fixed64' ? U64 : I64).map(String);
  }
}

/** A message exactly as tsgrpc and proto-loader decode it with defaults and oneofs on. */
function messageArb(type: protobuf.Type, options: LoadOptions, depth: number): fc.Arbitrary<Obj> {
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  const extras: fc.Arbitrary<Obj>[] = [];
  for (const field of type.fieldsArray) {
    field.resolve();
    if (field.partOf) continue;
    if (field.map) {
      const keyType = (field as unknown as protobuf.MapField).keyType;
      parts[field.name] = depth > 0 || !(field.resolvedType instanceof protobuf.Type)
        ? fc.dictionary(keyArb(keyType), valueArb(field, options, depth), { maxKeys: 3 })
        : fc.constant({});
    } else if (field.repeated) {
      parts[field.name] = depth > 0 || !(field.resolvedType instanceof protobuf.Type) ? fc.array(valueArb(field, options, depth), { maxLength: 3 }) : fc.constant([]);
    } else if (field.resolvedType instanceof protobuf.Type) {
      parts[field.name] = depth > 0 ? fc.option(valueArb(field, options, depth), { nil: null }) : fc.constant(null);
    } else {
      parts[field.name] = valueArb(field, options, depth);
    }
  }
  for (const oneof of type.oneofsArray) {
    const members = oneof.fieldsArray.filter((f) => depth > 0 || !(f.resolvedType instanceof protobuf.Type));
    const synthetic = oneof.fieldsArray.length === 1 && oneof.name.startsWith('_');
    const choices = members.map((f) => valueArb(f, options, depth).map((v) => (synthetic ? { [f.name]: v } : { [f.name]: v, [oneof.name]: f.name })));
    extras.push(fc.oneof(fc.constant({}), ...choices));
  }
  return fc.tuple(fc.record(parts), ...extras).map(([base, ...rest]) => Object.assign({}, base, ...rest));
}

/**
 * Walks a message by reflection, rewriting keys: `rename` per type and field,
 * `mapKey` for 64-bit map keys, dropping keys `drop` says.
 */
function rewrite(value: Obj, type: protobuf.Type, how: { rename(type: protobuf.Type, key: string): string; mapKey(key: string, keyType: string): string; drop(type: protobuf.Type, key: string): boolean }): Obj {
  const out: Obj = {};
  for (const [key, v] of Object.entries(value)) {
    if (how.drop(type, key) || type.oneofs?.[key]) continue; // a oneof's virtual property is set with its member
    const newKey = how.rename(type, key);
    const field = type.fields[key] ?? type.fields[newKey];
    const sub = field?.resolvedType;
    if (!field || v === null || v === undefined) out[newKey] = v;
    else if (field.map) {
      const keyType = (field as unknown as protobuf.MapField).keyType;
      out[newKey] = Object.fromEntries(Object.entries(v).map(([k, e]) => [how.mapKey(k, keyType), sub instanceof protobuf.Type ? rewrite(e as Obj, sub, how) : e]));
    } else if (sub instanceof protobuf.Type) {
      out[newKey] = field.repeated ? (v as Obj[]).map((e) => rewrite(e, sub, how)) : rewrite(v, sub, how);
    } else out[newKey] = v;
    if (field?.partOf && value[field.partOf.name] === key && !how.drop(type, field.partOf.name)) out[field.partOf.name] = newKey;
  }
  return out;
}

const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** proto-loader's spelling of the built-in google.protobuf types, for a given keepCase. */
function plSpelling(type: protobuf.Type, key: string, keepCase: boolean, toPl: boolean): string {
  if (!type.fullName.startsWith('.google.protobuf.')) return key;
  if (type.fullName === '.google.protobuf.Any') return toPl ? snake(key) : keepCase ? key : camel(key);
  return toPl ? camel(key) : keepCase ? snake(key) : key;
}

/** proto-loader's 8-character hash key of a 64-bit map back to decimal. */
function fromHash(key: string, keyType: string): string {
  if (!LONG.has(keyType) || /^-?\d+$/.test(key)) return key;
  const bits = protobuf.util.LongBits.fromHash(key);
  const n = (BigInt(bits.hi >>> 0) << 32n) | BigInt(bits.lo >>> 0);
  return (keyType === 'uint64' || keyType === 'fixed64' ? n : BigInt.asIntN(64, n)).toString();
}

/** One message type per kitchen-sink file, each behind an Echo method. */
const CASES = [
  { file: 'sink.proto', service: 'sink.SinkService', type: 'sink.Sink' },
  { file: 'legacy.proto', service: 'legacy.LegacyService', type: 'legacy.Legacy' },
  { file: 'editions.proto', service: 'editions.BoxService', type: 'editions.Box' },
];

for (const { name, options } of OPTION_SETS) {
  describe(`round trips with grpc-js, ${name}`, () => {
    const keepCase = !!options.keepCase;
    const files = CASES.map((c) => c.file);
    const pkg = loadProtoSync(files, { includeDirs: [fixtures], ...options });
    const definition = protoLoader.loadSync(files, { includeDirs: [fixtures], ...options });
    const grpcObject = grpc.loadPackageDefinition(definition);
    const grpcService = (fullName: string) =>
      fullName.split('.').reduce<any>((o, part) => o[part], grpcObject) as grpc.ServiceClientConstructor;

    let tsServer: Server;
    let gjServer: grpc.Server;
    let channel: Channel;
    let tsPort: number;
    const seen = new Map<string, { ts?: Obj; gj?: Obj; reply?: Obj }>(CASES.map((c) => [c.service, {}]));

    beforeAll(async () => {
      tsServer = new Server();
      gjServer = new grpc.Server();
      for (const { service } of CASES) {
        const log = seen.get(service)!;
        tsServer.addService(pkg.services[service], {
          async echo(req: Obj) {
            log.ts = req;
            return req;
          },
          ...(service === 'sink.SinkService' ? { async *echoStream(reqs: AsyncIterable<Obj>) { for await (const r of reqs) yield r; } } : {}),
        });
        gjServer.addService(grpcService(service).service, {
          Echo(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
            log.gj = call.request;
            cb(null, log.reply!);
          },
          EchoStream(call: grpc.ServerDuplexStream<Obj, Obj>) {
            call.on('data', (r: Obj) => call.write(r));
            call.on('end', () => call.end());
          },
        });
      }
      tsPort = await tsServer.listen('127.0.0.1:0');
      const gjPort = await new Promise<number>((resolve, reject) =>
        gjServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
      );
      channel = new Channel(`127.0.0.1:${gjPort}`);
    });
    afterAll(async () => {
      channel?.close();
      await tsServer?.shutdown(1000);
      await new Promise<void>((resolve) => gjServer?.tryShutdown(() => resolve()));
    });

    for (const { service, type: typeName } of CASES) {
      const type = pkg.root.lookupType(typeName);
      const log = seen.get(service)!;
      const fromPl = (v: Obj) => rewrite(v, type, {
        rename: (t, k) => plSpelling(t, k, keepCase, false),
        mapKey: fromHash,
        drop: (t, k) => k.startsWith('_') && !t.fields[k] && !!t.oneofs?.[k],
      });
      const toPl = (v: Obj) => rewrite(v, type, { rename: (t, k) => plSpelling(t, k, keepCase, true), mapKey: (k) => k, drop: () => false });
      boolKeys = fc.constant('true');
      const messages = messageArb(type, options, 2);
      boolKeys = fc.constantFrom('true', 'false');
      const runs = { numRuns: service === 'sink.SinkService' ? 40 : 25 };

      it(`${typeName}: grpc-js client -> tsgrpc handler arrives identical, and the echo returns identical`, async () => {
        const gjClient = new (grpcService(service))(`127.0.0.1:${tsPort}`, grpc.credentials.createInsecure()) as any;
        try {
          await fc.assert(fc.asyncProperty(messages, async (sent) => {
            const reply = await new Promise<Obj>((resolve, reject) => gjClient.Echo(toPl(sent), (err: Error | null, r: Obj) => (err ? reject(err) : resolve(r))));
            expect(log.ts).toEqual(sent);
            expect(fromPl(reply)).toEqual(sent);
          }), runs);
        } finally {
          gjClient.close();
        }
      });

      it(`${typeName}: tsgrpc client -> grpc-js handler arrives identical, and the reply returns identical`, async () => {
        const tsClient = createClient(pkg.services[service], channel) as any;
        await fc.assert(fc.asyncProperty(messages, async (sent) => {
          log.reply = toPl(sent);
          const reply = await tsClient.echo(sent);
          expect(fromPl(log.gj!)).toEqual(sent);
          expect(reply).toEqual(sent);
        }), runs);
      });
    }

    it('a value of the wrong type anywhere in Scalars fails the call with INTERNAL naming the field', async () => {
      const Scalars = pkg.root.lookupType('sink.Scalars');
      const sinks = messageArb(pkg.root.lookupType('sink.Sink'), options, 1);
      const tsClient = createClient(pkg.services['sink.SinkService'], channel) as any;
      const wrong = fc.constantFrom<unknown>('text', 1.5, -1, true, {}, [], 2n ** 70n);
      const fieldAndValue = fc.tuple(fc.constantFrom(...Scalars.fieldsArray), wrong).filter(([field, value]) => {
        // Keep only values that really are wrong for the field's type.
        try {
          pkg.codec('sink.Scalars').serialize({ [field.name]: value });
          return false;
        } catch {
          return true;
        }
      });
      await fc.assert(fc.asyncProperty(sinks, fieldAndValue, async (sent, [field, value]) => {
        const bad = { ...sent, scalars: { ...(sent.scalars ?? {}), [field.name]: value } };
        const err = await tsClient.echo(bad).then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(GrpcError);
        expect(err.code).toBe(Status.INTERNAL);
        expect(err.details).toContain(`invalid sink.Sink field scalars.${field.name}: `);
      }), { numRuns: 25 });
    });
  });
}
