// Orders.Echo (bench/proto/orders.proto) through tsgrpc's usual protobuf path, loadProto.
// Kept apart from the grpc-js version so that a tsgrpc process loads no grpc-js or
// proto-loader code: a process that loaded both showed a different GC pattern (repeated
// incremental mark-compacts on 1 MiB calls) that bare node:http2 does not pay.
import { loadProto, type ServiceDefinition } from '../../src/index.js';
import { ORDERS_PROTO, ORDERS_SERVICE } from '../orders.js';

export async function tsgrpcOrders(): Promise<ServiceDefinition> {
  return (await loadProto(ORDERS_PROTO)).services[ORDERS_SERVICE];
}

export const tsgrpcOrdersImpl = {
  async Echo(order: object) {
    return order;
  },
};
