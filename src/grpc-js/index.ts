/**
 * tsgrpc/grpc-js: @grpc/grpc-js's public API on the native tsgrpc stack, so
 * that a grpc-js program switches by changing its import. Features the
 * native stack does not have yet throw a clear error instead of being
 * silently ignored; docs/migrating-from-grpc-js.md lists them.
 */
export { status, logVerbosity, propagate, compressionAlgorithms, connectivityState } from './constants.js';
export { setLogger, setLogVerbosity } from './logging.js';
export { Metadata, type MetadataValue, type MetadataOptions } from './metadata.js';
export type { ServiceError, StatusObject, ServerErrorResponse } from './errors.js';
export { credentials, ChannelCredentials, CallCredentials, ServerCredentials, type KeyCertPair, type CallMetadataGenerator, type CallMetadataOptions, type GoogleCredentials, type HeaderSource, type VerifyOptions } from './credentials.js';
export { UnsupportedOptionError, type ChannelOptions } from './channel-options.js';
export {
  InterceptingCall, InterceptorConfigurationError, ListenerBuilder, RequesterBuilder, StatusBuilder,
  type Interceptor, type InterceptorProvider, type InterceptorOptions, type InterceptingCallInterface, type NextCall,
  type Listener, type FullListener, type InterceptingListener, type Requester, type FullRequester,
} from './client-interceptors.js';
export {
  ServerInterceptingCall, ServerListenerBuilder, ResponderBuilder,
  type ServerInterceptor, type ServerInterceptingCallInterface, type ServerListener, type FullServerListener,
  type InterceptingServerListener, type Responder, type FullResponder, type PartialStatusObject,
} from './server-interceptors.js';
export type { MethodDefinition, ServiceDefinition } from './service-definition.js';
export {
  Server,
  type UntypedServiceImplementation, type HandleCall,
  type handleUnaryCall, type handleClientStreamingCall, type handleServerStreamingCall, type handleBidiStreamingCall,
} from './server.js';
export { ServerUnaryCall, ServerReadableStream, ServerWritableStream, ServerDuplexStream, type sendUnaryData, type ServerSurfaceCall } from './server-calls.js';
export { Client, Channel, type CallOptions, type ClientOptions, type Deadline } from './client.js';
export { ClientUnaryCall, ClientReadableStream, ClientWritableStream, ClientDuplexStream, type UnaryCallback as requestCallback } from './client-calls.js';
export {
  makeClientConstructor, makeGenericClientConstructor, loadPackageDefinition,
  type ServiceClientConstructor, type GrpcObject, type PackageDefinition,
} from './make-client.js';

import { Client } from './client.js';

/** grpc-js's free functions over a client. */
export const closeClient = (client: Client): void => client.close();
/** Returns the channel a client makes its calls on, like `client.getChannel()`. */
export const getClientChannel = (client: Client) => client.getChannel();
/** Calls back once the client's channel is ready or the deadline passes, like `client.waitForReady()`. */
export const waitForClientReady = (client: Client, deadline: Date | number, callback: (error?: Error) => void): void =>
  client.waitForReady(deadline, callback);

/** Removed from grpc-js too: .proto files are loaded with @grpc/proto-loader. */
export function load(): never {
  throw new Error('Not available in this library. Use @grpc/proto-loader and loadPackageDefinition instead');
}
/** Removed from grpc-js too: throws, pointing to @grpc/proto-loader and `loadPackageDefinition`. */
export const loadObject = load;

/** Throws: grpc-js's admin services (channelz, CSDS) are not supported by tsgrpc. */
export function addAdminServicesToServer(): never {
  throw new Error('tsgrpc/grpc-js: admin services (channelz, CSDS) are not supported');
}
/** Throws: channelz is not supported by tsgrpc. */
export const getChannelzServiceDefinition = addAdminServicesToServer;
/** Throws: channelz is not supported by tsgrpc. */
export const getChannelzHandlers = addAdminServicesToServer;
