// Orders.Echo (bench/proto/orders.proto) on the Node servers, each through
// its usual protobuf path: tsgrpc via loadProto, grpc-js via
// @grpc/proto-loader (default conversion options).
import * as grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
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

export async function grpcJsOrders(): Promise<grpc.ServiceClientConstructor> {
  const def = await protoLoader.load(ORDERS_PROTO);
  const pkg = grpc.loadPackageDefinition(def) as unknown as { benchmsg: { Orders: grpc.ServiceClientConstructor } };
  return pkg.benchmsg.Orders;
}

export const grpcJsOrdersImpl: grpc.UntypedServiceImplementation = {
  Echo(call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) {
    cb(null, call.request);
  },
};
