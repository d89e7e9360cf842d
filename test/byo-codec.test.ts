// Bring your own codec, end to end: protobuf-es (@bufbuild/protobuf) and ts-proto
// generated code (committed under test/fixtures/byo/gen, made by protoc-gen-es and
// protoc-gen-ts_proto from orders.proto) as tsgrpc's codec, in all four call
// modes, and against peers that use other protobuf implementations (grpc-js with
// proto-loader, tsgrpc with loadProto). Nothing in this file loads protobufjs
// except through those peers: the first test checks that.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Channel, Server, Status, createClient, defineService, protobufEsService, tsProtoCodec, type ServiceDefinition,
} from '../src/index.js';
import { OrderSchema, ReceiptSchema, Shop, Size, type Order } from './fixtures/byo/gen/es/orders_pb.js';
import * as tp from './fixtures/byo/gen/ts-proto/orders.js';

const require = createRequire(import.meta.url);
const protobufjsLoaded = () => Object.keys(require.cache).some((k) => k.includes('/node_modules/protobufjs/'));
const proto = new URL('./fixtures/byo/orders.proto', import.meta.url).pathname;
const runtime = { create, toBinary, fromBinary };

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function serve(definition: ServiceDefinition, impl: Record<string, any>): Promise<number> {
  const server = new Server().addService(definition, impl);
  const port = await server.listen('127.0.0.1:0');
  closers.push(() => server.shutdown(1000));
  return port;
}

function connect(port: number): Channel {
  const channel = new Channel(`127.0.0.1:${port}`);
  closers.push(() => channel.close());
  return channel;
}

