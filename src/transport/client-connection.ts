import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { GrpcError } from '../wire/error.js';
import { Status } from '../wire/status.js';
import { Backoff } from './backoff.js';
import { CONNECTION_WINDOW, STREAM_WINDOW } from './message-io.js';
import type { Target } from './target.js';

export interface ClientTlsOptions {
  /** Root certificates to trust; the system's when omitted. */
  ca?: string | Buffer;
  /** Client certificate and key, for mTLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name checked against the server certificate and sent as :authority (for tests with fixed certificates). */
  serverNameOverride?: string;
}

export interface ConnectionOptions {
  tls?: ClientTlsOptions;
  /** Reconnect backoff bounds, mainly for tests. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long a new connection may take to reach the server's HTTP/2 SETTINGS (default 20 s, as in gRPC's backoff spec). */
  connectTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;


/**
 * After a GOAWAY with an error code, Node destroys a client session at once,
 * failing the streams the server still promised to finish (those at or below
 * its last-stream-id). nghttp2 servers send such a GOAWAY when a client merely
 * cancels many calls (more than about 1,000 RST_STREAMs on one connection). As in
 * other gRPC clients, let those streams finish instead: the session only closes
 * (no new streams), and goes away once they are done. Streams above the
 * last-stream-id are refused by nghttp2 either way, and retried by the call.
 * Node makes that destroy() call synchronously right after emitting 'goaway';
 * only that one call is turned into close().
 */
function drainInsteadOfDestroying(session: http2.ClientHttp2Session): void {
  if (Object.hasOwn(session, 'destroy')) return;
  session.destroy = function closeOnce(this: http2.ClientHttp2Session) {
    delete (session as { destroy?: unknown }).destroy;
    this.close();
  };
  queueMicrotask(() => delete (session as { destroy?: unknown }).destroy);
}

/**
 * One HTTP/2 session to a target, made on first use and remade after it
 * drops. After a failed connect, calls fail fast with UNAVAILABLE until the
 * backoff delay has passed; the next call then tries again.
 */
export class ClientConnection {
  private session: http2.ClientHttp2Session | undefined;
  private readonly backoff: Backoff;
  private retryAt = 0;
  private lastError: Error | undefined;
  private activeCalls = 0;
  /** Calls waiting for a new session's SETTINGS; absent once they arrived. */
  private readonly waitingForSettings = new Map<http2.ClientHttp2Session, (() => void)[]>();
  private closed = false;
  /** The :authority header: the TLS name override if set, else host:port. */
  readonly authority: string;
  /** What is dialed, for error messages. */
  readonly address: string;
  readonly scheme: 'http' | 'https';

  constructor(private readonly target: Target, private readonly options: ConnectionOptions = {}) {
    this.backoff = new Backoff(options.initialBackoffMs, options.maxBackoffMs);
    this.scheme = options.tls ? 'https' : 'http';
    this.authority = options.tls?.serverNameOverride ?? target.authority;
    this.address = target.kind === 'unix' ? `unix:${target.path}` : target.authority;
  }

  /** The session for a new call. Throws UNAVAILABLE while backing off, or once closed. */
  acquire(): http2.ClientHttp2Session {
    if (this.closed) throw new GrpcError(Status.UNAVAILABLE, 'channel is closed');
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const wait = this.retryAt - Date.now();
    if (wait > 0) {
      throw new GrpcError(
        Status.UNAVAILABLE,
        `cannot connect to ${this.target.authority}: ${this.lastError?.message ?? 'connection failed'} (next attempt in ${Math.ceil(wait)} ms)`,
      );
    }
    return this.connect();
  }

  /**
   * Runs `open` once the session has the server's SETTINGS, so that the
   * server's MAX_CONCURRENT_STREAMS is known and extra streams wait in the
   * session instead of being refused. Also runs it if the session dies first.
   */
  whenReady(session: http2.ClientHttp2Session, open: () => void): void {
    const waiting = this.waitingForSettings.get(session);
    if (waiting) waiting.push(open);
    else open();
  }

