import { Channel as NativeChannel, ConnectivityState, GrpcError, Status, type CallOptions as NativeCallOptions, type MethodDefinition as NativeMethod } from '../index.js';
import { Outbox, pullFrom } from './bridge.js';
import { clientSettings, type ChannelOptions } from './channel-options.js';
import {
  CallLink, ClientDuplexStream, ClientReadableStream, ClientUnaryCall, ClientWritableStream,
  endResponses, settleUnary, type UnaryCallback,
} from './client-calls.js';
import { connectivityState, propagate } from './constants.js';
import { callCredentialsOf, channelCallCredentials, channelTls, type ChannelCredentials } from './credentials.js';
import { interceptorsFor, InterceptorConfigurationError, type ClientMethodDefinition, type Interceptor, type InterceptorProvider } from './client-interceptors.js';
import { bridgeInterceptors } from './interceptor-bridge.js';
import { isMetadata, Metadata, toNative } from './metadata.js';
import { clientMethod } from './service-definition.js';

/** A deadline: a Date, or milliseconds since the epoch (`Infinity` for none). */
export type Deadline = Date | number;

/** grpc-js's per-call options. */
export interface CallOptions {
  /** When the call fails with DEADLINE_EXCEEDED if it has not finished. */
  deadline?: Deadline;
  /** Overrides the `:authority` the call is sent with. */
  host?: string;
  /** A server call (from a tsgrpc/grpc-js handler) whose deadline and cancellation this call inherits. */
  parent?: {
    /** The server call's internals that propagation reads (tsgrpc's own, not grpc-js's). */
    _ctx?: {
      /** The server call's deadline, if it has one. */
      deadline: Date | undefined;
      /** Aborted when the server call is cancelled. */
      signal: AbortSignal;
    };
  };
  /** grpc-js's `propagate` bit flags: which of the parent's deadline and cancellation to inherit. */
  propagate_flags?: number;
  /** Call credentials for this call alone, added to the channel's. */
  credentials?: unknown;
  /** Interceptors for this call, in place of the client's. */
  interceptors?: Interceptor[];
  /** Interceptor providers for this call, each asked for an interceptor given the method. */
  interceptor_providers?: InterceptorProvider[];
}

/** A client's options: grpc-js channel options, plus `channelOverride`, `channelFactoryOverride` and interceptors. */
export type ClientOptions = ChannelOptions;

function unsupported(what: string): never {
  throw new Error(`tsgrpc/grpc-js: ${what} is not supported yet; keep using @grpc/grpc-js for programs that need it`);
}

/**
 * grpc-js's Channel, for the parts tsgrpc can back today: one native channel
 * that clients can share through the `channelOverride` option.
 */
export class Channel {
  /** @internal */
  readonly _native: NativeChannel;
  /** @internal */
  readonly _compression: 'gzip' | 'deflate' | undefined;
  private readonly target: string;

  /** Opens a native channel to `target`; options tsgrpc cannot honour throw UnsupportedOptionError rather than being ignored. */
  constructor(target: string, credentials: ChannelCredentials, options: ChannelOptions = {}) {
    const settings = clientSettings(options);
    let tls = channelTls(credentials);
    if (settings.serverNameOverride !== undefined) {
      if (!tls) throw new Error('tsgrpc/grpc-js: "grpc.ssl_target_name_override" needs TLS credentials');
      tls = { ...tls, serverNameOverride: settings.serverNameOverride };
    }
    this.target = target;
    // grpc-js sends call credentials over any channel; composing them into channel credentials needs TLS (checked there).
    const callCredentials = channelCallCredentials(credentials);
    this._native = new NativeChannel(target, { ...settings.channel, tls, callCredentials, allowInsecureCallCredentials: true });
    this._compression = settings.compression;
  }

  /** The target the channel was made for. */
  getTarget(): string {
    return this.target;
  }

  /** Closes the channel; calls on it fail from then on. */
  close(): void {
    this._native.close();
  }

