import type http2 from 'node:http2';
import { GrpcError } from '../wire/error.js';
import { Status } from '../wire/status.js';
import { ClientConnection, type ConnectionOptions, type KeepaliveInterval } from './client-connection.js';
import { ConnectivityState, StateWatch } from './connectivity.js';
import { MAX_TIMER_MS } from './keepalive.js';
import { waitPicker, type BalancerHelper, type Pick, type Picker } from './load-balancer.js';
import { resolverFor, type ResolverOptions } from './resolver.js';
import { ResolvingBalancer } from './resolving-balancer.js';
import type { ServiceConfig } from './service-config.js';
import { Subchannel } from './subchannel.js';
import { dialTarget } from './target.js';
import { isLoopbackTarget, type Address } from './target-uri.js';
import './naming.js';

export interface ManagerOptions extends ConnectionOptions {
  /** Drop the connections and go IDLE after this long without calls (default 30 min; 0 never). */
  idleTimeoutMs?: number;
  /** Used until (and unless) the resolver supplies one. */
  serviceConfig?: ServiceConfig;
  resolver?: ResolverOptions;
}

const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60_000;

/** Called once with a READY session, or with why the call cannot have one. */
export type SessionCallback = (session: http2.ClientHttp2Session | undefined, error: GrpcError | undefined) => void;

interface Waiter {
  readonly waitForReady: boolean;
  readonly done: SessionCallback;
}

/**
 * The channel's view of its connections: it resolves the target, lets the load-balancing
 * policy choose among subchannels (one per address), and takes the channel's state and the
 * picker calls use from that policy (connectivity-semantics doc; gRFC A62 for pick_first's
 * sticky TRANSIENT_FAILURE). Calls that find no READY subchannel wait here and are picked
 * again whenever the picker changes: fail-fast calls end on a failing picker, waitForReady
 * calls keep waiting (doc/wait-for-ready.md). After the idle timeout the resolver, the
 * policy and every connection are dropped; the next call starts over.
 */
export class ConnectionManager {
  private readonly watch = new StateWatch(ConnectivityState.IDLE);
  private picker: Picker = waitPicker;
  private balancer: ResolvingBalancer | undefined;
  private readonly subchannels = new Set<Subchannel>();
  private readonly keepalive: KeepaliveInterval;
  private readonly waiters = new Set<Waiter>();
  private activeCalls = 0;
  private readonly idleTimeoutMs: number;
  private idleTimer: NodeJS.Timeout | undefined;
  private idleSince = 0;
  private failure: Error | undefined;
  private readonly resolution: ReturnType<typeof resolverFor>;
  /** The :authority calls carry: the TLS name override if set, else what the resolver says for the target. */
  readonly authority: string;
  readonly scheme: 'http' | 'https';
  /** Whether the target names this machine only (sockets, localhost, 127.x, ::1). */
  readonly loopback: boolean;