  /** Keeps the process alive only while calls are in flight. */
  callStarted(session: http2.ClientHttp2Session): void {
    if (this.activeCalls++ === 0) session.ref();
  }

  callEnded(session: http2.ClientHttp2Session): void {
    if (--this.activeCalls === 0 && !session.destroyed) session.unref();
  }

  /** Why the last connection attempt or session failed, for call error messages. */
  get lastFailure(): Error | undefined {
    return this.lastError;
  }

  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
  }

  private connect(): http2.ClientHttp2Session {
    const socket = this.openSocket();
    const session = http2.connect(`${this.scheme}://${this.target.authority}`, {
      settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
      createConnection: () => socket,
    });
    // The server's SETTINGS mean it accepted us; a TLS 1.3 handshake can finish on our side and still be refused after.
    let accepted = false;
    const waiting: (() => void)[] = [];
    this.waitingForSettings.set(session, waiting);
    const release = () => {
      if (this.waitingForSettings.get(session) !== waiting) return;
      this.waitingForSettings.delete(session);
      for (const open of waiting) open();
    };
    const failed = (err: Error) => {
      this.lastError = err;
      if (!accepted) this.retryAt = Date.now() + this.backoff.nextDelay();
    };
    // A peer that accepts TCP but never speaks HTTP/2 must not hold calls forever.
    const connectTimeout = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const timer = setTimeout(() => {
      socket.destroy(new Error(`no HTTP/2 SETTINGS from the server within ${connectTimeout} ms`));
    }, connectTimeout);
    timer.unref();
    session.once('remoteSettings', () => {
      clearTimeout(timer);
      accepted = true;
      this.backoff.reset();
      this.lastError = undefined;
      session.setLocalWindowSize(CONNECTION_WINDOW);
      release();
    });
    const forget = () => {
      if (this.session === session) this.session = undefined;
    };
    session.on('error', failed);
    session.once('close', release);
    session.on('goaway', (code: number) => {
      forget();
      if (code !== http2.constants.NGHTTP2_NO_ERROR) drainInsteadOfDestroying(session);
    });
    session.on('close', forget);
    // A TLS session the server refuses after the handshake (e.g. no client certificate) dies with an
    // error on the socket only: the session emits neither 'error' nor 'close'. Watch the socket itself.
    const socketGone = (err?: Error) => {
      clearTimeout(timer);
      if (err) failed(err);
      forget();
      if (!session.destroyed) session.destroy();
      release();
    };
    socket.once('error', socketGone);
    socket.once('close', () => socketGone(accepted ? undefined : this.closedDuringHandshake()));
    if (this.activeCalls === 0) session.unref();
    this.session = session;
    return session;
  }

  private closedDuringHandshake(): Error {
    const hint = this.options.tls ? ' (TLS servers do this when they reject the client certificate)' : '';
    return new Error(`the server closed the connection before sending its HTTP/2 SETTINGS${hint}`);
  }

  /** Dials the target: TCP (or a unix socket), with TLS on top when configured. */
  private openSocket(): net.Socket {
    const target = this.target;
    // Headers, small messages and trailers are separate writes: Nagle's algorithm must not hold them back.
    const raw = target.kind === 'unix' ? net.connect(target.path) : net.connect({ host: target.host, port: target.port, noDelay: true });
    const tlsOptions = this.options.tls;
    if (!tlsOptions) return raw;
    return tls.connect({
      socket: raw,
      servername: tlsOptions.serverNameOverride ?? (target.kind === 'tcp' && !net.isIP(target.host) ? target.host : undefined),
      ca: tlsOptions.ca,
      cert: tlsOptions.cert,
      key: tlsOptions.key,
      ALPNProtocols: ['h2'],
    });
  }
}
