/*  ## tsgrpc API contract (being implemented right now in /work/main/src by the lead; read src/index.ts for the final names)
  Import everything from `src/index.ts` (compiled to `dist/src/index.js`; project is ESM, `"type": "module"`, imports use `.js` suffixes, TypeScript `module: NodeNext`, strict).
  
  - `loadProto(files: string | string[], opts?: { includeDirs?: string[] }): Promise<ProtoPackage>` and `loadProtoSync(...)` (src/protobuf/load.ts).
    `ProtoPackage` has `services: Record<string, ServiceDefinition>` keyed by fully-qualified name (e.g. 'grpc.testing.TestService'),
    and `root: protobuf.Root` (protobufjs Root, for `root.lookupType('grpc.testing.SimpleRequest')` etc.).
    Messages are plain protobufjs message objects: camelCase field names (`responseSize`, `fillUsername`), `bytes` fields are Buffer/Uint8Array,
    enums are numbers, int64 are numbers (or Long). Serialize = `Type.encode(obj).finish()`, deserialize = `Type.decode(buf)`.
  - `interface MethodDefinition<Req, Res> { name: string ( 'UnaryCall' ); path: string ( '/grpc.testing.TestService/UnaryCall' );
     requestStream: boolean; responseStream: boolean; serializeRequest(v: Req): Uint8Array; deserializeRequest(b: Uint8Array): Req;
     serializeResponse(v: Res): Uint8Array; deserializeResponse(b: Uint8Array): Res }`
    `interface ServiceDefinition { name: string; methods: Record<string, MethodDefinition> }` — you can also build one by hand (e.g. raw Buffer identity serializers).
  - `Status` enum (OK=0 ... UNAUTHENTICATED=16), `GrpcError extends Error { code: Status; details: string; metadata: Metadata; statusDetails?: Buffer }`,
    `new GrpcError(code, details, metadata?)`.
  - `Metadata`: `new Metadata()`, `.set(key, value: string | Buffer)`, `.add(key, value)`, `.get(key)` (first value or undefined), `.getAll(key)`, `.has`, `.delete`, iterable of [key, value]. Keys ending in `-bin` hold Buffers.
  - Server: `const server = new Server({ maxReceiveMessageSize?, maxSendMessageSize?, tls?: { key, cert, ca?, requestClientCert? } })`;
    `server.addService(service: ServiceDefinition, impl)` where impl keys are the method name ('UnaryCall') or its lowerCamel form ('unaryCall');
    handlers: unary `async (req, ctx) => res`; server-streaming `async function* (req, ctx) { yield res }`; client-streaming `async (requests: AsyncIterable<Req>, ctx) => res`;
    bidi `async function* (requests: AsyncIterable<Req>, ctx) { for await (const r of requests) yield res }`.
    `ctx`: `{ metadata: Metadata ( incoming ), deadline?: Date, signal: AbortSignal, peer: string, method: string, sendHeader(md?: Metadata): void,
    trailers: Metadata ( add trailing metadata here ), setResponseCompression(name: 'gzip'|'deflate'|'identity') }`.
    Throw `new GrpcError(code, msg)` to end with that status. `await server.listen('127.0.0.1:0')` resolves to the bound port number (also 'unix:/path').
    `await server.shutdown(graceMs?)` (graceful), `server.forceShutdown()`.
  - Client: `const channel = new Channel('127.0.0.1:50051', { tls?: { ca?, cert?, key?, serverNameOverride? }, maxReceiveMessageSize?, maxSendMessageSize? })`;
    `const client = createClient(service, channel)` gives lowerCamel methods (also original names):
    unary: `await client.unaryCall(req, opts?)`; server stream: `for await (const r of client.streamingOutputCall(req, opts?))`;
    client stream: `await client.streamingInputCall(asyncIterableOfReqs, opts?)`;
    bidi: `const call = client.fullDuplexCall(opts?); await call.write(req); call.end(); for await (const r of call) {...}`.
    Streaming call objects also have `headers: Promise<Metadata>`, `trailers: Promise<Metadata>`, `cancel()`.
    `opts: { timeout?: number ( ms ), deadline?: Date, signal?: AbortSignal, metadata?: Metadata, compression?: 'gzip'|'deflate'|'identity',
    onHeader?(md: Metadata): void, onTrailer?(md: Metadata): void }`. Failures reject/throw `GrpcError`. `channel.close()`.
  - Wire (pure, src/wire/frame.ts): `new FrameDecoder({ maxMessageSize, onMessage(payload: Buffer, compressed: boolean) })` with `.push(chunk: Buffer)` (throws GrpcError
    RESOURCE_EXHAUSTED when a frame length exceeds maxMessageSize), and `encodeFrame(payload: Uint8Array, compressed = false): Buffer[]` / `framePrefix(length, compressed): Buffer`.
*/
export * from './wire/status.js';
export * from './wire/metadata.js';
export { GrpcError } from './wire/error.js';
export { FrameDecoder, encodeFrame, framePrefix } from './wire/frame.js';
export type { MethodDefinition, ServiceDefinition } from './service.js';
export { Server } from './server/server.js';
export type { ServerOptions, ServerCallContext } from './server/server.js';
export { Channel } from './client/channel.js';
export type { ChannelOptions } from './client/channel.js';
export { createClient } from './client/stub.js';
export type { Client } from './client/stub.js';
export { ResponseStream, BidiStream } from './client/streams.js';
export type { CallOptions } from './client/call-options.js';
export { loadProto, loadProtoSync, fromRoot } from './protobuf/load.js';
export type { ProtoPackage, LoadOptions } from './protobuf/load.js';
export { parseTimeout, encodeTimeout } from './wire/timeout.js';
export { percentEncode, percentDecode } from './wire/percent.js';
export type { RichStatus } from './wire/status-details.js';
export { encodeStatusDetails, decodeStatusDetails } from './wire/status-details.js';
export type { ServiceImplementation, UnaryHandler, ServerStreamHandler, ClientStreamHandler, BidiHandler } from './server/handlers.js';
export type { ClientTlsOptions } from './transport/client-connection.js';
export type { ServerTlsOptions } from './server/server.js';
