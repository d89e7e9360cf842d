import type { ServerCallContext } from './context.js';

/** Handler shapes for the four call modes. */
export type UnaryHandler<Req = any, Res = any> = (request: Req, ctx: ServerCallContext) => Res | Promise<Res>;
export type ServerStreamHandler<Req = any, Res = any> = (
  request: Req,
  ctx: ServerCallContext,
) => AsyncIterable<Res> | Iterable<Res>;
export type ClientStreamHandler<Req = any, Res = any> = (
  requests: AsyncIterable<Req>,
  ctx: ServerCallContext,
) => Res | Promise<Res>;
export type BidiHandler<Req = any, Res = any> = (
  requests: AsyncIterable<Req>,
  ctx: ServerCallContext,
) => AsyncIterable<Res> | Iterable<Res>;

export type AnyHandler = UnaryHandler | ServerStreamHandler | ClientStreamHandler | BidiHandler;

/** An implementation object: handlers keyed by method name ("UnaryCall") or its lowerCamel form ("unaryCall"). */
export type ServiceImplementation = Record<string, AnyHandler>;
