import { GrpcError, Metadata as NativeMetadata, Status, type ServerCallContext, type ServerHooks, type ServerInterceptor as NativeServerInterceptor, type ServerMethodInfo } from '../index.js';
import { grpcJsAuthContext } from './auth-context.js';
import { grpcErrorOf } from './errors.js';
import { fromNative, toNative, type Metadata } from './metadata.js';
import type {
  InterceptingServerListener, PartialStatusObject, ServerInterceptingCallInterface, ServerInterceptor, ServerMethodDefinition,
} from './server-interceptors.js';

/**
 * One native server interceptor that runs a grpc-js server interceptor chain
 * per call. The chain's bottom stands for the transport (the native hooks
 * feed it what arrives and take what it sends); its top stands for the
 * handler side (what reaches it goes on to the native handler).
 */
export function bridgeServerInterceptors(interceptors: readonly ServerInterceptor[], describe: (path: string) => ServerMethodDefinition | undefined): NativeServerInterceptor {
  return (ctx, method) => {
    const descriptor = describe(method.definition.path);
    if (!descriptor) return undefined;
    return new ChainCall(ctx, method, descriptor, interceptors).hooks();
  };
}

type Waiter<T> = { resolve: (value: T) => void; reject: (error: GrpcError) => void };

function nativeStatusError(status: PartialStatusObject): GrpcError | undefined {
  if (status.code === Status.OK) return undefined;
  return grpcErrorOf(status.code, status.details, status.metadata);
}

class ChainCall implements ServerInterceptingCallInterface {
  private below: InterceptingServerListener | undefined;
  private readonly top: ServerInterceptingCallInterface;
  /** The incoming event now travelling up the chain, released when it reaches the top. */
  private incoming: Waiter<unknown> | undefined;
  /** The outgoing event now travelling down the chain, released when it reaches the bottom. */
  private outgoing: Waiter<unknown> | undefined;
  /** A status an interceptor sent on its own (e.g. an auth check that refuses the call). */
  private refused: GrpcError | undefined;

  constructor(private readonly ctx: ServerCallContext, _method: ServerMethodInfo, descriptor: ServerMethodDefinition, interceptors: readonly ServerInterceptor[]) {
    this.top = interceptors.reduce<ServerInterceptingCallInterface>((call, interceptor) => interceptor(descriptor, call), this);
    // The handler side listens at the top: what arrives there goes on to the native handler.
    this.top.start({
      onReceiveMetadata: (md) => this.incoming?.resolve(md),
      onReceiveMessage: (message) => this.incoming?.resolve(message),
      onReceiveHalfClose: () => this.incoming?.resolve(undefined),
      onCancel: () => {},
    });
  }

  hooks(): ServerHooks {
    return {
      onReceiveMetadata: async (md, next) => next(toNative((await this.up((l) => l.onReceiveMetadata(fromNative(md)))) as Metadata) ?? new NativeMetadata()),
      onReceiveMessage: async (message, next) => next(await this.up((l) => l.onReceiveMessage(message))),
      onReceiveHalfClose: async (next) => {
        await this.up((l) => l.onReceiveHalfClose());
        next();
      },
      sendMetadata: async (md, next) => next(toNative((await this.down(() => this.top.sendMetadata(fromNative(md)))) as Metadata) ?? new NativeMetadata()),
      sendMessage: async (message, next) => next(await this.down(() => this.top.sendMessage(message, () => {}))),
      sendStatus: async (status, next) => {
        const sent = (await this.down(() => this.top.sendStatus({
          code: status.error?.code ?? Status.OK,
          details: status.error?.details ?? 'OK',
          metadata: fromNative(status.trailers),
        }))) as PartialStatusObject;
        const trailers = toNative(sent.metadata ?? undefined) ?? new NativeMetadata();
        next({ error: nativeStatusError(sent), trailers });
      },
      onCancel: () => this.below?.onCancel(),
    };
  }

  /** Sends an incoming event up from the bottom; resolves with what reaches the top. */
  private up(send: (listener: InterceptingServerListener) => void): Promise<unknown> {
    if (this.refused) return Promise.reject(this.refused);
    return new Promise((resolve, reject) => {
      this.incoming = { resolve, reject };
      send(this.below!);
    });
  }

  /** Sends an outgoing event down from the top; resolves with what reaches the bottom. */
  private down(send: () => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.outgoing = { resolve, reject };
      send();
    });
  }

  // The bottom of the chain: ServerInterceptingCallInterface toward the transport.

  start(listener: InterceptingServerListener): void {
    this.below = listener;
  }

  sendMetadata(metadata: Metadata): void {
    this.outgoing?.resolve(metadata);
  }

  sendMessage(message: unknown, callback: () => void): void {
    this.outgoing?.resolve(message);
    callback();
  }

  sendStatus(status: PartialStatusObject): void {
    if (this.outgoing) return this.outgoing.resolve(status);
    // Sent by an interceptor while a request event was on its way up: the call ends with it.
    this.refused = nativeStatusError(status) ?? new GrpcError(Status.UNKNOWN, 'a server interceptor ended the call with OK before the handler ran');
    this.incoming?.reject(this.refused);
  }

  startRead(): void {}

  getPeer(): string {
    return this.ctx.peer;
  }

  getDeadline(): Date | number {
    return this.ctx.deadline?.getTime() ?? Infinity;
  }

  getAuthContext(): object {
    return grpcJsAuthContext(this.ctx);
  }
}

