import type http2 from 'node:http2';
import { timerUnlessNever } from '../util/timers.js';
import { connectionEvent } from '../observability/events.js';
import { describeGoaway } from '../wire/http2-errors.js';
import { peerAddress } from './peer-address.js';

/** How long a server connection may live, idle, or take to say hello. All times in ms. */
export interface ConnectionPolicy {
  /** Preface and SETTINGS must arrive within this time (the TLS handshake has its own limit of the same length). */
  handshakeTimeoutMs?: number;
  /** GOAWAY once no call has been open for this long. */
  maxConnectionIdleMs?: number;
  /** GOAWAY once the connection is this old (±10%, so that clients do not all reconnect at once). */
  maxConnectionAgeMs?: number;
  /** After the age GOAWAY, close the connection this much later, cancelling calls still open. */
  maxConnectionAgeGraceMs?: number;
  /** After a client reset a call, close the connection if a PING is not answered within this time. */
  probeTimeoutMs: number;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 120_000;
/** As the keepalive timeout's default. */
export const DEFAULT_PROBE_TIMEOUT_MS = 20_000;
/** After a client reset a call, the next liveness check waits at least this long. */
const RESET_PROBE_INTERVAL_MS = 1000;

/**
 * Enforces a ConnectionPolicy on one server session, and finds sessions that died without telling.
 * nghttp2 ends a connection with GOAWAY on its own (too many RST_STREAMs, an oversized header
 * block); Node 22+ then destroys the session, but Node 20 just stops reading from the socket, which
 * stays in CLOSE-WAIT after the peer hangs up. Such a session answers no PING: after a client reset
 * a call (the usual way into that state) a PING goes out, and no answer destroys the session. The
 * keepalive pinger (server-keepalive.ts) finds the rest, such as the oversized header block.
 */
export class ConnectionWatch {
  private readonly timers: (NodeJS.Timeout | undefined)[] = [];
  private openStreams = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private lastProbe = 0;
  /** The client's address, read once: the socket is gone by the time the connection closes. */
  private readonly peer: string;

  constructor(private readonly session: http2.ServerHttp2Session, private readonly policy: ConnectionPolicy) {
    const peer = (this.peer = peerAddress(session.socket));
    connectionEvent('server', 'connecting', peer);
    let ready = false;
    let failure: Error | undefined;
    const handshake = policy.handshakeTimeoutMs === undefined ? undefined : this.after(policy.handshakeTimeoutMs, () => {
      failure = new Error(`no HTTP/2 preface and SETTINGS from the client within ${policy.handshakeTimeoutMs} ms`);
      session.destroy();
    });
    session.once('remoteSettings', () => {
      clearTimeout(handshake);
      ready = true;
      connectionEvent('server', 'ready', peer);
    });
    session.on('error', (err) => {
      failure ??= err;
    });
    session.on('goaway', (code: number, lastStreamId: number, data?: Buffer) => {
      connectionEvent('server', 'goaway', peer, `received ${describeGoaway(code, lastStreamId, data)}`);
    });
    session.once('close', () => {
      this.stop();
      connectionEvent('server', ready ? 'closed' : 'failed', peer, failure?.message);
    });
    if (policy.maxConnectionAgeMs !== undefined) {
      const jitter = 1 + (Math.random() * 0.2 - 0.1);
      this.after(policy.maxConnectionAgeMs * jitter, () => this.goAway(policy.maxConnectionAgeGraceMs, 'max connection age'));
    }
    if (policy.maxConnectionIdleMs !== undefined) this.armIdleTimer();
  }

  streamOpened(stream: http2.ServerHttp2Stream): void {
    this.openStreams++;
    clearTimeout(this.idleTimer);
    stream.once('close', () => {
      if (--this.openStreams === 0) this.armIdleTimer();
    });
  }

  /** A client reset a call: nghttp2 may have ended the connection for too many of those. */
  peerReset(): void {
    if (Date.now() - this.lastProbe >= RESET_PROBE_INTERVAL_MS) this.probe();
  }

  private probe(): void {
    const { session } = this;
    if (this.probeTimer || session.destroyed) return;
    this.lastProbe = Date.now();
    this.probeTimer = timerUnlessNever(() => session.destroy(), this.policy.probeTimeoutMs);
    let sent = false;
    try {
      sent = session.ping(() => {
        clearTimeout(this.probeTimer);
        this.probeTimer = undefined;
      });
    } catch {
      // The session is already closing.
    }
    // Too many PINGs outstanding: the next reset tries again.
    if (!sent) {
      clearTimeout(this.probeTimer);
      this.probeTimer = undefined;
    }
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    if (this.session.closed || this.session.destroyed) return;
    this.idleTimer = timerUnlessNever(() => this.goAway(undefined, 'max connection idle'), this.policy.maxConnectionIdleMs!);
  }

  /** Reports a GOAWAY the server sends on this connection, for `reason`. */
  sentGoaway(reason: string): void {
    connectionEvent('server', 'goaway', this.peer, `sent ${reason}`);
  }

  /** GOAWAY: no new calls; the session closes once its calls are done, or after graceMs at the latest. */
  private goAway(graceMs: number | undefined, reason: string): void {
    const { session } = this;
    if (session.destroyed) return;
    if (!session.closed) {
      this.sentGoaway(`NO_ERROR (${reason})`);
      session.close();
    }
    if (graceMs !== undefined) this.after(graceMs, () => session.destroy());
  }

  private after(ms: number, fn: () => void): NodeJS.Timeout | undefined {
    const timer = timerUnlessNever(fn, ms);
    this.timers.push(timer);
    return timer;
  }

  private stop(): void {
    for (const t of this.timers) clearTimeout(t);
    clearTimeout(this.idleTimer);
    clearTimeout(this.probeTimer);
  }
}

/** Node exposes nghttp2's incoming-reset limit from 22.10 and 23.0 on; older versions ignore the options. */
export function supportsStreamResetLimits(version = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 10);
}
