import http2 from 'node:http2';
import net from 'node:net';
import { describeGoaway } from '../wire/http2-errors.js';
import { connectionEvent } from '../observability/events.js';
import { Backoff } from './backoff.js';
import { ConnectivityState, StateWatch, type StateListener } from './connectivity.js';
import { KeepalivePinger } from './keepalive.js';
import { MAX_TIMER_MS, timerUnlessNever } from '../util/timers.js';
import { CONNECTION_WINDOW, STREAM_WINDOW } from './message-io.js';
import type { Target } from './target.js';
import { formatAddress } from './target-uri.js';
import { dialTls, type ClientTlsOptions } from './tls-dial.js';

export type { ClientTlsOptions } from './tls-dial.js';

export interface ConnectionOptions {
  tls?: ClientTlsOptions;
  /** Reconnect backoff bounds, mainly for tests. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long a new connection may take to reach the server's HTTP/2 SETTINGS (default 20 s, as in gRPC's backoff spec). */
  connectTimeoutMs?: number;
  /** Ping the server after this long (default: never). */
  keepaliveTimeMs?: number;
  /** Drop the connection when a ping is not acknowledged within this long (default 20 s). */
  keepaliveTimeoutMs?: number;
  /** Ping even while no call is in flight (default false). */
  keepalivePermitWithoutCalls?: boolean;
}

/**
 * The keepalive interval, shared by every subchannel of a channel: a too_many_pings GOAWAY
 * on one connection slows down pings on all the next ones, to any address.
 */
export interface KeepaliveInterval {
  timeMs: number;
}

/** Which subchannel a session belongs to, so calls can report their start and end to it. */
const owners = new WeakMap<http2.ClientHttp2Session, ClientConnection>();

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000;
/** GOAWAY debug data a server sends a client that pings more often than its policy allows. */
const TOO_MANY_PINGS = 'too_many_pings';

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

/** One HTTP/2 session and the calls running on it. A session outlives its turn as the current one while calls drain. */
interface Transport {
  readonly session: http2.ClientHttp2Session;
  calls: number;
  pinger?: KeepalivePinger;
}

/**
 * A subchannel: the connection to one address, with its own connectivity
 * state and reconnect backoff (gRPC connectivity semantics):
 *
 *   IDLE --connect()--> CONNECTING --SETTINGS--> READY --GOAWAY/lost/keepalive--> IDLE
 *                       CONNECTING --failure--> TRANSIENT_FAILURE --backoff--> IDLE
 *
 * It never reconnects by itself: whoever owns it (the channel, later a load
 * balancer) decides when to call connect().
 */
export class ClientConnection {
  private readonly watch = new StateWatch(ConnectivityState.IDLE);
  private current: Transport | undefined;
  private readonly transports = new Map<http2.ClientHttp2Session, Transport>();
  private readonly backoff: Backoff;
  private backoffTimer: NodeJS.Timeout | undefined;
  private lastError: Error | undefined;
  private wantedFlag = false;
  /** The :authority header: the TLS name override if set, else host:port. */
  readonly authority: string;
  /** What is dialed, for error messages. */
  readonly address: string;
  readonly scheme: 'http' | 'https';

  constructor(
    private readonly target: Target,
    private readonly options: ConnectionOptions = {},
    private readonly keepalive: KeepaliveInterval = { timeMs: options.keepaliveTimeMs ?? Infinity },
  ) {
    this.backoff = new Backoff(options.initialBackoffMs, options.maxBackoffMs);
    this.scheme = options.tls ? 'https' : 'http';
    this.authority = options.tls?.serverNameOverride ?? target.authority;
    this.address = formatAddress(target);
  }

  /** The subchannel a session of it belongs to. */
  static ownerOf(session: http2.ClientHttp2Session): ClientConnection | undefined {
    return owners.get(session);
  }

  get state(): ConnectivityState {
    return this.watch.state;
  }

  onStateChange(listener: StateListener): () => void {
    return this.watch.listen(listener);
  }

  /** The session for a new call when READY, else undefined. */
  get readySession(): http2.ClientHttp2Session | undefined {
    return this.watch.state === ConnectivityState.READY ? this.current?.session : undefined;
  }

  /** The current keepalive interval: the configured one, doubled after each too_many_pings GOAWAY. */
  get keepaliveTimeMs(): number {
    return this.keepalive.timeMs;
  }

  /** Why the last connection attempt or session failed, for call error messages. */
  get lastFailure(): Error | undefined {
    return this.lastError;
  }

  /**
   * Whether someone waits on this connection: a waiting call keeps the process
   * alive through connecting and backoff, as a call in flight does.
   */
  set wanted(value: boolean) {
    if (value === this.wantedFlag) return;
    this.wantedFlag = value;
    const session = this.current?.session;
    if (session && !session.destroyed && this.current!.calls === 0) {
      if (value) session.ref();
      else session.unref();
    }
    if (value) this.backoffTimer?.ref();
    else this.backoffTimer?.unref();
  }

  /** Starts connecting when IDLE; does nothing in any other state. */
  connect(): void {
    if (this.watch.state === ConnectivityState.IDLE) this.dial();
  }

  /** Keeps the process alive only while calls are in flight. */
  callStarted(session: http2.ClientHttp2Session): void {
    const transport = this.transports.get(session);
    if (transport && transport.calls++ === 0 && !this.wantedFlag) session.ref();
  }

