import descriptor from 'protobufjs/ext/descriptor.js';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import { Channel, ReflectionService, Server, Status, createClient, fromRoot, loadProtoSync, type BidiStream, type Client } from '../src/index.js';
import { REFLECTION_PACKAGES, reflectionServiceDefinition } from '../src/reflection/reflection-proto.js';
import { shopProto, startCatalogServer } from './support/catalog.js';
import { collect } from './support/probe.js';

interface FileDescriptor {
  name: string;
  package?: string;
  dependency: string[];
  messageType: { name: string; field: { name: string; typeName?: string; jsonName?: string; oneofIndex?: number; proto3Optional?: boolean }[]; nestedType: { name: string }[]; oneofDecl: { name: string }[] }[];
  service: { name: string; method: { name: string; inputType: string; outputType: string; clientStreaming?: boolean; serverStreaming?: boolean }[] }[];
  extension: { name: string; extendee: string; number: number }[];
  syntax?: string;
}

function decodeFiles(response: any): FileDescriptor[] {
  const bytes: Uint8Array[] = response.file_descriptor_response?.file_descriptor_proto ?? [];
  return bytes.map((b) => descriptor.FileDescriptorProto.toObject(descriptor.FileDescriptorProto.decode(b), { arrays: true }) as unknown as FileDescriptor);
}

let server: Server;
let channel: Channel;
let clients: Record<string, Client>;

beforeAll(async () => {
  const started = await startCatalogServer();
  server = started.server;
  channel = new Channel(started.address);
  clients = Object.fromEntries(REFLECTION_PACKAGES.map((pkg) => [pkg, createClient(reflectionServiceDefinition(pkg), channel)]));
});
afterAll(() => {
  channel.close();
  server.forceShutdown();
});

/** Sends the requests on one stream and returns the responses. */
async function ask(pkg: string, ...requests: object[]): Promise<any[]> {
  const call: BidiStream<object, any> = clients[pkg].serverReflectionInfo();
  const out: any[] = [];
  const it = call[Symbol.asyncIterator]();
  for (const request of requests) {
    await call.write({ host: 'test-host', ...request });
    out.push((await it.next()).value);
  }
  call.end();
  expect((await it.next()).done).toBe(true);
  return out;
}

