import { deprecate } from 'node:util';
import { GrpcError, Server as NativeServer, Status, type ServerCallContext, type ServiceDefinition as NativeService } from '../index.js';
import { serverSettings, type ChannelOptions } from './channel-options.js';
import { serverTls } from './credentials.js';
import {
  ServerDuplexStream, ServerReadableStream, ServerUnaryCall, ServerWritableStream,
  handlerThrew, unaryCallback, type sendUnaryData,
} from './server-calls.js';
import { methodType, toBuffer, type MethodType, type ServiceDefinition } from './service-definition.js';
import type { ServerCredentials } from './credentials.js';
import { bridgeServerInterceptors } from './server-interceptor-bridge.js';
import type { ServerInterceptor, ServerMethodDefinition } from './server-interceptors.js';

/** A unary handler: gets the call (request in `call.request`) and sends one response or error through the callback. */
export type handleUnaryCall<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;
/** A client-streaming handler: reads requests from the call stream and sends one response or error through the callback. */
export type handleClientStreamingCall<Req, Res> = (call: ServerReadableStream<Req, Res>, callback: sendUnaryData<Res>) => void;
/** A server-streaming handler: gets the request in `call.request` and writes responses to the call stream. */
export type handleServerStreamingCall<Req, Res> = (call: ServerWritableStream<Req, Res>) => void;
/** A bidirectional-streaming handler: reads requests from and writes responses to the call stream. */
export type handleBidiStreamingCall<Req, Res> = (call: ServerDuplexStream<Req, Res>) => void;
/** Any of the four handler shapes. */
export type HandleCall<Req, Res> =
  | handleUnaryCall<Req, Res> | handleClientStreamingCall<Req, Res>
  | handleServerStreamingCall<Req, Res> | handleBidiStreamingCall<Req, Res>;
/** A service implementation: handlers by method name (or by the method's original name). */
export type UntypedServiceImplementation = Record<string, HandleCall<any, any>>;

interface Registered {
  type: MethodType;
  impl: (...args: any[]) => void;
  serialize: (value: any) => Buffer;
  deserialize: (bytes: Buffer) => any;
}

/** One bindAsync: its own native server, so that unbind and drain act on that port alone. */
interface Bound {
  native: NativeServer;
  port: number;
  /** Paths already routed into this native server. */
  paths: Set<string>;
}

const warnStart = deprecate(() => {}, 'Calling start() is no longer necessary. It can be safely omitted.');

/**
 * grpc-js's Server on the native one. grpc-js routes by method path, and
 * services can be removed and added again while serving; each path is routed
 * once into the native server, to a handler that looks up what is
 * registered now.
 */
export class Server {
  private readonly handlers = new Map<string, Registered>();
  private readonly bound = new Map<string, Bound>();
  private readonly pending = new Map<string, Promise<number>>();
  /** The call shape each path was routed with: the native routes outlive removeService. */
  private readonly routedTypes = new Map<string, MethodType>();
  private readonly nativeOptions;
  private shutdown = false;

  /** Makes a server with grpc-js channel options and optional server interceptors; options tsgrpc cannot honour throw. */
  constructor(options: ChannelOptions & { interceptors?: ServerInterceptor[] } = {}) {
    const { interceptors, ...channelOptions } = options;
    this.nativeOptions = serverSettings(channelOptions);
    if (interceptors !== undefined && !Array.isArray(interceptors)) throw new TypeError('the interceptors option must be an array');
    if (interceptors && interceptors.length > 0) {
      this.nativeOptions.interceptors = [bridgeServerInterceptors(interceptors, (path) => this.describe(path))];
    }
  }

  /** grpc-js's description of a registered method, as its server interceptors receive it. */
  private describe(path: string): ServerMethodDefinition | undefined {
    const registered = this.handlers.get(path);
    if (!registered) return undefined;
    const stream = { requestStream: registered.type === 'clientStream' || registered.type === 'bidi', responseStream: registered.type === 'serverStream' || registered.type === 'bidi' };
    return { path, ...stream, requestDeserialize: registered.deserialize, responseSerialize: registered.serialize };
  }