  callEnded(session: http2.ClientHttp2Session): void {
    const transport = this.transports.get(session);
    if (transport && --transport.calls === 0 && !session.destroyed && !(this.wantedFlag && transport === this.current)) session.unref();
  }

  /** For good: SHUTDOWN; calls in flight finish first. */
  close(): void {
    this.teardown();
    this.watch.set(ConnectivityState.SHUTDOWN);
  }

  private teardown(): void {
    clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    const transport = this.current;
    this.current = undefined;
    transport?.pinger?.stop();
    if (transport && !transport.session.closed) transport.session.close();
  }

  private dial(): void {
    const socket = this.openSocket();
    // The URL only names the peer (the :authority header is set per call): the resolved address.
    const session = http2.connect(`${this.scheme}://${this.target.kind === 'tcp' ? this.address : 'localhost'}`, {
      settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
      createConnection: () => socket,
    });
    const transport: Transport = { session, calls: 0 };
    this.current = transport;
    this.transports.set(session, transport);
    owners.set(session, this);
    this.watch.set(ConnectivityState.CONNECTING);
    connectionEvent('client', 'connecting', this.address);
    // The server's SETTINGS mean it accepted us; a TLS 1.3 handshake can finish on our side and still be refused after.
    let accepted = false;
    let gone = false;
    // A peer that accepts TCP but never speaks HTTP/2 must not hold calls forever.
    const connectTimeout = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const timer = timerUnlessNever(() => {
      socket.destroy(new Error(`no HTTP/2 SETTINGS from the server within ${connectTimeout} ms`));
    }, connectTimeout);
    timer?.unref();
    session.once('remoteSettings', () => {
      clearTimeout(timer);
      accepted = true;
      this.backoff.reset();
      this.lastError = undefined;
      session.setLocalWindowSize(CONNECTION_WINDOW);
      connectionEvent('client', 'ready', this.address);
      if (this.current !== transport) return;
      this.startKeepalive(transport);
      this.watch.set(ConnectivityState.READY);
    });
    session.on('error', (err) => {
      this.lastError = err;
    });
    session.on('goaway', (code: number, lastStreamId: number, data?: Buffer) => {
      connectionEvent('client', 'goaway', this.address, describeGoaway(code, lastStreamId, data));
      if (code === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM && data?.toString() === TOO_MANY_PINGS) this.slowDownPings();
      // Before SETTINGS a GOAWAY is a failed attempt (handled when the session closes): backoff applies.
      if (accepted) this.released(transport);
      if (code !== http2.constants.NGHTTP2_NO_ERROR) drainInsteadOfDestroying(session);
    });
    // A TLS session the server refuses after the handshake (e.g. no client certificate) dies with an
    // error on the socket only: the session emits neither 'error' nor 'close'. Watch the socket itself.
    const end = (err?: Error) => {
      if (gone) return;
      gone = true;
      if (err) this.lastError = err;
      clearTimeout(timer);
      transport.pinger?.stop();
      this.transports.delete(session);
      if (!session.destroyed) session.destroy();
      connectionEvent('client', accepted ? 'closed' : 'failed', this.address, (err ?? this.lastError)?.message);
      if (accepted) this.released(transport);
      else this.failed(transport);
    };
    socket.once('error', end);
    socket.once('close', () => end(accepted || gone ? undefined : this.closedDuringHandshake()));
    session.once('close', () => end());
    if (!this.wantedFlag) session.unref();
  }

  private startKeepalive(transport: Transport): void {
    if (this.keepalive.timeMs > MAX_TIMER_MS) return;
    const timeoutMs = this.options.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS;
    const permitWithoutCalls = this.options.keepalivePermitWithoutCalls ?? false;
    const { session } = transport;
    transport.pinger = new KeepalivePinger(
      session,
      { timeMs: this.keepalive.timeMs, timeoutMs },
      () => permitWithoutCalls || transport.calls > 0,
      (reason) => {
        this.lastError = reason;
        this.released(transport);
        session.destroy(reason);
      },
    );
  }

  /** A too_many_pings GOAWAY: ping half as often on the next connections, as grpc-go and grpc-js do. */
  private slowDownPings(): void {
    this.keepalive.timeMs = Math.min(this.keepalive.timeMs * 2, MAX_TIMER_MS + 1);
  }

  /** A READY session stopped taking new calls (GOAWAY, lost, keepalive): IDLE until asked to connect again. */
  private released(transport: Transport): void {
    if (this.current !== transport) return;
    this.current = undefined;
    this.watch.set(ConnectivityState.IDLE);
  }

  /** A connection attempt failed: TRANSIENT_FAILURE for the backoff delay, then IDLE. */
  private failed(transport: Transport): void {
    if (this.current !== transport) return;
    this.current = undefined;
    if (this.watch.state === ConnectivityState.SHUTDOWN) return;
    this.watch.set(ConnectivityState.TRANSIENT_FAILURE);
    this.backoffTimer = timerUnlessNever(() => {
      this.backoffTimer = undefined;
      this.watch.set(ConnectivityState.IDLE);
    }, this.backoff.nextDelay());
    if (!this.wantedFlag) this.backoffTimer?.unref();
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
    return dialTls(raw, target, tlsOptions);
  }
}