  /** The channel's connectivity state; with `tryToConnect`, an idle channel starts connecting. */
  getConnectivityState(tryToConnect: boolean): connectivityState {
    return this._native.getState(tryToConnect) as number as connectivityState;
  }

  /** Calls back once the state is no longer `currentState`, or with an error when the deadline passes first. */
  watchConnectivityState(currentState: connectivityState, deadline: Deadline, callback: (error?: Error) => void): void {
    if (this._native.getState(false) === ConnectivityState.SHUTDOWN) throw new Error('Channel has been shut down');
    this._native.watchState(currentState as number as ConnectivityState, deadline).then(
      (changed) => (changed ? callback() : callback(new Error('Deadline passed without connectivity state change'))),
      (err: Error) => callback(err),
    );
  }

  /** Throws: tsgrpc has no call-level channel API; make calls through a Client. */
  createCall(): never {
    return unsupported('Channel.createCall (use a Client)');
  }
}

type Serialize = (value: any) => Buffer;
type CachedMethod = NativeMethod & { grpcJs: ClientMethodDefinition };
type Deserialize = (bytes: Buffer) => any;

/**
 * grpc-js's Client: one native Channel, and the four request methods with
 * grpc-js's argument overloads. Generated clients (makeClientConstructor)
 * are subclasses that fill in path and serializers.
 */
export class Client {
  private readonly channel: NativeChannel;
  private readonly compatChannel: Channel;
  private readonly compression: 'gzip' | 'deflate' | undefined;
  private readonly methods = new Map<string, CachedMethod>();
  private readonly interceptors: readonly Interceptor[];
  private readonly interceptorProviders: readonly InterceptorProvider[];

  /** Makes a client with its own channel to `address`, or shares one through the `channelOverride` or `channelFactoryOverride` option. */
  constructor(address: string, credentials: ChannelCredentials, options: ClientOptions = {}) {
    const { channelOverride, channelFactoryOverride, interceptors, interceptor_providers: providers, ...channelOptions } = options;
    this.interceptors = (interceptors as Interceptor[] | undefined) ?? [];
    this.interceptorProviders = (providers as InterceptorProvider[] | undefined) ?? [];
    if (this.interceptors.length > 0 && this.interceptorProviders.length > 0) {
      throw new InterceptorConfigurationError('Both interceptors and interceptor_providers were passed as options to the client constructor. Only one of these is allowed.');
    }
    if (channelOverride !== undefined) {
      if (!(channelOverride instanceof Channel)) unsupported('channelOverride with a channel that is not a tsgrpc/grpc-js Channel');
      // The override decides everything about the connection, as in grpc-js.
      this.compatChannel = channelOverride;
    } else if (channelFactoryOverride !== undefined) {
      if (typeof channelFactoryOverride !== 'function') throw new TypeError('channelFactoryOverride must be a function');
      const made: unknown = channelFactoryOverride(address, credentials, channelOptions);
      if (!(made instanceof Channel)) unsupported('a channelFactoryOverride that makes a channel other than a tsgrpc/grpc-js Channel');
      this.compatChannel = made;
    } else {
      this.compatChannel = new Channel(address, credentials, channelOptions);
    }
    this.channel = this.compatChannel._native;
    this.compression = this.compatChannel._compression;
  }

  /** Closes the client's channel (a shared channel too, as in grpc-js). */
  close(): void {
    this.channel.close();
  }

  /** The channel the client makes its calls on. */
  getChannel(): Channel {
    return this.compatChannel;
  }

  /** Connects, and calls back once the channel is READY, or with grpc-js's error when the deadline passes or the channel closes. */
  waitForReady(deadline: Deadline, callback: (error?: Error) => void): void {
    this.channel.waitForReady(deadline).then(
      () => callback(),
      (err: GrpcError) => callback(new Error(err.code === Status.UNAVAILABLE ? 'The channel has been closed' : 'Failed to connect before the deadline')),
    );
  }

