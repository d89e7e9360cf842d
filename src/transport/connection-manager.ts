import type http2 from 'node:http2';
import { GrpcError } from '../wire/error.js';
import { Status } from '../wire/status.js';
import { ClientConnection, type ConnectionOptions } from './client-connection.js';
import { ConnectivityState, StateWatch } from './connectivity.js';
import { MAX_TIMER_MS } from './keepalive.js';
import type { Target } from './target.js';

export interface ManagerOptions extends ConnectionOptions {
  /** Drop the connection and go IDLE after this long without calls (default 30 min; 0 never). */
  idleTimeoutMs?: number;
}

const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60_000;

/** Called once with a READY session, or with why the call cannot have one. */
export type SessionCallback = (session: http2.ClientHttp2Session | undefined, error: GrpcError | undefined) => void;

interface Waiter {
  readonly waitForReady: boolean;
  readonly done: SessionCallback;
}

/**
 * The channel's view of its connections: which session a call goes on, the
 * channel's aggregated connectivity state, calls waiting for a connection,
 * and the idle timeout. It holds one subchannel today; resolvers and load
 * balancing plug in here, choosing among several.
 *
 * Aggregation follows gRFC A62 (pick_first): once a connection attempt has
 * failed, the channel stays in TRANSIENT_FAILURE — reconnecting after each
 * backoff — until a connection is READY. Calls fail fast in
 * TRANSIENT_FAILURE unless they are waitForReady; calls made while IDLE or
 * CONNECTING wait for the outcome (doc/wait-for-ready.md).
 */
export class ConnectionManager {
  private readonly subchannel: ClientConnection;
  private readonly watch = new StateWatch(ConnectivityState.IDLE);
  private readonly waiters = new Set<Waiter>();
  private activeCalls = 0;
  private readonly idleTimeoutMs: number;
  private idleTimer: NodeJS.Timeout | undefined;
  private idleSince = 0;

  constructor(target: Target, options: ManagerOptions = {}) {
    this.subchannel = new ClientConnection(target, options);
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.subchannel.onStateChange((state) => this.subchannelChanged(state));
  }

  get authority(): string {
    return this.subchannel.authority;
  }

  get scheme(): 'http' | 'https' {
    return this.subchannel.scheme;
  }

  get address(): string {
    return this.subchannel.address;
  }

  get lastFailure(): Error | undefined {
    return this.subchannel.lastFailure;
  }

  get state(): ConnectivityState {
    return this.watch.state;
  }

  /** The current client keepalive interval (it doubles after each too_many_pings GOAWAY). */
  get keepaliveTimeMs(): number {
    return this.subchannel.keepaliveTimeMs;
  }

  /** The state; with `tryToConnect`, an IDLE channel starts connecting. */
  getState(tryToConnect = false): ConnectivityState {
    const state = this.watch.state;
    if (tryToConnect && state === ConnectivityState.IDLE) this.connect();
    return state;
  }

  watchState(from: ConnectivityState, deadline?: Date | number): Promise<boolean> {
    return this.watch.changedFrom(from, deadline);
  }

  onStateChange(listener: (state: ConnectivityState) => void): () => void {
    return this.watch.listen(listener);
  }

  /** The fast path: a READY session, or undefined when the call must wait (see waitForSession). */
  readySession(): http2.ClientHttp2Session | undefined {
    return this.subchannel.readySession;
  }

  /**
   * Hands `done` a READY session as soon as there is one, or an UNAVAILABLE
   * error when the call may not wait. Returns a function that withdraws the
   * request (the call ended first), or undefined when `done` already ran.
   */
  waitForSession(waitForReady: boolean, done: SessionCallback): (() => void) | undefined {
    const state = this.watch.state;
    if (state === ConnectivityState.SHUTDOWN) {
      done(undefined, new GrpcError(Status.UNAVAILABLE, 'channel is closed'));
      return undefined;
    }
    const session = this.subchannel.readySession;
    if (session) {
      done(session, undefined);
      return undefined;
    }
    if (state === ConnectivityState.TRANSIENT_FAILURE && !waitForReady) {
      done(undefined, this.unavailable());
      return undefined;
    }
    const waiter: Waiter = { waitForReady, done };
    this.waiters.add(waiter);
    this.subchannel.wanted = true;
    this.connect();
    return () => this.withdraw(waiter);
  }

