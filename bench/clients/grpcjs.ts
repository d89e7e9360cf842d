// bench.Echo client on @grpc/grpc-js, via its generic client constructor; the same code
// runs on tsgrpc/grpc-js (impl 'tsgrpc-compat') to measure the compat layer's cost.
import * as grpc from '@grpc/grpc-js';
import type { EchoClient } from '../echo.js';
import { GRPCJS_OPTIONS, grpcJsEcho } from '../servers/grpcjs-def.js';
import { grpcJsOrders } from '../servers/orders-grpcjs.js';

type Cb = (err: grpc.ServiceError | null, res?: Buffer) => void;
interface GrpcJsEchoStub extends grpc.Client {
  Unary(req: Buffer, cb: Cb): grpc.ClientUnaryCall;
  ServerStream(req: Buffer): grpc.ClientReadableStream<Buffer>;
  ClientStream(cb: Cb): grpc.ClientWritableStream<Buffer>;
  Bidi(): grpc.ClientDuplexStream<Buffer, Buffer>;
}

export async function connectGrpcJs(port: number, module: typeof grpc = grpc): Promise<EchoClient> {
  const Ctor = module.makeGenericClientConstructor(grpcJsEcho, 'Echo');
  const stub = new Ctor(`127.0.0.1:${port}`, module.credentials.createInsecure(), GRPCJS_OPTIONS) as unknown as GrpcJsEchoStub;
  if (module === grpc) {
    await new Promise<void>((resolve, reject) =>
      stub.waitForReady(Date.now() + 5000, (err) => (err ? reject(err) : resolve())),
    );
  } else {
    // tsgrpc/grpc-js has no waitForReady yet: one call opens the connection.
    await new Promise<void>((resolve, reject) => stub.Unary(Buffer.alloc(1), (err) => (err ? reject(err) : resolve())));
  }
  // The protobuf scenario, on real grpc-js only (through @grpc/proto-loader). Same
  // target and options: grpc-js shares the one connection between the two stubs.
  const orders =
    module === grpc
      ? (new (await grpcJsOrders())(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), GRPCJS_OPTIONS) as unknown as {
          Echo(o: object, cb: (err: grpc.ServiceError | null, res?: object) => void): void;
          close(): void;
        })
      : undefined;
  return {
    unaryCb: (payload, cb) => stub.Unary(payload, cb),
    order: orders && ((msg) => new Promise((resolve, reject) => orders.Echo(msg, (err, res) => (err ? reject(err) : resolve(res!))))),
    unary: (payload) =>
      new Promise((resolve, reject) => stub.Unary(payload, (err, res) => (err ? reject(err) : resolve(res!)))),
    serverStream: (payload) =>
      new Promise((resolve, reject) => {
        let n = 0;
        const call = stub.ServerStream(payload);
        call.on('data', () => n++);
        call.on('error', reject);
        call.on('end', () => resolve(n));
      }),
    async clientStream(msg, count) {
      let call!: grpc.ClientWritableStream<Buffer>;
      const done = new Promise<Buffer>((resolve, reject) => {
        call = stub.ClientStream((err, res) => (err ? reject(err) : resolve(res!)));
      });
      for (let i = 0; i < count; i++) {
        if (!call.write(msg)) await new Promise((r) => call.once('drain', r));
      }
      call.end();
      return (await done).readUInt32BE(0);
    },
    pingPong: (msg, next) =>
      new Promise((resolve, reject) => {
        let rounds = 0;
        const call = stub.Bidi();
        let t0 = performance.now();
        call.on('data', () => {
          rounds++;
          if (next(performance.now() - t0)) {
            t0 = performance.now();
            call.write(msg);
          } else call.end();
        });
        call.on('error', reject);
        call.on('end', () => resolve(rounds));
        call.write(msg);
      }),
    close() {
      orders?.close();
      stub.close();
    },
  };
}