async function collect<T = any>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('protobuf-es messages', () => {
  const shop = protobufEsService(Shop, runtime);
  const receipt = (o: Order, text: string) => create(ReceiptSchema, { orderId: o.id, text });
  const impl = {
    async place(o: Order) {
      return receipt(o, `${o.customer}:${o.size}:${o.tags.join('+')}:${o.counts.apples}:${o.payment.case}=${o.payment.value}:${o.previous?.customer}`);
    },
    async *watch(o: Order) {
      for (let i = 0; i < 3; i++) yield { orderId: o.id + BigInt(i), text: `w${i}` }; // plain init objects are fine too
    },
    async batch(orders: AsyncIterable<Order>) {
      let total = 0n;
      for await (const o of orders) total += o.id;
      return { orderId: total, text: 'batch' };
    },
    async *chat(orders: AsyncIterable<Order>) {
      for await (const o of orders) yield receipt(o, `echo ${o.customer}`);
    },
  };

  it('serves and calls all four modes without loading protobufjs', async () => {
    expect(protobufjsLoaded()).toBe(false);
    const client = createClient(shop, connect(await serve(shop, impl))) as any;
    const order = create(OrderSchema, {
      customer: 'ada', id: 9007199254740993n, size: Size.LARGE, tags: ['a', 'b'], counts: { apples: 3 },
      payment: { case: 'card', value: '4242' }, previous: { customer: 'old' }, note: new Uint8Array([1, 2]),
    });
    const placed = await client.place(order);
    expect(placed.$typeName).toBe('byo.Receipt');
    expect(placed.orderId).toBe(9007199254740993n);
    expect(placed.text).toBe('ada:2:a+b:3:card=4242:old');
    expect((await collect(client.watch({ id: 10n }))).map((r: any) => [r.orderId, r.text])).toEqual([[10n, 'w0'], [11n, 'w1'], [12n, 'w2']]);
    expect((await client.batch([{ id: 1n }, { id: 2n }, { id: 3n }])).orderId).toBe(6n);
    const chat = client.chat();
    await chat.write({ customer: 'x' });
    await chat.write({ customer: 'y' });
    chat.end();
    expect((await collect(chat)).map((r: any) => r.text)).toEqual(['echo x', 'echo y']);
    expect(protobufjsLoaded()).toBe(false);
  });

  it('a value protobuf-es cannot encode fails the call with INTERNAL', async () => {
    const client = createClient(shop, connect(await serve(shop, impl))) as any;
    const err = await client.place({ id: 'not a number' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: Status.INTERNAL });
    expect(err.details).toContain('could not serialize the request');
  });

  it('interoperates with grpc-js + proto-loader in both directions', async () => {
    const grpc = await import('@grpc/grpc-js');
    const loader = await import('@grpc/proto-loader');
    const def = loader.loadSync(proto, { longs: String, enums: String, defaults: true, oneofs: true });
    const Client = (grpc.loadPackageDefinition(def).byo as any).Shop;
    // grpc-js client -> tsgrpc server with the protobuf-es codec
    const port = await serve(shop, impl);
    const gj = new (Client as any)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    closers.push(() => gj.close());
    const reply = await new Promise<any>((resolve, reject) =>
      gj.Place({ customer: 'gj', id: '123', size: 'SIZE_SMALL', tags: ['t'], counts: { apples: 7 }, cash: true }, (e: Error | null, r: any) => (e ? reject(e) : resolve(r))));
    expect(reply).toMatchObject({ orderId: '123', text: 'gj:1:t:7:cash=true:undefined' });
    // tsgrpc client with the protobuf-es codec -> grpc-js server
    const server = new grpc.Server();
    server.addService(Client.service, {
      Place: (call: any, cb: any) => cb(null, { orderId: call.request.id, text: `${call.request.customer}/${call.request.size}/${call.request.card}` }),
    });
    const gjPort = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    closers.push(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
    const client = createClient(shop, connect(gjPort)) as any;
    const back = await client.place({ customer: 'es', id: -5n, size: Size.LARGE, payment: { case: 'card', value: 'c' } });
    expect(back.orderId).toBe(-5n);
    expect(back.text).toBe('es/SIZE_LARGE/c');
  });
});

describe('ts-proto messages', () => {
  const shop = defineService('byo.Shop', {
    Place: { request: tsProtoCodec(tp.Order), response: tsProtoCodec(tp.Receipt) },
    Watch: { responseStream: true, request: tsProtoCodec(tp.Order), response: tsProtoCodec(tp.Receipt) },
    Batch: { requestStream: true, request: tsProtoCodec(tp.Order), response: tsProtoCodec(tp.Receipt) },
    Chat: { requestStream: true, responseStream: true, request: tsProtoCodec(tp.Order), response: tsProtoCodec(tp.Receipt) },
  });

  it('serves and calls all four modes', async () => {
    const impl = {
      async place(o: tp.Order): Promise<Partial<tp.Receipt>> {
        return { orderId: o.id, text: `${o.customer}:${o.size}:${o.counts.apples}:${o.card ?? o.cash}` };
      },
      async *watch(o: tp.Order) {
        yield { orderId: o.id, text: 'only' };
      },
      async batch(orders: AsyncIterable<tp.Order>) {
        return { text: (await collect(orders)).map((o) => o.customer).join(',') };
      },
      async *chat(orders: AsyncIterable<tp.Order>) {
        for await (const o of orders) yield { text: o.tags.join('') };
      },
    };
    const client = createClient(shop, connect(await serve(shop, impl))) as any;
    // forceLong=string: ts-proto's int64 fields are decimal strings.
    const placed: tp.Receipt = await client.place({ customer: 'tp', id: '18014398509481985', size: tp.Size.SIZE_SMALL, counts: { apples: 2 }, card: 'v' });
    expect(placed).toEqual({ orderId: '18014398509481985', text: 'tp:1:2:v' });
    expect(await collect(client.watch({ id: '4' }))).toEqual([{ orderId: '4', text: 'only' }]);
    expect((await client.batch([{ customer: 'a' }, { customer: 'b' }])).text).toBe('a,b');
    const chat = client.chat();
    await chat.write({ tags: ['x', 'y'] });
    chat.end();
    expect((await collect<tp.Receipt>(chat)).map((r) => r.text)).toEqual(['xy']);
  });

  it('talks to a tsgrpc peer that decodes with loadProto (protobufjs)', async () => {
    const { loadProtoSync } = await import('../src/index.js');
    const loaded = loadProtoSync(proto).services['byo.Shop'];
    expect(protobufjsLoaded()).toBe(true); // the check in the first test can see protobufjs when it is there
    const port = await serve(loaded, {
      async place(o: any) {
        return { orderId: o.id, text: `${o.customer}|${o.size}|${o.tags}|${JSON.stringify(o.counts)}|${o.payment}=${o.cash}|${o.note.toString('hex')}` };
      },
    });
    const client = createClient(shop, connect(port)) as any;
    const reply: tp.Receipt = await client.place({ customer: 'mix', id: '-1', size: tp.Size.SIZE_LARGE, tags: ['p', 'q'], counts: { k: 1 }, cash: true, note: Buffer.from([0xab]) });
    expect(reply).toEqual({ orderId: '-1', text: 'mix|SIZE_LARGE|p,q|{"k":1}|cash=true|ab' });
  });
});