  callStarted(session: http2.ClientHttp2Session): void {
    this.activeCalls++;
    this.subchannel.callStarted(session);
  }

  callEnded(session: http2.ClientHttp2Session): void {
    if (--this.activeCalls === 0 && this.waiters.size === 0) this.idleSince = Date.now();
    this.subchannel.callEnded(session);
  }

  /** SHUTDOWN: waiting calls fail, calls in flight finish first. */
  close(): void {
    clearTimeout(this.idleTimer);
    this.subchannel.close();
    this.watch.set(ConnectivityState.SHUTDOWN);
    this.failWaiters(() => new GrpcError(Status.UNAVAILABLE, 'channel is closed'), true);
  }

  private connect(): void {
    if (this.watch.state === ConnectivityState.IDLE) {
      this.watch.set(ConnectivityState.CONNECTING);
      this.startIdleTimer();
    }
    this.subchannel.connect();
  }

  private subchannelChanged(state: ConnectivityState): void {
    const channel = this.watch.state;
    if (channel === ConnectivityState.SHUTDOWN) return;
    switch (state) {
      case ConnectivityState.READY: {
        this.watch.set(ConnectivityState.READY);
        const session = this.subchannel.readySession!;
        const ready = [...this.waiters];
        this.waiters.clear();
        this.subchannel.wanted = false;
        for (const waiter of ready) waiter.done(session, undefined);
        break;
      }
      case ConnectivityState.TRANSIENT_FAILURE:
        this.watch.set(ConnectivityState.TRANSIENT_FAILURE);
        this.failWaiters(() => this.unavailable(), false);
        break;
      case ConnectivityState.IDLE:
        if (channel === ConnectivityState.TRANSIENT_FAILURE) {
          // Sticky TRANSIENT_FAILURE: the backoff is over, try again at once.
          this.subchannel.connect();
        } else if (channel !== ConnectivityState.IDLE) {
          // A READY connection went away (GOAWAY, lost, keepalive): reconnect only for waiting calls.
          this.watch.set(ConnectivityState.IDLE);
          if (this.waiters.size > 0) this.connect();
        }
        break;
      case ConnectivityState.CONNECTING:
        if (channel !== ConnectivityState.TRANSIENT_FAILURE) this.watch.set(ConnectivityState.CONNECTING);
        break;
    }
  }

  private failWaiters(error: () => GrpcError, all: boolean): void {
    for (const waiter of [...this.waiters]) {
      if (!all && waiter.waitForReady) continue;
      this.waiters.delete(waiter);
      waiter.done(undefined, error());
    }
    if (this.waiters.size === 0) this.subchannel.wanted = false;
  }

  private withdraw(waiter: Waiter): void {
    if (!this.waiters.delete(waiter) || this.waiters.size > 0) return;
    this.subchannel.wanted = false;
    if (this.activeCalls === 0) this.idleSince = Date.now();
  }

  private unavailable(): GrpcError {
    const cause = this.subchannel.lastFailure?.message ?? 'connection failed';
    return new GrpcError(Status.UNAVAILABLE, `cannot connect to ${this.address}: ${cause}`);
  }

  /**
   * The idle timeout: one timer while the channel is out of IDLE, re-armed
   * for whatever is left, so calls themselves only note when the last one ended.
   */
  private startIdleTimer(): void {
    if (this.idleTimeoutMs <= 0 || this.idleTimeoutMs > MAX_TIMER_MS) return;
    clearTimeout(this.idleTimer);
    this.idleSince = Date.now();
    this.armIdleTimer(this.idleTimeoutMs);
  }

  private armIdleTimer(ms: number): void {
    this.idleTimer = setTimeout(() => this.checkIdle(), ms);
    this.idleTimer.unref();
  }

  private checkIdle(): void {
    this.idleTimer = undefined;
    const state = this.watch.state;
    if (state === ConnectivityState.IDLE || state === ConnectivityState.SHUTDOWN) return;
    if (this.activeCalls > 0 || this.waiters.size > 0) return this.armIdleTimer(this.idleTimeoutMs);
    const idleFor = Date.now() - this.idleSince;
    if (idleFor < this.idleTimeoutMs) return this.armIdleTimer(this.idleTimeoutMs - idleFor);
    this.watch.set(ConnectivityState.IDLE);
    this.subchannel.disconnect();
  }
}