describe.each(REFLECTION_PACKAGES)('%s.ServerReflection', (pkg) => {
  it('lists every registered service, the built-in ones included', async () => {
    const [res] = await ask(pkg, { list_services: '' });
    expect(res.valid_host).toBe('test-host');
    expect(res.original_request.list_services).toBe('');
    expect(res.list_services_response.service.map((s: { name: string }) => s.name).sort()).toEqual([
      'e2e.Probe', 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection', 'shop.catalog.Catalog', 'shop.ext.Notes',
    ]);
  });

  it('file_containing_symbol sends the file first, then its imports, under their import names', async () => {
    const [res] = await ask(pkg, { file_containing_symbol: 'shop.catalog.Catalog' });
    const files = decodeFiles(res);
    expect(files[0].name).toBe('shop/catalog/catalog.proto');
    expect(files.slice(1).map((f) => f.name).sort()).toEqual(['google/protobuf/empty.proto', 'google/protobuf/timestamp.proto', 'shop/common/money.proto']);
    const [catalog] = files;
    const money = files.find((f) => f.name === 'shop/common/money.proto')!;
    expect(catalog.package).toBe('shop.catalog');
    expect(catalog.syntax).toBe('proto3');
    expect([...catalog.dependency].sort()).toEqual(['google/protobuf/empty.proto', 'google/protobuf/timestamp.proto', 'shop/common/money.proto']);
    expect(money.dependency).toEqual([]);
    const methods = catalog.service[0].method;
    expect(methods.map((m) => [m.name, m.inputType, m.outputType, !!m.clientStreaming, !!m.serverStreaming])).toEqual([
      ['GetItem', '.shop.catalog.GetItemRequest', '.shop.catalog.Item', false, false],
      ['ListItems', '.shop.catalog.ListItemsRequest', '.shop.catalog.Item', false, true],
      ['AddItems', '.shop.catalog.Item', '.shop.catalog.AddItemsSummary', true, false],
      ['Chat', '.shop.catalog.ChatMessage', '.shop.catalog.ChatMessage', true, true],
      ['Ping', '.google.protobuf.Empty', '.google.protobuf.Empty', false, false],
    ]);
    const item = catalog.messageType.find((m) => m.name === 'Item')!;
    const field = (name: string) => item.field.find((f) => f.name === name)!;
    expect(field('display_name').jsonName).toBe('displayName');
    expect(field('price').typeName).toBe('.shop.common.Money');
    expect(field('labels').typeName).toBe('.shop.catalog.Item.LabelsEntry');
    expect(item.nestedType.map((n) => n.name)).toContain('LabelsEntry');
    // The real oneof comes first, the synthetic one for `optional stock` after it.
    expect(item.oneofDecl.map((o) => o.name)).toEqual(['discount', '_stock']);
    expect(field('stock')).toMatchObject({ proto3Optional: true, oneofIndex: 1 });
    expect(field('amount_off')).toMatchObject({ oneofIndex: 0 });
  });

  it('does not resend files this stream already received, except the one asked for', async () => {
    const [first, second, third] = await ask(pkg,
      { file_containing_symbol: 'shop.common.Money' },
      { file_containing_symbol: 'shop.catalog.Item' },
      { file_by_filename: 'shop/common/money.proto' });
    expect(decodeFiles(first).map((f) => f.name)).toEqual(['shop/common/money.proto']);
    const secondNames = decodeFiles(second).map((f) => f.name);
    expect(secondNames[0]).toBe('shop/catalog/catalog.proto');
    expect(secondNames.slice(1).sort()).toEqual(['google/protobuf/empty.proto', 'google/protobuf/timestamp.proto']);
    expect(decodeFiles(third).map((f) => f.name)).toEqual(['shop/common/money.proto']);
  });

  it('finds methods, nested types, enum values and the built-in services themselves', async () => {
    const names = async (symbol: string) => decodeFiles((await ask(pkg, { file_containing_symbol: symbol }))[0])[0]?.name;
    expect(await names('shop.catalog.Catalog.GetItem')).toBe('shop/catalog/catalog.proto');
    expect(await names('shop.catalog.Item.Kind')).toBe('shop/catalog/catalog.proto');
    expect(await names('shop.catalog.Item.BOOK')).toBe('shop/catalog/catalog.proto');
    expect(await names('.google.protobuf.Timestamp')).toBe('google/protobuf/timestamp.proto');
    expect(await names('grpc.health.v1.Health')).toBe('grpc/health/v1/health.proto');
    expect(await names(`${pkg}.ServerReflection`)).toBe(`${pkg.replace(/\./g, '/')}/reflection.proto`);
  });

  it('answers extension queries from proto2 files', async () => {
    const [byExtension, numbers] = await ask(pkg,
      { file_containing_extension: { containing_type: 'shop.ext.Annotated', extension_number: 101 } },
      { all_extension_numbers_of_type: 'shop.ext.Annotated' });
    const [file] = decodeFiles(byExtension);
    expect(file.name).toBe('shop/ext/annotated.proto');
    expect(file.syntax ?? 'proto2').toBe('proto2');
    expect(file.extension.map((e) => [e.name, e.extendee, e.number])).toEqual([['reviewer', '.shop.ext.Annotated', 100], ['priority', '.shop.ext.Annotated', 101]]);
    // The extensions are not fields of the message they extend; one declared inside it is its extension.
    expect(file.messageType[0].field.map((f) => f.name)).toEqual(['note', 'id', 'codes', 'extra']);
    expect((file.messageType[0] as any).extension.map((e: { name: string }) => e.name)).toEqual(['flagged']);
    expect(numbers.all_extension_numbers_response).toMatchObject({ base_type_name: 'shop.ext.Annotated', extension_number: [100, 101, 150] });
  });

  it('reports unknown names with error_response NOT_FOUND and keeps the stream open', async () => {
    const responses = await ask(pkg,
      { file_by_filename: 'nope.proto' },
      { file_containing_symbol: 'no.Such' },
      { file_containing_extension: { containing_type: 'shop.ext.Annotated', extension_number: 160 } },
      { all_extension_numbers_of_type: 'no.Such' },
      { list_services: '' });
    for (const res of responses.slice(0, 4)) expect(res.error_response.error_code).toBe(Status.NOT_FOUND);
    expect(responses[0].error_response.error_message).toContain('nope.proto');
    expect(responses[1].error_response.error_message).toContain('no.Such');
    expect(responses[4].list_services_response.service.length).toBeGreaterThan(0);
  });

  it('answers a request with no message_request with INVALID_ARGUMENT', async () => {
    const [res] = await ask(pkg, {});
    expect(res.error_response.error_code).toBe(Status.INVALID_ARGUMENT);
  });
});

