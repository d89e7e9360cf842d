// grpcurl and ghz (real binaries from tools/build.sh) against our server,
// with no -proto/-protoset: everything they know comes from reflection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from '../src/index.js';
import { startCatalogServer } from './support/catalog.js';
import { runTool } from './support/tools.js';

let server: Server;
let address: string;
beforeAll(async () => {
  ({ server, address } = await startCatalogServer());
});
afterAll(() => server.forceShutdown());

async function grpcurl(...args: string[]) {
  const result = await runTool('grpcurl', ['-plaintext', ...args]);
  return { ...result, output: result.stdout + result.stderr };
}

/** grpcurl prints each response as one pretty-printed JSON object. */
function jsonObjects(text: string): any[] {
  return JSON.parse(`[${text.trim().replace(/}\s*{/g, '},{')}]`);
}

describe('grpcurl', { timeout: 60_000 }, () => {
  it('lists the services', async () => {
    const r = await grpcurl(address, 'list');
    expect(r.code, r.output).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual([
      'e2e.Probe', 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection', 'shop.catalog.Catalog', 'shop.ext.Notes',
    ]);
  });

  it('describes every service, so every served file passes its descriptor checks', async () => {
    const r = await grpcurl(address, 'describe');
    expect(r.code, r.output).toBe(0);
    for (const name of ['e2e.Probe', 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection', 'shop.catalog.Catalog', 'shop.ext.Notes']) {
      expect(r.stdout).toContain(`${name} is a service:`);
    }
  });

  it('describes a service, a message from an imported file and a well-known type', async () => {
    const service = await grpcurl(address, 'describe', 'shop.catalog.Catalog');
    expect(service.code, service.output).toBe(0);
    expect(service.stdout).toContain('rpc ListItems ( .shop.catalog.ListItemsRequest ) returns ( stream .shop.catalog.Item );');
    expect(service.stdout).toContain('rpc Chat ( stream .shop.catalog.ChatMessage ) returns ( stream .shop.catalog.ChatMessage );');
    expect(service.stdout).toContain('rpc Ping ( .google.protobuf.Empty ) returns ( .google.protobuf.Empty );');

    const item = await grpcurl(address, 'describe', 'shop.catalog.Item');
    expect(item.code, item.output).toBe(0);
    for (const line of ['.shop.common.Money price = 3;', '.google.protobuf.Timestamp added_at = 4;', 'map<string, string> labels = 5;', 'optional int32 stock = 7;', 'oneof discount {']) {
      expect(item.stdout).toContain(line);
    }
    const money = await grpcurl(address, 'describe', 'shop.common.Money');
    expect(money.stdout).toContain('int64 units = 2;');

    const proto2 = await grpcurl(address, 'describe', 'shop.ext.Annotated');
    expect(proto2.code, proto2.output).toBe(0);
    for (const line of ['optional string note = 1 [default = "none"];', 'required int32 id = 2;', 'repeated int32 codes = 3 [packed = true];', 'optional group Extra = 4 {', 'extensions 100 to 199;', 'reserved 20 to 29;']) {
      expect(proto2.stdout).toContain(line);
    }
    const extension = await grpcurl(address, 'describe', 'shop.ext.priority');
    expect(extension.code, extension.output).toBe(0);
    expect(extension.stdout).toContain('optional .shop.ext.Level priority = 101;');

    const missing = await grpcurl(address, 'describe', 'no.Such');
    expect(missing.code).not.toBe(0);
    expect(missing.output).toMatch(/not found/i);
  });

  it('calls a unary method', async () => {
    const r = await grpcurl('-d', '{"sku":"b-1"}', address, 'shop.catalog.Catalog/GetItem');
    expect(r.code, r.output).toBe(0);
    expect(jsonObjects(r.stdout)).toEqual([expect.objectContaining({
      sku: 'b-1', displayName: 'Item b-1', kind: 'BOOK', stock: 3, labels: { shelf: 's0' },
      price: { currencyCode: 'EUR', units: '10', nanos: 500_000_000 }, addedAt: '2023-11-14T22:13:20Z',
    })]);
  });

  it('calls a server-streaming method', async () => {
    const r = await grpcurl('-d', '{"limit":3}', address, 'shop.catalog.Catalog/ListItems');
    expect(r.code, r.output).toBe(0);
    expect(jsonObjects(r.stdout).map((i) => i.sku)).toEqual(['sku-0', 'sku-1', 'sku-2']);
  });

  it('calls a client-streaming method', async () => {
    const r = await grpcurl('-d', '{"sku":"a"} {"sku":"b"} {"sku":"c"}', address, 'shop.catalog.Catalog/AddItems');
    expect(r.code, r.output).toBe(0);
    expect(jsonObjects(r.stdout)).toEqual([{ count: 3, skus: ['a', 'b', 'c'] }]);
  });

  it('calls a bidi-streaming method', async () => {
    const r = await grpcurl('-d', '{"text":"one"} {"text":"two"}', address, 'shop.catalog.Catalog/Chat');
    expect(r.code, r.output).toBe(0);
    expect(jsonObjects(r.stdout)).toEqual([{ text: 'echo: one' }, { text: 'echo: two' }]);
  });

  it('calls a method on google.protobuf.Empty and the health service', async () => {
    const ping = await grpcurl(address, 'shop.catalog.Catalog/Ping');
    expect(ping.code, ping.output).toBe(0);
    expect(jsonObjects(ping.stdout)).toEqual([{}]);
    const health = await grpcurl('-d', '{"service":""}', address, 'grpc.health.v1.Health/Check');
    expect(health.code, health.output).toBe(0);
    expect(jsonObjects(health.stdout)).toEqual([{ status: 'SERVING' }]);
  });
});

describe('ghz', () => {
  it('runs a bounded load through reflection without errors', { timeout: 120_000 }, async () => {
    const r = await runTool('ghz', [
      '--insecure', '--call', 'shop.catalog.Catalog/GetItem', '-d', '{"sku":"load"}',
      '-n', '200', '-c', '4', '--connections', '1', '-t', '20s', '-O', 'json', address,
    ], { timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.count).toBe(200);
    expect(report.statusCodeDistribution).toEqual({ OK: 200 });
    expect(report.errorDistribution ?? {}).toEqual({});
  });
});
