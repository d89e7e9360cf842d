import http2 from 'node:http2';
import type { Socket } from 'node:net';
import { lowerCamel, type ServiceDefinition } from '../service.js';
import { CONNECTION_WINDOW, DEFAULT_MAX_RECEIVE, DEFAULT_MAX_SEND, STREAM_WINDOW, checkMessageSizeLimits } from '../transport/message-io.js';
import { checkServerKeepalive, watchServerKeepalive, type ServerKeepaliveOptions } from '../transport/server-keepalive.js';
import { dispatchStream, type RegisteredMethod } from './dispatch.js';
import type { ServiceImplementation } from './handlers.js';
import { interceptHandler, type ServerInterceptor } from './interceptors.js';
import { parseListenAddress } from './listen-address.js';
import { MAX_TIMER_MS, timerUnlessNever } from '../util/timers.js';
import {
  ConnectionWatch, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_PROBE_TIMEOUT_MS, supportsStreamResetLimits, type ConnectionPolicy,
} from '../transport/server-connection.js';

export type { ServerCallContext } from './context.js';

/** TLS for a server: its certificate, and optionally client certificate checks (mTLS). */
export interface ServerTlsOptions {
  /**
   * The private key and certificate chain; lists of them to serve several pairs (e.g. an RSA
   * and an ECDSA certificate: each client gets one it supports), the i-th key for the i-th chain.
   */
  key: string | Buffer | Array<string | Buffer>;
  /** The certificate chain (PEM) for `key`, or one chain per key when `key` is a list. */
  cert: string | Buffer | Array<string | Buffer>;
  /** CA used to verify client certificates (mTLS). */
  ca?: string | Buffer;
  /** Ask clients for a certificate; with `ca`, reject those that fail verification. */
  requestClientCert?: boolean;
}

/**
 * Keepalive (see ServerKeepaliveOptions): the server pings clients every keepaliveTimeMs (default 2 h) and
 * drops those that do not answer within keepaliveTimeoutMs (20 s); clients pinging more often than
 * keepaliveMinPingIntervalMs (5 min), or at all without calls unless keepalivePermitWithoutCalls, get
 * GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings") after 2 strikes, as from grpc-go.
 */
export interface ServerOptions extends ServerKeepaliveOptions {
  /** Largest request message accepted, in bytes (default 4 MiB; Infinity: no limit). */
  maxReceiveMessageSize?: number;
  /** Largest response message sent, in bytes (default unlimited). */
  maxSendMessageSize?: number;
  /** Serve TLS; plaintext (h2c) without it. */
  tls?: ServerTlsOptions;
  /** Compress responses with this encoding whenever the client accepts it. */
  compression?: 'gzip' | 'deflate';
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection. */
  maxConcurrentStreams?: number;
  /** Sees errors that handlers threw which were not GrpcError (the client only gets UNKNOWN). */
  onHandlerError?: (error: unknown, method: string) => void;
  /**
   * Closes connections that have not sent the HTTP/2 preface and SETTINGS within this time (default
   * 120 s, as grpc-go); with TLS, the TLS handshake gets the same time before that. Infinity turns a
   * limit off here and in the options below.
   */
  handshakeTimeoutMs?: number;
  /** Sends GOAWAY to a connection once no call has been open on it for this long (default: never). */
  maxConnectionIdleMs?: number;
  /** Sends GOAWAY to a connection once it is this old, ±10% (default: never). */
  maxConnectionAgeMs?: number;
  /** Closes a connection this long after maxConnectionAgeMs's GOAWAY, cancelling calls still open (default: lets them finish). */
  maxConnectionAgeGraceMs?: number;
  /**
   * nghttp2's limit on RST_STREAM frames from a client: a burst, refilled at a rate per second; past
   * it the connection gets GOAWAY (the rapid-reset attack). Defaults 10,000 and 1,000/s, so that
   * legitimate cancellation goes through, where Node supports the setting (22.10+); setting either
   * on an older Node throws.
   */
  streamResetBurst?: number;
  /** See streamResetBurst. */
  streamResetRate?: number;
  /** Run around every call's handler; the first is outermost: it sees requests first and responses last. */
  interceptors?: readonly ServerInterceptor[];
}

const DEFAULT_STREAM_RESET_BURST = 10_000;
const DEFAULT_STREAM_RESET_RATE = 1_000;

/**
 * A gRPC server: register services with addService(), then listen() on one or more addresses.
 * Every call runs its handler with a ServerCallContext; see ServerOptions for limits, keepalive and connection management.
 */
