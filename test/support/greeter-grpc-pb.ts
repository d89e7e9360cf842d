// What grpc-tools' protoc plugin generates for greeter.proto (a *_grpc_pb.js
// service object plus a client made by makeGenericClientConstructor), written
// by hand in that shape so it can be built against either grpc module. The
// message classes stand in for google-protobuf's generated ones
// (serializeBinary / deserializeBinary / getters and setters).
import path from 'node:path';
import protobuf from 'protobufjs';

const root = protobuf.loadSync(path.join(import.meta.dirname, '../fixtures/compat/greeter.proto'));
const HelloRequestType = root.lookupType('hello.HelloRequest');
const HelloReplyType = root.lookupType('hello.HelloReply');

export class HelloRequest {
  private name = '';
  getName(): string { return this.name; }
  setName(value: string): this { this.name = value; return this; }
  serializeBinary(): Uint8Array { return HelloRequestType.encode({ name: this.name }).finish(); }
  static deserializeBinary(bytes: Uint8Array): HelloRequest {
    return new HelloRequest().setName((HelloRequestType.decode(bytes) as unknown as { name: string }).name);
  }
}

export class HelloReply {
  private message = '';
  getMessage(): string { return this.message; }
  setMessage(value: string): this { this.message = value; return this; }
  serializeBinary(): Uint8Array { return HelloReplyType.encode({ message: this.message }).finish(); }
  static deserializeBinary(bytes: Uint8Array): HelloReply {
    return new HelloReply().setMessage((HelloReplyType.decode(bytes) as unknown as { message: string }).message);
  }
}

function serializer<T extends { serializeBinary(): Uint8Array }>(cls: new () => T, name: string) {
  return (arg: T): Buffer => {
    if (!(arg instanceof cls)) throw new Error(`Expected argument of type ${name}`);
    return Buffer.from(arg.serializeBinary());
  };
}

export function greeterGrpcPb(grpc: any) {
  const GreeterService = {
    sayHello: {
      path: '/hello.Greeter/SayHello',
      requestStream: false,
      responseStream: false,
      requestType: HelloRequest,
      responseType: HelloReply,
      requestSerialize: serializer(HelloRequest, 'hello.HelloRequest'),
      requestDeserialize: (buf: Buffer) => HelloRequest.deserializeBinary(new Uint8Array(buf)),
      responseSerialize: serializer(HelloReply, 'hello.HelloReply'),
      responseDeserialize: (buf: Buffer) => HelloReply.deserializeBinary(new Uint8Array(buf)),
    },
  };
  return { GreeterService, GreeterClient: grpc.makeGenericClientConstructor(GreeterService) };
}