  /** Starts a unary call; takes grpc-js's optional metadata and options before the callback that gets the response or error. */
  makeUnaryRequest<Req, Res>(method: string, serialize: Serialize, deserialize: Deserialize, argument: Req, ...rest: unknown[]): ClientUnaryCall {
    const { metadata, options, callback } = unaryArguments<Res>(rest[0], rest[1], rest[2]);
    const call = new ClientUnaryCall();
    const link = (call._link = new CallLink(call, this.compatChannel.getTarget()));
    const def = this.method(method, serialize, deserialize, false, false);
    settleUnary(call, this.channel.unary(def, argument, this.callOptions(link, def, metadata, options, call)), callback);
    return call;
  }

  /** Starts a client-streaming call: write requests to the returned stream, and the callback gets the one response or error. */
  makeClientStreamRequest<Req, Res>(method: string, serialize: Serialize, deserialize: Deserialize, ...rest: unknown[]): ClientWritableStream<Req> {
    const { metadata, options, callback } = unaryArguments<Res>(rest[0], rest[1], rest[2]);
    const call = new ClientWritableStream<Req>();
    const link = (call._link = new CallLink(call, this.compatChannel.getTarget()));
    const def = this.method(method, serialize, deserialize, true, false);
    const native = this.callOptions(link, def, metadata, options, call);
    const outbox = new Outbox<Req>();
    call._write = (chunk, _encoding, done) => outbox.push(chunk, () => done());
    call._final = (done) => {
      outbox.end();
      done();
    };
    const result = this.channel.clientStream(def, outbox, native);
    result.finally(() => outbox.close()).catch(() => {});
    settleUnary(call, result, callback);
    return call;
  }

  /** Starts a server-streaming call: the returned stream reads the responses. */
  makeServerStreamRequest<Req, Res>(method: string, serialize: Serialize, deserialize: Deserialize, argument: Req, metadata?: unknown, options?: unknown): ClientReadableStream<Res> {
    const args = streamArguments(metadata, options);
    const call = new ClientReadableStream<Res>();
    const link = (call._link = new CallLink(call, this.compatChannel.getTarget()));
    const def = this.method(method, serialize, deserialize, false, true);
    const responses = this.channel.serverStream(def, argument, this.callOptions(link, def, args.metadata, args.options, call));
    call._read = pullFrom(call, responses, (err) => endResponses(call, err), () => endResponses(call, undefined));
    // grpc-js reads as soon as the call starts; start pulling even before anyone listens for data.
    call.read(0);
    return call;
  }

  /** Starts a bidirectional-streaming call: the returned duplex stream writes requests and reads responses. */
  makeBidiStreamRequest<Req, Res>(method: string, serialize: Serialize, deserialize: Deserialize, metadata?: unknown, options?: unknown): ClientDuplexStream<Req, Res> {
    const args = streamArguments(metadata, options);
    const call = new ClientDuplexStream<Req, Res>();
    const link = (call._link = new CallLink(call, this.compatChannel.getTarget()));
    const def = this.method(method, serialize, deserialize, true, true);
    const stream = this.channel.bidi(def, this.callOptions(link, def, args.metadata, args.options, call));
    call._write = (chunk, _encoding, done) => {
      // A write that fails (serialization) fails the call; the status reports it.
      stream.write(chunk).then(() => done(), () => done());
    };
    call._final = (done) => {
      stream.end();
      done();
    };
    call._read = pullFrom(call, stream, (err) => endResponses(call, err), () => endResponses(call, undefined));
    call.read(0);
    return call;
  }

  /** The native method for a path, with grpc-js's description of it; cached so a call allocates none. */
  private method(path: string, serialize: Serialize, deserialize: Deserialize, requestStream: boolean, responseStream: boolean): CachedMethod {
    const cached = this.methods.get(path);
    if (cached && cached.grpcJs.requestSerialize === serialize && cached.grpcJs.responseDeserialize === deserialize) return cached;
    const grpcJs = { path, requestStream, responseStream, requestSerialize: serialize, responseDeserialize: deserialize };
    const method = Object.assign(clientMethod(path, serialize, deserialize, { requestStream, responseStream }), { grpcJs });
    this.methods.set(path, method);
    return method;
  }