export class Server {
  private readonly methods = new Map<string, RegisteredMethod>();
  private readonly services = new Map<string, ServiceDefinition>();
  private readonly shutdownListeners: (() => void)[] = [];
  private readonly listeners: http2.Http2Server[] = [];
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  /** Every accepted TCP connection, so forceShutdown() can drop them without resetting each stream. */
  private readonly sockets = new Set<Socket>();
  private readonly options: ServerOptions;

  private readonly policy: ConnectionPolicy;
  private readonly watches = new WeakMap<http2.Http2Session, ConnectionWatch>();

  /**
   * A server with no services yet.
   * @param options Limits, TLS, keepalive, connection management and interceptors; invalid values throw here.
   */
  constructor(options: ServerOptions = {}) {
    checkServerKeepalive(options);
    checkMessageSizeLimits('ServerOptions', options);
    if (options.tls) checkKeyPairs(options.tls);
    this.options = options;
    this.policy = connectionPolicy(options);
    if ((options.streamResetBurst !== undefined || options.streamResetRate !== undefined) && !supportsStreamResetLimits()) {
      throw new Error(`streamResetBurst and streamResetRate need Node.js 22.10 or later; this is ${process.versions.node}`);
    }
  }

  /** Registers a service. Methods without a handler answer UNIMPLEMENTED. */
  addService(service: ServiceDefinition, implementation: ServiceImplementation): this {
    if (this.services.has(service.name)) throw new Error(`service ${service.name} is already registered`);
    this.services.set(service.name, service);
    for (const method of Object.values(service.methods)) {
      const handler = implementation[method.name] ?? implementation[lowerCamel(method.name)];
      if (typeof handler === 'function') {
        const bound = handler.bind(implementation);
        const interceptors = this.options.interceptors;
        const wrapped = interceptors && interceptors.length > 0 ? interceptHandler(method, bound, interceptors) : bound;
        this.methods.set(method.path, { definition: method, handler: wrapped });
      }
    }
    return this;
  }

  /** The services registered so far, in registration order (reflection lists these). */
  registeredServices(): ServiceDefinition[] {
    return [...this.services.values()];
  }

  /**
   * Runs `listener` once when shutdown() or forceShutdown() is first called,
   * before connections close: the health service uses it to report NOT_SERVING.
   */
  onShutdown(listener: () => void): this {
    this.shutdownListeners.push(listener);
    return this;
  }

