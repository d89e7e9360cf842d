// bench.Echo served by @grpc/grpc-js, written the way its docs suggest; the same code
// runs on tsgrpc/grpc-js (impl 'tsgrpc-compat') to measure the compat layer's cost.
import * as grpc from '@grpc/grpc-js';
import { countReply, streamCount, type EchoServer } from '../echo.js';
import { GRPCJS_OPTIONS, grpcJsEcho } from './grpcjs-def.js';
import { grpcJsOrders, grpcJsOrdersImpl } from './orders-grpcjs.js';

const impl: grpc.UntypedServiceImplementation = {
  Unary(call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) {
    cb(null, call.request);
  },
  ServerStream(call: grpc.ServerWritableStream<Buffer, Buffer>) {
    const n = streamCount(call.request);
    for (let i = 0; i < n; i++) call.write(call.request);
    call.end();
  },
  ClientStream(call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) {
    let n = 0;
    call.on('data', () => n++);
    call.on('end', () => cb(null, countReply(n)));
  },
  Bidi(call: grpc.ServerDuplexStream<Buffer, Buffer>) {
    call.on('data', (m: Buffer) => call.write(m));
    call.on('end', () => call.end());
  },
};

export async function startGrpcJs(module: typeof grpc = grpc): Promise<EchoServer> {
  const server = new module.Server(GRPCJS_OPTIONS);
  server.addService(grpcJsEcho, impl);
  // The protobuf scenario's service, through @grpc/proto-loader, on real grpc-js.
  if (module === grpc) server.addService((await grpcJsOrders()).service, grpcJsOrdersImpl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', module.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { port, close: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}
