import type { ServerCallContext } from './context.js';

/** Handles a unary call: one request in, one response out (or a promise of it). Throw a GrpcError to fail the call with its status. */
export type UnaryHandler<Req = any, Res = any> = (request: Req, ctx: ServerCallContext) => Res | Promise<Res>;
/** Handles a server-streaming call: one request in; yield (or return an iterable of) the responses. */
export type ServerStreamHandler<Req = any, Res = any> = (
  request: Req,
  ctx: ServerCallContext,
) => AsyncIterable<Res> | Iterable<Res>;
/** Handles a client-streaming call: iterate the requests, return the one response. */
export type ClientStreamHandler<Req = any, Res = any> = (
  requests: AsyncIterable<Req>,
  ctx: ServerCallContext,
) => Res | Promise<Res>;
/** Handles a bidirectional call: iterate the requests and yield responses, in any interleaving. */
export type BidiHandler<Req = any, Res = any> = (
  requests: AsyncIterable<Req>,
  ctx: ServerCallContext,
) => AsyncIterable<Res> | Iterable<Res>;

/** A handler of any of the four shapes. */
export type AnyHandler = UnaryHandler | ServerStreamHandler | ClientStreamHandler | BidiHandler;

/** An implementation object: handlers keyed by method name ("UnaryCall") or its lowerCamel form ("unaryCall"). */
export type ServiceImplementation = Record<string, AnyHandler>;
