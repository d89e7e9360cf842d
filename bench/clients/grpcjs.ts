// bench.Echo client on @grpc/grpc-js, via its generic client constructor.
import * as grpc from '@grpc/grpc-js';
import type { EchoClient } from '../echo.js';
import { GRPCJS_OPTIONS, grpcJsEcho } from '../servers/grpcjs-def.js';
import { grpcJsOrders } from '../servers/orders.js';

type Cb = (err: grpc.ServiceError | null, res?: Buffer) => void;
interface GrpcJsEchoStub extends grpc.Client {
  Unary(req: Buffer, cb: Cb): grpc.ClientUnaryCall;
  ServerStream(req: Buffer): grpc.ClientReadableStream<Buffer>;
  ClientStream(cb: Cb): grpc.ClientWritableStream<Buffer>;
  Bidi(): grpc.ClientDuplexStream<Buffer, Buffer>;
}

const Ctor = grpc.makeGenericClientConstructor(grpcJsEcho, 'Echo');

export async function connectGrpcJs(port: number): Promise<EchoClient> {
  const stub = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), GRPCJS_OPTIONS) as unknown as GrpcJsEchoStub;
  await new Promise<void>((resolve, reject) =>
    stub.waitForReady(Date.now() + 5000, (err) => (err ? reject(err) : resolve())),
  );
  // Same target and options: grpc-js shares the one connection between the two stubs.
  const OrdersCtor = await grpcJsOrders();
  const orders = new OrdersCtor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), GRPCJS_OPTIONS) as unknown as {
    Echo(o: object, cb: (err: grpc.ServiceError | null, res?: object) => void): void;
    close(): void;
  };
  return {
    unaryCb: (payload, cb) => stub.Unary(payload, cb),
    order: (msg) => new Promise((resolve, reject) => orders.Echo(msg, (err, res) => (err ? reject(err) : resolve(res!)))),
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
      orders.close();
      stub.close();
    },
  };
}
