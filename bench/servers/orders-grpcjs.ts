// Orders.Echo (bench/proto/orders.proto) through grpc-js's usual protobuf path,
// @grpc/proto-loader with default conversion options (tsgrpc's is orders-tsgrpc.ts).
import * as grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { ORDERS_PROTO } from '../orders.js';

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
