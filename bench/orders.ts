// The protobuf scenario's message and proto file (bench/proto/orders.proto).
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

// dist/bench/orders.js -> <repo>/bench/proto/orders.proto
export const ORDERS_PROTO = fileURLToPath(new URL('../../bench/proto/orders.proto', import.meta.url));
export const ORDERS_SERVICE = 'benchmsg.Orders';
export const ORDERS_ECHO_PATH = '/benchmsg.Orders/Echo';

/** A typical order: about 250 bytes encoded. Field names in protobufjs' camelCase. */
export function sampleOrder() {
  return {
    id: 'ord-2026-000123456',
    customer: 'Ada Lovelace <ada@example.com>',
    createdUnixMs: 1764000000000,
    priority: 3,
    total: 1234.5,
    gift: true,
    state: 1,
    shipTo: { street: '12 Analytical Engine Way', city: 'London', country: 'GB', postalCode: 10001 },
    tags: ['express', 'fragile', 'b2c'],
    items: [
      { sku: 'SKU-0001', quantity: 2, unitPriceCents: 19999 },
      { sku: 'SKU-0042', quantity: 1, unitPriceCents: 45050 },
      { sku: 'SKU-0777', quantity: 5, unitPriceCents: 1299 },
    ],
    couponIds: [7, 11, 13],
  };
}

/** The same order as ghz's JSON request data (proto3 JSON names). */
export function sampleOrderJson(): string {
  const o = sampleOrder();
  return JSON.stringify({ ...o, createdUnixMs: String(o.createdUnixMs), state: 'ORDER_STATE_PLACED' });
}

/** sampleOrder encoded (h2load's request body for the protobuf scenario). */
export function encodedOrder(): Buffer {
  const Order = protobuf.loadSync(ORDERS_PROTO).lookupType('benchmsg.Order');
  return Buffer.from(Order.encode(Order.fromObject(sampleOrder())).finish());
}