describe('what reflection describes', () => {
  it('includes services added after it, and names a file loaded by absolute path by its base name', async () => {
    const late = new Server();
    new ReflectionService().addTo(late);
    const port = await late.listen('127.0.0.1:0');
    const lateChannel = new Channel(`127.0.0.1:${port}`);
    const client = createClient(reflectionServiceDefinition('grpc.reflection.v1'), lateChannel);
    try {
      const probe = loadProtoSync(fileURLToPath(new URL('./fixtures/e2e.proto', import.meta.url)));
      late.addService(probe.services['e2e.Probe'], {});
      const call: BidiStream<object, any> = client.serverReflectionInfo();
      await call.write({ file_containing_symbol: 'e2e.Probe' });
      await call.write({ file_containing_symbol: 'shop.catalog.Catalog' }); // loaded, but not on this server
      call.end();
      const [found, missing] = await collect(call);
      expect(decodeFiles(found).map((f) => f.name)).toEqual(['e2e.proto']);
      expect(missing.error_response.error_code).toBe(Status.NOT_FOUND);
      expect(shopProto.services['shop.catalog.Catalog']).toBeDefined();
    } finally {
      lateChannel.close();
      late.forceShutdown();
    }
  });

  it('gives definitions loaded from JSON (no file names) one file per package', async () => {
    const fromJson = fromRoot(protobuf.Root.fromJSON(shopProto.root.toJSON()));
    const jsonServer = new Server();
    jsonServer.addService(fromJson.services['shop.catalog.Catalog'], {});
    new ReflectionService().addTo(jsonServer);
    const port = await jsonServer.listen('127.0.0.1:0');
    const jsonChannel = new Channel(`127.0.0.1:${port}`);
    try {
      const call: BidiStream<object, any> = createClient(reflectionServiceDefinition('grpc.reflection.v1'), jsonChannel).serverReflectionInfo();
      await call.write({ file_containing_symbol: 'shop.catalog.Item' });
      call.end();
      const [res] = await collect(call);
      const files = decodeFiles(res);
      expect(files[0]).toMatchObject({ name: 'shop/catalog.proto', package: 'shop.catalog' });
      expect([...files[0].dependency].sort()).toEqual(['google/protobuf/empty.proto', 'google/protobuf/timestamp.proto', 'shop/common.proto']);
      expect(files.map((f) => f.name).sort()).toEqual(['google/protobuf/empty.proto', 'google/protobuf/timestamp.proto', 'shop/catalog.proto', 'shop/common.proto']);
    } finally {
      jsonChannel.close();
      jsonServer.forceShutdown();
    }
  });

  it('refuses to be added to a second server', () => {
    const reflection = new ReflectionService().addTo(new Server());
    expect(() => reflection.addTo(new Server())).toThrow(/already added/);
  });
});
