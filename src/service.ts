/** How one message type becomes bytes and back: the whole of what tsgrpc needs from a codec. */
export interface MessageCodec<T = any> {
  /** Turns a message into its wire bytes; throw for a value that cannot be sent. */
  serialize(value: T): Uint8Array;
  /** Parses wire bytes; throw for bytes that are not a valid message. */
  deserialize(bytes: Uint8Array): T;
}

/** One RPC method: its path, its streaming shape, and how its messages become bytes. */
export interface MethodDefinition<Req = any, Res = any> {
  /** The method name as declared, e.g. "UnaryCall". */
  name: string;
  /** The HTTP/2 :path, e.g. "/grpc.testing.TestService/UnaryCall". */
  path: string;
  /** The client sends a stream of requests. */
  requestStream: boolean;
  /** The server sends a stream of responses. */
  responseStream: boolean;
  /** Request to bytes. */
  serializeRequest(value: Req): Uint8Array;
  /** Bytes to request. */
  deserializeRequest(bytes: Uint8Array): Req;
  /** Response to bytes. */
  serializeResponse(value: Res): Uint8Array;
  /** Bytes to response. */
  deserializeResponse(bytes: Uint8Array): Res;
}

/** A service: its name and methods. loadProto(), defineService(), the codec adapters and generated code all produce one. */
export interface ServiceDefinition {
  /** Fully-qualified service name, e.g. "grpc.testing.TestService". */
  name: string;
  /** Its methods, keyed by their declared names ("UnaryCall"). */
  methods: Record<string, MethodDefinition>;
  /**
   * Serialized google.protobuf.FileDescriptorProtos: the file declaring this service and every file it
   * imports, transitively (more files do no harm). Server reflection describes the service from these
   * alone; without them it neither lists nor describes it. loadProto fills this in; for a service from
   * another codec, pass its files, e.g. for protobuf-es:
   * `() => [file, ...deps].map((f) => toBinary(FileDescriptorProtoSchema, f.proto))`.
   */
  fileDescriptors?: () => Uint8Array[];
}

/** A method's streaming shape. */
export type CallKind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';

export function callKind(method: MethodDefinition): CallKind {
  if (method.requestStream) return method.responseStream ? 'bidi' : 'clientStream';
  return method.responseStream ? 'serverStream' : 'unary';
}

/** "UnaryCall" -> "unaryCall": the name stubs and handler objects also answer to. */
export function lowerCamel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