  /** Throws a clear error for a target no resolver understands. */
  constructor(readonly address: string, private readonly options: ManagerOptions = {}) {
    this.resolution = resolverFor(address);
    this.authority = options.tls?.serverNameOverride ?? this.resolution.factory.defaultAuthority(this.resolution.uri);
    this.scheme = options.tls ? 'https' : 'http';
    this.loopback = isLoopbackTarget(this.resolution.uri);
    this.keepalive = { timeMs: options.keepaliveTimeMs ?? Infinity };
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  /** The service config calls follow, if any (the resolver's, else the channel's). */
  get serviceConfig(): ServiceConfig | undefined {
    return this.balancer ? this.balancer.serviceConfig : this.options.serviceConfig;
  }

  /** Why connecting (or resolving) failed last, for call error messages. */
  get lastFailure(): Error | undefined {
    if (this.failure) return this.failure;
    for (const s of this.subchannels) if (s.lastFailure) return s.lastFailure;
    return undefined;
  }

  get state(): ConnectivityState {
    return this.watch.state;
  }

  /** The current client keepalive interval (it doubles after each too_many_pings GOAWAY). */
  get keepaliveTimeMs(): number {
    return this.keepalive.timeMs;
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

  /** The fast path: a READY session the policy picked, or undefined when the call must wait (see waitForSession). */
  readySession(): http2.ClientHttp2Session | undefined {
    const pick = this.picker.pick();
    return pick.kind === 'ready' ? (pick.subchannel as Subchannel).connection.readySession : undefined;
  }

  /**
   * Hands `done` a READY session as soon as the policy picks one, or an UNAVAILABLE error
   * when the call may not wait. Returns a function that withdraws the request (the call
   * ended first), or undefined when `done` already ran.
   */
  waitForSession(waitForReady: boolean, done: SessionCallback): (() => void) | undefined {
    if (this.watch.state === ConnectivityState.SHUTDOWN) {
      done(undefined, new GrpcError(Status.UNAVAILABLE, 'channel is closed'));
      return undefined;
    }
    const waiter: Waiter = { waitForReady, done };
    if (this.serve(waiter, this.picker.pick())) return undefined;
    this.waiters.add(waiter);
    if (this.waiters.size === 1) this.setWanted(true);
    this.connect();
    return () => this.withdraw(waiter);
  }

  callStarted(session: http2.ClientHttp2Session): void {
    this.activeCalls++;
    ClientConnection.ownerOf(session)?.callStarted(session);
  }

  callEnded(session: http2.ClientHttp2Session): void {
    if (--this.activeCalls === 0 && this.waiters.size === 0) this.idleSince = Date.now();
    ClientConnection.ownerOf(session)?.callEnded(session);
  }

  /** SHUTDOWN: waiting calls fail, calls in flight finish first. */
  close(): void {
    clearTimeout(this.idleTimer);
    this.watch.set(ConnectivityState.SHUTDOWN);
    this.balancer?.close();
    this.balancer = undefined;
    for (const s of [...this.subchannels]) s.release();
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const w of waiting) w.done(undefined, new GrpcError(Status.UNAVAILABLE, 'channel is closed'));
  }

  private connect(): void {
    const state = this.watch.state;
    if (state === ConnectivityState.SHUTDOWN) return;
    if (!this.balancer) {
      this.failure = undefined;
      this.balancer = this.startBalancer();
      this.startIdleTimer();
    }
    if (state === ConnectivityState.IDLE) this.balancer.exitIdle();
  }

  private startBalancer(): ResolvingBalancer {
    const { uri, factory } = this.resolution;
    const helper: BalancerHelper = {
      createSubchannel: (address) => this.createSubchannel(address),
      update: (state, picker) => {
        // Updates from a balancer dropped at the idle timeout (or shutdown) no longer count.
        if (this.balancer === balancer) this.updated(state, picker);
      },
      requestResolution: () => balancer.requestResolution(),
    };
    const balancer = new ResolvingBalancer(uri, factory, this.options.resolver ?? {}, this.options.serviceConfig, helper);
    return balancer;
  }

  private createSubchannel(address: Address): Subchannel {
    const connection = new ClientConnection(dialTarget(address, this.authority), this.options, this.keepalive);
    connection.wanted = this.waiters.size > 0;
    const subchannel = new Subchannel(address, connection, (s) => this.subchannels.delete(s));
    this.subchannels.add(subchannel);
    return subchannel;
  }

  private updated(state: ConnectivityState, picker: Picker): void {
    if (this.watch.state === ConnectivityState.SHUTDOWN) return;
    this.picker = picker;
    this.watch.set(state);
    if (state === ConnectivityState.READY) this.failure = undefined;
    for (const waiter of [...this.waiters]) {
      if (this.serve(waiter, picker.pick())) this.waiters.delete(waiter);
    }
    if (this.waiters.size === 0) this.setWanted(false);
    // A policy gone IDLE (its connection was lost) reconnects at once for calls still waiting.
    else if (state === ConnectivityState.IDLE) this.balancer?.exitIdle();
  }

  /** Ends a waiting call's wait if the pick allows; false if it must keep waiting. */
  private serve(waiter: Waiter, pick: Pick): boolean {
    if (pick.kind === 'ready') {
      const session = (pick.subchannel as Subchannel).connection.readySession;
      if (!session) return false;
      waiter.done(session, undefined);
      return true;
    }
    if (pick.kind === 'fail') {
      this.failure = pick.error;
      if (waiter.waitForReady) return false;
      waiter.done(undefined, new GrpcError(Status.UNAVAILABLE, `cannot connect to ${this.address}: ${pick.error.message}`));
      return true;
    }
    return false;
  }

  private setWanted(wanted: boolean): void {
    for (const s of this.subchannels) s.connection.wanted = wanted;
  }

  private withdraw(waiter: Waiter): void {
    if (!this.waiters.delete(waiter) || this.waiters.size > 0) return;
    this.setWanted(false);
    if (this.activeCalls === 0) this.idleSince = Date.now();
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
    if (!this.balancer || this.watch.state === ConnectivityState.SHUTDOWN) return;
    if (this.activeCalls > 0 || this.waiters.size > 0) return this.armIdleTimer(this.idleTimeoutMs);
    const idleFor = Date.now() - this.idleSince;
    if (idleFor < this.idleTimeoutMs) return this.armIdleTimer(this.idleTimeoutMs - idleFor);
    const balancer = this.balancer;
    this.balancer = undefined;
    balancer.close();
    for (const s of [...this.subchannels]) s.release();
    this.picker = waitPicker;
    this.watch.set(ConnectivityState.IDLE);
  }
}
