// A server with every built-in service plus test services loaded from files
// with imports (test/fixtures/reflection), for reflection and tool tests.
import { fileURLToPath } from 'node:url';
import { HealthService, ReflectionService, Server, loadProtoSync, type ServerCallContext } from '../../src/index.js';
import { Observations, probeImplementation, probeService } from './probe.js';

export const reflectionFixtures = fileURLToPath(new URL('../fixtures/reflection', import.meta.url));
export const shopProto = loadProtoSync(['shop/catalog/catalog.proto', 'shop/ext/annotated.proto'], { includeDirs: [reflectionFixtures] });

interface Item {
  sku: string;
  displayName?: string;
  price?: { currencyCode: string; units: number; nanos?: number };
  addedAt?: { seconds: number; nanos: number };
  labels?: Record<string, string>;
  kind?: number;
  stock?: number;
}

function item(sku: string, index = 0): Item {
  return {
    sku,
    displayName: `Item ${sku}`,
    price: { currencyCode: 'EUR', units: 10 + index, nanos: 500_000_000 },
    addedAt: { seconds: 1_700_000_000 + index, nanos: 0 },
    labels: { shelf: `s${index}` },
    kind: 1,
    stock: 3,
  };
}

export const catalogImplementation = {
  getItem: ({ sku }: { sku: string }) => item(sku),
  async *listItems({ limit }: { limit: number }) {
    for (let i = 0; i < limit; i++) yield item(`sku-${i}`, i);
  },
  async addItems(items: AsyncIterable<Item>) {
    const skus: string[] = [];
    for await (const i of items) skus.push(i.sku);
    return { count: skus.length, skus };
  },
  async *chat(messages: AsyncIterable<{ text: string }>, _ctx: ServerCallContext) {
    for await (const m of messages) yield { text: `echo: ${m.text}` };
  },
  ping: () => ({}),
};

export async function startCatalogServer(): Promise<{ server: Server; address: string; health: HealthService }> {
  const server = new Server();
  server.addService(shopProto.services['shop.catalog.Catalog'], catalogImplementation);
  server.addService(shopProto.services['shop.ext.Notes'], { echo: (m: unknown) => m });
  server.addService(probeService, probeImplementation(new Observations()));
  const health = new HealthService().addTo(server);
  new ReflectionService().addTo(server);
  const port = await server.listen('127.0.0.1:0');
  return { server, address: `127.0.0.1:${port}`, health };
}
