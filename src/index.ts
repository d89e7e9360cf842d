/**
 * tsgrpc: a pure-TypeScript gRPC stack on node:http2.
 * Server and Channel/createClient are the native API; the wire helpers are
 * exported for tools and tests that speak the protocol directly.
 */
export * from './wire/status.js';
export * from './wire/metadata.js';
export { GrpcError } from './wire/error.js';
export { FrameDecoder, encodeFrame, framePrefix, type FrameDecoderOptions } from './wire/frame.js';
export type { CallKind, MessageCodec, MethodDefinition, ServiceDefinition } from './service.js';
export { defineService, type MethodSpec } from './codecs/define-service.js';
export { protobufEsCodec, protobufEsService } from './codecs/protobuf-es.js';
export type { ProtobufEsFile, ProtobufEsRuntime, ProtobufEsSchema, ProtobufEsServiceDesc } from './codecs/protobuf-es.js';
export { tsProtoCodec, type TsProtoMessageFns } from './codecs/ts-proto.js';
export { Server } from './server/server.js';
export type { ServerOptions, ServerCallContext } from './server/server.js';
export type { ServerInterceptor, ServerHooks, ServerCallStatus, ServerMethodInfo } from './server/interceptors.js';
export type { AuthContext, PeerCertificate } from './server/auth-context.js';
export { Channel } from './client/channel.js';
export type { ChannelOptions } from './client/channel.js';
export { ConnectivityState } from './transport/connectivity.js';
export { createClient } from './client/stub.js';
export type { Client } from './client/stub.js';
export { ResponseStream, BidiStream } from './client/streams.js';
export type { CallOptions } from './client/call-options.js';
export { withWriteOptions, MessageWithOptions, type WriteOptions, type RequestSource } from './client/write-options.js';
export { interceptCall } from './client/interceptors.js';
export type { ClientInterceptor, ClientHooks, ClientCallInfo, ClientCallStatus, CallListener, OutgoingCall } from './client/interceptors.js';
export { CallCredentials } from './client/call-credentials.js';
export type { CallCredentialsContext, MetadataGenerator, InsecureCallCredentialsPolicy } from './client/call-credentials.js';
export { loadProto, loadProtoSync, fromRoot } from './protobuf/load.js';
export type { ProtoPackage, LoadOptions, ProtoSource } from './protobuf/load.js';
export { messageCodec } from './protobuf/codec.js';
export type { CodecOptions } from './protobuf/codec.js';
export { DEFAULT_MESSAGE_OPTIONS } from './protobuf/options.js';
export type { MessageOptions, ParseOptions, ResolvedMessageOptions } from './protobuf/options.js';
export { parseTimeout, encodeTimeout } from './wire/timeout.js';
export { percentEncode, percentDecode } from './wire/percent.js';
export type { RichStatus } from './wire/status-details.js';
export { encodeStatusDetails, decodeStatusDetails } from './wire/status-details.js';
export type { AnyHandler, ServiceImplementation, UnaryHandler, ServerStreamHandler, ClientStreamHandler, BidiHandler } from './server/handlers.js';
export type { ClientTlsOptions } from './transport/client-connection.js';
export type { ServerTlsOptions } from './server/server.js';
export { generateTypeScript, type GenerateOptions } from './protobuf/codegen.js';
export { HealthService, type ServingStatus, type SettableStatus } from './health/index.js';
export { ReflectionService } from './reflection/index.js';
// Naming and load balancing plug-ins (see README "Targets, load balancing and service config").
export { registerResolver, FixedResolver } from './transport/resolver.js';
export type { Resolver, ResolverFactory, ResolverListener, ResolverOptions, ResolverUpdate } from './transport/resolver.js';
export type { Address, TargetUri } from './transport/target-uri.js';
export { formatAddress } from './transport/target-uri.js';
export { registerLoadBalancer, loadBalancerFactory, waitPicker, failPicker, readyPicker } from './transport/load-balancer.js';
export type { LoadBalancer, LoadBalancerFactory, BalancerHelper, SubchannelHandle, Picker, Pick } from './transport/load-balancer.js';
export { parseServiceConfig } from './transport/service-config.js';
export type { ServiceConfig, MethodConfig, RetryPolicy, HedgingPolicy, RetryThrottling, LoadBalancingChoice } from './transport/service-config.js';
export { EVENT_CHANNELS, observe } from './observability/events.js';
export type { CallEvent, CallMessageEvent, ConnectionEvent, Observer } from './observability/events.js';
export { setTraceSink, setTracers, type LogSink } from './observability/trace.js';
