import { GrpcError, Metadata as NativeMetadata, Status, type CallListener, type ClientInterceptor, type OutgoingCall } from '../index.js';
import { chainCall, type InterceptingCallInterface, type InterceptingListener, type Interceptor, type InterceptorOptions, type MessageContext } from './client-interceptors.js';
import { grpcErrorOf, metadataOf, type StatusObject } from './errors.js';
import { fromNative, toNative, type Metadata } from './metadata.js';

const NO_COMPRESS = 2;

/**
 * One native client interceptor that runs a grpc-js interceptor chain: the
 * native call below becomes the grpc-js chain's bottom call, and the chain's
 * top becomes the native call the layers above talk to. Messages are values
 * (not bytes) on both sides, as in grpc-js.
 */
export function bridgeInterceptors(interceptors: readonly Interceptor[], options: InterceptorOptions, peer: string): ClientInterceptor {
  return (_info, next) => new ChainAbove(chainCall(interceptors, options, (given) => {
    checkUnchanged(options, given);
    return new NativeBelow(next(), peer);
  }));
}

/** Options the native call was started with; an interceptor that changes them for nextCall cannot be honoured. */
const FIXED_OPTIONS = ['deadline', 'credentials', 'host', 'parent', 'propagate_flags'] as const;

function checkUnchanged(original: InterceptorOptions, given: InterceptorOptions): void {
  for (const key of FIXED_OPTIONS) {
    const before = original[key];
    const after = given[key];
    const same = before === after || (before instanceof Date && after instanceof Date && before.getTime() === after.getTime());
    if (!same) {
      throw new GrpcError(Status.INTERNAL, `tsgrpc/grpc-js: an interceptor changed CallOptions.${key} for nextCall, which is not supported yet; set it on the call instead`);
    }
  }
}

function nativeMetadata(md: Metadata | undefined): NativeMetadata {
  return toNative(md) ?? new NativeMetadata();
}

/** The native call under the grpc-js chain, seen as a grpc-js InterceptingCall. */
class NativeBelow implements InterceptingCallInterface {
  constructor(private readonly call: OutgoingCall, private readonly peer: string) {}

  start(metadata: Metadata, listener?: Partial<InterceptingListener>): void {
    this.call.start(nativeMetadata(metadata), {
      onReceiveMetadata: (md) => listener?.onReceiveMetadata?.(fromNative(md)),
      onReceiveMessage: (message) => listener?.onReceiveMessage?.(message),
      onReceiveStatus: ({ error, trailers }) => {
        const status: StatusObject = error
          ? { code: error.code, details: error.details, metadata: metadataOf(error, trailers) }
          : { code: Status.OK, details: 'OK', metadata: fromNative(trailers) };
        listener?.onReceiveStatus?.(status);
      },
    });
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    const compress = context.flags === undefined || (context.flags & NO_COMPRESS) === 0;
    this.call.sendMessage(message, compress).then(() => context.callback?.(), (err: Error) => context.callback?.(err));
  }

  sendMessage(message: unknown): void {
    this.sendMessageWithContext({}, message);
  }

  halfClose(): void {
    this.call.halfClose();
  }

  cancelWithStatus(code: Status, details: string): void {
    this.call.cancel(new GrpcError(code, details));
  }

  /** Native calls deliver messages as they come; there is nothing to ask for. */
  startRead(): void {}

  getPeer(): string {
    return this.peer;
  }
}

/** The top of the grpc-js chain, seen by the native layers above as the call below them. */
class ChainAbove implements OutgoingCall {
  constructor(private readonly top: InterceptingCallInterface) {}

  start(metadata: NativeMetadata, listener: CallListener): void {
    this.top.start(fromNative(metadata), {
      onReceiveMetadata: (md) => listener.onReceiveMetadata(nativeMetadata(md)),
      onReceiveMessage: (message) => listener.onReceiveMessage(message),
      onReceiveStatus: (status) => {
        const error = status.code === Status.OK ? undefined : grpcErrorOf(status.code, status.details, status.metadata);
        listener.onReceiveStatus({ error, trailers: error?.metadata ?? nativeMetadata(status.metadata) });
      },
    });
  }

  sendMessage(message: unknown, compress?: boolean): Promise<void> {
    return new Promise((resolve) => {
      this.top.sendMessageWithContext({ callback: () => resolve(), flags: compress === false ? NO_COMPRESS : undefined }, message);
    });
  }

  halfClose(): void {
    this.top.halfClose();
  }

  cancel(error: GrpcError): void {
    this.top.cancelWithStatus(error.code, error.details);
  }
}