  /** Registers a service's handlers; every method needs one (a missing handler answers UNIMPLEMENTED), and a path can be added only once. */
  addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    if (service === null || typeof service !== 'object' || implementation === null || typeof implementation !== 'object') {
      throw new Error('addService() requires two objects as arguments');
    }
    const names = Object.keys(service);
    if (names.length === 0) throw new Error('Cannot add an empty service to a server');
    for (const name of names) {
      const attrs = service[name];
      const type = methodType(attrs);
      let impl = implementation[name] ?? (typeof attrs.originalName === 'string' ? implementation[attrs.originalName] : undefined);
      impl = impl === undefined ? unimplemented(type, name) : impl.bind(implementation);
      if (this.handlers.has(attrs.path)) throw new Error(`Method handler for ${attrs.path} already provided.`);
      const routed = this.routedTypes.get(attrs.path);
      if (routed !== undefined && routed !== type) {
        throw new Error(`tsgrpc/grpc-js: ${attrs.path} was served as a ${routed} method; serving it as ${type} needs a new Server`);
      }
      this.handlers.set(attrs.path, { type, impl, serialize: attrs.responseSerialize, deserialize: attrs.requestDeserialize });
      for (const bound of this.bound.values()) this.route(bound, attrs.path);
    }
  }

  /** Stops serving a service's methods; calls to them then fail with UNIMPLEMENTED. */
  removeService(service: ServiceDefinition): void {
    if (service === null || typeof service !== 'object') throw new Error('removeService() requires object as argument');
    for (const attrs of Object.values(service)) this.handlers.delete(attrs.path);
  }

  /** Listens on `port` (e.g. `'0.0.0.0:50051'`, `'[::]:0'`, `'unix:/path'`) and calls back with the port actually bound, or an error. */
  bindAsync(port: string, creds: ServerCredentials, callback: (error: Error | null, port: number) => void): void {
    if (this.shutdown) throw new Error('bindAsync called after shutdown');
    if (typeof port !== 'string') throw new TypeError('port must be a string');
    const tls = serverTls(creds);
    if (typeof callback !== 'function') throw new TypeError('callback must be a function');
    const done = (error: Error | null, boundPort: number) => process.nextTick(() => callback(error, boundPort));
    const address = normalizeAddress(port);
    const existing = this.bound.get(address);
    if (existing) return done(null, existing.port);
    let binding = this.pending.get(address);
    if (!binding) {
      binding = this.listenOn(address, tls);
      this.pending.set(address, binding);
      binding.then(() => this.pending.delete(address), () => this.pending.delete(address));
    }
    binding.then((p) => done(null, p), (err: Error) => done(err, -1));
  }

  private async listenOn(address: string, tls: ReturnType<typeof serverTls>): Promise<number> {
    const native = new NativeServer({ ...this.nativeOptions, tls });
    const bound: Bound = { native, port: 0, paths: new Set() };
    for (const path of this.handlers.keys()) this.route(bound, path);
    try {
      bound.port = await native.listen(address);
    } catch (err) {
      throw new Error(`No address added out of total 1 resolved errors: [${(err as Error).message}]`);
    }
    if (this.shutdown) {
      native.forceShutdown();
      throw new Error('bindAsync operation cancelled by shutdown');
    }
    // Port 0 is remembered under the port it got, as grpc-js does for unbind and drain.
    const key = address.startsWith('unix:') ? address : address.replace(/:0$/, `:${bound.port}`);
    this.bound.set(key, bound);
    return address.startsWith('unix:') ? 0 : bound.port;
  }

  /** Routes a path into a native server, once; the handler consults the current registration per call. */
  private route(bound: Bound, path: string): void {
    if (bound.paths.has(path)) return;
    bound.paths.add(path);
    const type = this.handlers.get(path)!.type;
    this.routedTypes.set(path, type);
    const lookup = () => this.handlers.get(path);
    const service: NativeService = {
      name: path,
      methods: {
        call: {
          name: 'call',
          path,
          requestStream: type === 'clientStream' || type === 'bidi',
          responseStream: type === 'serverStream' || type === 'bidi',
          serializeRequest: () => new Uint8Array(),
          deserializeResponse: () => undefined,
          serializeResponse: (value) => lookup()!.serialize(value),
          // A removed method's requests are not decoded: the handler answers UNIMPLEMENTED.
          deserializeRequest: (bytes) => {
            const current = lookup();
            return current ? current.deserialize(toBuffer(bytes)) : bytes;
          },
        },
      },
    };
    bound.native.addService(service, { call: nativeHandler(path, type, lookup) });
  }

  /** Stops listening on a bound port and, as grpc-js does, closes its connections gracefully: calls in flight finish. */
  unbind(port: string): void {
    const address = normalizeAddress(port);
    if (/:0$/.test(address) && !address.startsWith('unix:')) throw new Error('Cannot unbind port 0');
    const bound = this.bound.get(address);
    if (!bound) return;
    this.bound.delete(address);
    void bound.native.shutdown(Infinity);
  }

  /** Gracefully closes the connections of a bound port; after graceTimeMs, the rest are cut. */
  drain(port: string, graceTimeMs: number): void {
    const address = normalizeAddress(port);
    if (/:0$/.test(address) && !address.startsWith('unix:')) throw new Error('Cannot drain port 0');
    const bound = this.bound.get(address);
    if (!bound) return;
    this.bound.delete(address);
    void bound.native.shutdown(graceTimeMs);
  }

  /** Stops accepting calls and calls back once the calls in progress have finished. */
  tryShutdown(callback: (error?: Error) => void): void {
    this.shutdown = true;
    const servers = [...this.bound.values()].map((b) => b.native);
    this.bound.clear();
    Promise.all(servers.map((s) => s.shutdown(Infinity))).then(() => callback(), (err: Error) => callback(err));
  }

  /** Stops the server at once, cancelling the calls in progress. */
  forceShutdown(): void {
    this.shutdown = true;
    for (const bound of this.bound.values()) bound.native.forceShutdown();
    this.bound.clear();
  }

  /** @deprecated grpc-js no longer needs it; kept as a no-op that warns. */
  start(): void {
    if (this.bound.size === 0) throw new Error('server must be bound in order to start');
    warnStart();
  }

  /** Throws, as in grpc-js: use `addService()`. */
  addProtoService(): never {
    throw new Error('Not implemented. Use addService() instead');
  }

  /** Throws, as in grpc-js: use `bindAsync()`. */
  bind(): never {
    throw new Error('Not implemented. Use bindAsync() instead');
  }
}