  /** `metadata` is undefined when the caller gave none: most calls, and they need no Metadata object. */
  private callOptions(link: CallLink, method: CachedMethod, metadata: Metadata | undefined, options: CallOptions, call: { once(event: 'status', fn: () => void): unknown }): NativeCallOptions {
    if (this.channel.getState(false) === ConnectivityState.SHUTDOWN) throw new Error('Channel has been shut down');
    const native: NativeCallOptions = {};
    if (options.host !== undefined) native.authority = options.host;
    if (options.credentials !== undefined) native.callCredentials = callCredentialsOf(options.credentials);
    if (this.interceptors.length > 0 || this.interceptorProviders.length > 0 || options.interceptors?.length || options.interceptor_providers?.length) {
      const chain = interceptorsFor({
        clientInterceptors: this.interceptors,
        clientInterceptorProviders: this.interceptorProviders,
        callInterceptors: options.interceptors ?? [],
        callInterceptorProviders: options.interceptor_providers ?? [],
      }, method.grpcJs);
      if (chain.length > 0) native.interceptors = [bridgeInterceptors(chain, { ...options, method_definition: method.grpcJs }, link.peer)];
    }
    if (metadata?.getOptions?.().waitForReady) native.waitForReady = true;
    const md = toNative(metadata);
    if (md) native.metadata = md;
    if (this.compression) native.compression = this.compression;
    let deadline = toDate(options.deadline);
    const parent = options.parent?._ctx;
    if (options.parent !== undefined && !parent) unsupported('CallOptions.parent that is not a tsgrpc/grpc-js server call');
    if (parent) {
      const flags = options.propagate_flags ?? propagate.DEFAULTS;
      if (flags & propagate.DEADLINE && parent.deadline && (!deadline || parent.deadline < deadline)) deadline = parent.deadline;
      if (flags & propagate.CANCELLATION) {
        const signal = parent.signal;
        const onAbort = () => link.cancel();
        if (signal.aborted) queueMicrotask(onAbort);
        else {
          signal.addEventListener('abort', onAbort, { once: true });
          call.once('status', () => signal.removeEventListener('abort', onAbort));
        }
      }
    }
    if (deadline) native.deadline = deadline;
    return link.nativeOptions(native);
  }
}

function toDate(deadline: Deadline | undefined): Date | undefined {
  if (deadline === undefined || deadline === null) return undefined;
  if (deadline instanceof Date) return deadline;
  if (typeof deadline === 'number') return deadline === Infinity ? undefined : new Date(deadline);
  throw new TypeError('deadline must be a Date or a number of milliseconds since the epoch');
}

const isFunction = (value: unknown): value is (...args: any[]) => void => typeof value === 'function';

/** grpc-js's (metadata?, options?, callback) overloads; Metadata recognised by shape. */
const NO_OPTIONS: CallOptions = Object.freeze({});

function unaryArguments<Res>(arg1: unknown, arg2: unknown, arg3: unknown): { metadata: Metadata | undefined; options: CallOptions; callback: UnaryCallback<Res> } {
  if (isFunction(arg1)) return { metadata: undefined, options: NO_OPTIONS, callback: arg1 };
  if (isFunction(arg2)) {
    if (isMetadata(arg1)) return { metadata: arg1, options: NO_OPTIONS, callback: arg2 };
    return { metadata: undefined, options: (arg1 ?? NO_OPTIONS) as CallOptions, callback: arg2 };
  }
  if (!(isMetadata(arg1) && arg2 instanceof Object && isFunction(arg3))) throw new Error('Incorrect arguments passed');
  return { metadata: arg1, options: arg2 as CallOptions, callback: arg3 };
}

function streamArguments(arg1: unknown, arg2: unknown): { metadata: Metadata | undefined; options: CallOptions } {
  if (isMetadata(arg1)) return { metadata: arg1, options: (arg2 ?? NO_OPTIONS) as CallOptions };
  return { metadata: undefined, options: (arg1 ?? NO_OPTIONS) as CallOptions };
}
