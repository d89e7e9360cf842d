/** How one message type becomes bytes and back: the whole of what tsgrpc needs from a codec. */
export interface MessageCodec<T = any> {
  serialize(value: T): Uint8Array;
  deserialize(bytes: Uint8Array): T;
}

/** One RPC method: its path, its streaming shape, and how its messages become bytes. */
export interface MethodDefinition<Req = any, Res = any> {
  /** The method name as declared, e.g. "UnaryCall". */
  name: string;
  /** The HTTP/2 :path, e.g. "/grpc.testing.TestService/UnaryCall". */
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  serializeRequest(value: Req): Uint8Array;
  deserializeRequest(bytes: Uint8Array): Req;
  serializeResponse(value: Res): Uint8Array;
  deserializeResponse(bytes: Uint8Array): Res;
}

export interface ServiceDefinition {
  /** Fully-qualified service name, e.g. "grpc.testing.TestService". */
  name: string;
  methods: Record<string, MethodDefinition>;
}

export type CallKind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';

export function callKind(method: MethodDefinition): CallKind {
  if (method.requestStream) return method.responseStream ? 'bidi' : 'clientStream';
  return method.responseStream ? 'serverStream' : 'unary';
}

/** "UnaryCall" -> "unaryCall": the name stubs and handler objects also answer to. */
export function lowerCamel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