  /** Starts listening on "host:port" (port 0 picks one) or "unix:/path"; resolves to the bound port (0 for unix sockets). */
  listen(address: string): Promise<number> {
    const target = parseListenAddress(address);
    const server = this.createHttp2Server();
    this.listeners.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      const onListening = () => {
        server.off('error', reject);
        const bound = server.address();
        resolve(typeof bound === 'object' && bound ? bound.port : 0);
      };
      if (target.kind === 'unix') server.listen(target.path, onListening);
      else server.listen(target.port, target.host, onListening);
    });
  }

  /**
   * Graceful shutdown: stop accepting connections, send GOAWAY, and let
   * in-flight calls finish; after graceMs (Infinity: never), cancel whatever is left.
   */
  async shutdown(graceMs = 10_000): Promise<void> {
    this.notifyShutdown();
    const sessions = [...this.sessions];
    // Reported before the listeners close: from Node 23 on, closing one also closes its sessions.
    for (const s of sessions) if (!s.closed && !s.destroyed) this.watches.get(s)?.sentGoaway('NO_ERROR (server shutdown)');
    const closed = Promise.all([
      ...this.listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))),
      ...sessions.map((s) => closeSession(s)),
    ]);
    const timer = timerUnlessNever(() => this.forceShutdown(), graceMs);
    try {
      await closed;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Cancels every call and closes every connection now. */
  forceShutdown(): void {
    this.notifyShutdown();
    // Drop the connections themselves: destroying a session would reset each stream with NO_ERROR, which
    // clients must read as INTERNAL, while a lost connection is UNAVAILABLE, as with grpc-go's Stop.
    for (const socket of this.sockets) socket.destroy();
    for (const session of this.sessions) session.destroy();
    for (const listener of this.listeners) listener.close();
  }

  private notifyShutdown(): void {
    for (const listener of this.shutdownListeners.splice(0)) listener();
  }

  private createHttp2Server(): http2.Http2Server {
    const dispatchOptions = {
      maxReceiveMessageSize: this.options.maxReceiveMessageSize ?? DEFAULT_MAX_RECEIVE,
      maxSendMessageSize: this.options.maxSendMessageSize ?? DEFAULT_MAX_SEND,
      defaultCompression: this.options.compression,
      onHandlerError: this.options.onHandlerError,
      onPeerReset: (stream: http2.ServerHttp2Stream) => stream.session && this.watches.get(stream.session)?.peerReset(),
    };
    const settings: http2.Settings = { initialWindowSize: STREAM_WINDOW };
    if (this.options.maxConcurrentStreams !== undefined) settings.maxConcurrentStreams = this.options.maxConcurrentStreams;
    const base: http2.ServerOptions & { streamResetBurst?: number; streamResetRate?: number } = { settings };
    if (supportsStreamResetLimits()) {
      base.streamResetBurst = this.options.streamResetBurst ?? DEFAULT_STREAM_RESET_BURST;
      base.streamResetRate = this.options.streamResetRate ?? DEFAULT_STREAM_RESET_RATE;
    }
    const tls = this.options.tls;
    const server: http2.Http2Server = tls
      ? (http2.createSecureServer({
          ...base, key: tls.key, cert: tls.cert, ca: tls.ca,
          requestCert: tls.requestClientCert ?? false,
          rejectUnauthorized: Boolean(tls.requestClientCert && tls.ca),
          handshakeTimeout: this.policy.handshakeTimeoutMs ?? 0,
        }) as unknown as http2.Http2Server)
      : http2.createServer(base);
    // Headers, a small message and trailers go out as separate writes: Nagle's algorithm would hold them back.
    server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => socket.setNoDelay(true));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('session', (session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
      session.on('error', () => {}); // reported per stream; a session error must not crash the process
      watchServerKeepalive(session, this.options);
      session.once('connect', () => session.setLocalWindowSize(CONNECTION_WINDOW));
      if (!session.connecting) session.setLocalWindowSize(CONNECTION_WINDOW);
      this.watches.set(session, new ConnectionWatch(session, this.policy));
    });
    const tracksStreams = this.policy.maxConnectionIdleMs !== undefined;
    // Node passes the raw header list as a fourth argument, which its typings omit.
    const lookup = (path: string) => this.methods.get(path); // made once, not per stream
    const onStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
      if (tracksStreams) this.watches.get(stream.session!)?.streamOpened(stream);
      dispatchStream(stream, headers, rawHeaders, lookup, dispatchOptions);
    };
    server.on('stream', onStream as (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void);
    return server;
  }
}

/** Keys and certificate chains come in pairs: lists of the same non-zero length, or one of each. */
function checkKeyPairs(tls: ServerTlsOptions): void {
  const keys = Array.isArray(tls.key) ? tls.key.length : 1;
  const certs = Array.isArray(tls.cert) ? tls.cert.length : 1;
  if (keys !== certs || keys === 0) {
    throw new TypeError(`tls.key and tls.cert must pair up: got ${keys} key(s) and ${certs} certificate chain(s)`);
  }
}

function connectionPolicy(o: ServerOptions): ConnectionPolicy {
  const time = (name: keyof ServerOptions, fallback?: number): number | undefined => {
    const value = o[name] ?? fallback;
    if (value === Infinity) return undefined; // "never", as grpc-go's defaults
    if (value !== undefined && (typeof value !== 'number' || !(value > 0) || value > MAX_TIMER_MS)) {
      throw new Error(`${name} must be a number of milliseconds between 1 and ${MAX_TIMER_MS}, got ${String(value)}`);
    }
    return value as number | undefined;
  };
  for (const name of ['streamResetBurst', 'streamResetRate'] as const) {
    const value = o[name];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) throw new Error(`${name} must be a positive integer, got ${String(value)}`);
  }
  return {
    handshakeTimeoutMs: time('handshakeTimeoutMs', DEFAULT_HANDSHAKE_TIMEOUT_MS),
    maxConnectionIdleMs: time('maxConnectionIdleMs'),
    maxConnectionAgeMs: time('maxConnectionAgeMs'),
    maxConnectionAgeGraceMs: time('maxConnectionAgeGraceMs'),
    probeTimeoutMs: o.keepaliveTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
  };
}

function closeSession(session: http2.ServerHttp2Session): Promise<void> {
  if (session.closed || session.destroyed) return Promise.resolve();
  return new Promise((resolve) => session.close(() => resolve()));
}