/** "localhost:50051", "[::]:0", "0.0.0.0:0", "unix:/path", "dns:host:port" -> what the native server listens on. */
function normalizeAddress(port: string): string {
  if (port.startsWith('unix:')) return port;
  return port.replace(/^dns:(?:\/\/[^/]*\/)?/, '');
}

function unimplemented(type: MethodType, name: string): (...args: any[]) => void {
  const status = { code: Status.UNIMPLEMENTED, details: `The server does not implement the method ${name}` };
  if (type === 'unary' || type === 'clientStream') return (_call, callback: sendUnaryData<unknown>) => callback(status, null);
  return (call: ServerWritableStream<unknown, unknown>) => call.emit('error', status);
}

function nativeHandler(path: string, type: MethodType, lookup: () => Registered | undefined) {
  const handlerFor = (): Registered['impl'] => {
    const current = lookup();
    if (!current) throw new GrpcError(Status.UNIMPLEMENTED, `The server does not implement the method ${path}`);
    return current.impl;
  };
  // Unary and client streaming: the grpc-js callback settles the native handler's promise.
  const withCallback = (Call: typeof ServerUnaryCall | typeof ServerReadableStream) => (input: any, ctx: ServerCallContext) => {
    const impl = handlerFor();
    return new Promise((resolve, reject) => {
      const call = new Call(ctx, input);
      try {
        impl(call, unaryCallback(call, resolve, reject));
      } catch (err) {
        reject(handlerThrew(call, err));
      }
    });
  };
  // Server streaming and bidi: what the handler writes is what the native server sends.
  const withStream = (Call: typeof ServerWritableStream | typeof ServerDuplexStream) => (input: any, ctx: ServerCallContext) => {
    const impl = handlerFor();
    const call = new Call(ctx, input);
    try {
      impl(call);
    } catch (err) {
      throw handlerThrew(call, err);
    }
    return call._outbox;
  };
  switch (type) {
    case 'unary': return withCallback(ServerUnaryCall);
    case 'clientStream': return withCallback(ServerReadableStream);
    case 'serverStream': return withStream(ServerWritableStream);
    case 'bidi': return withStream(ServerDuplexStream);
  }
}
