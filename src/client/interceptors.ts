import type { CallKind, MethodDefinition } from '../service.js';
import { GrpcError, toGrpcError } from '../wire/error.js';
import type { Metadata } from '../wire/metadata.js';
import { Status } from '../wire/status.js';
import type { CallOptions } from './call-options.js';

/** How a call ended: `error` is undefined for OK. */
export interface ClientCallStatus {
  /** The call's error; undefined when it ended OK. */
  error: GrpcError | undefined;
  /** The trailing metadata the server sent with the status. */
  trailers: Metadata;
}

/** What comes back on a call, in this order: headers (at most once), messages, then exactly one status. */
export interface CallListener<Res = any> {
  /** The response headers' metadata. */
  onReceiveMetadata(metadata: Metadata): void;
  /** One response message. */
  onReceiveMessage(message: Res): void;
  /** The call ended; nothing follows. */
  onReceiveStatus(status: ClientCallStatus): void;
}

/**
 * The rest of the chain below an interceptor, down to the network: what goes
 * out on a call. start() comes first; the others may follow in any order.
 */
export interface OutgoingCall<Req = any, Res = any> {
  /** Starts the call with request metadata; `listener` hears what comes back. */
  start(metadata: Metadata, listener: CallListener<Res>): void;
  /** Resolves when the transport can take more (backpressure). */
  sendMessage(message: Req, compress?: boolean): Promise<void>;
  /** No more requests. */
  halfClose(): void;
  /** Cancels the call: the stream is reset and the listener gets `error` as the status. */
  cancel(error: GrpcError): void;
}

/** What an interceptor knows about the call it is given. */
export interface ClientCallInfo<Req = any, Res = any> {
  /** The method being called. */
  readonly method: MethodDefinition<Req, Res>;
  /** Its streaming shape. */
  readonly kind: CallKind;
  /** The channel's target, as given to `new Channel()`. */
  readonly target: string;
  /** The call's options; a `timeout` has already been turned into `deadline`. */
  readonly options: CallOptions;
}

/**
 * Wraps one call. `next()` makes the call below this interceptor (the next
 * interceptor, or the network); calling it again makes a fresh attempt, which
 * is how a retrying interceptor works. Most interceptors only need
 * `interceptCall(next(), hooks)`.
 */
export type ClientInterceptor = (call: ClientCallInfo, next: () => OutgoingCall) => OutgoingCall;

/**
 * Per-operation hooks for interceptCall(). Each hook passes the operation on
 * with `next` (possibly with a new value), drops it by not calling `next`
 * (messages only), or fails the call by throwing (a GrpcError keeps its
 * status; anything else becomes INTERNAL). A hook may be async: later
 * operations in the same direction wait until its promise settles, so order
 * is kept. start, halfClose, onReceiveMetadata and onReceiveStatus must call
 * `next` before they return or settle.
 */
export interface ClientHooks<Req = any, Res = any> {
  /** The call starts with this request metadata. */
  start?(metadata: Metadata, next: (metadata: Metadata) => void): void | Promise<void>;
  /** A request message goes out. */
  sendMessage?(message: Req, next: (message: Req) => void): void | Promise<void>;
  /** The client has no more requests. */
  halfClose?(next: () => void): void | Promise<void>;
  /** Runs at once (never queued): a cancel must not wait behind a slow hook. */
  cancel?(error: GrpcError, next: (error: GrpcError) => void): void;
  /** Response headers came in. */
  onReceiveMetadata?(metadata: Metadata, next: (metadata: Metadata) => void): void | Promise<void>;
  /** A response message came in. */
  onReceiveMessage?(message: Res, next: (message: Res) => void): void | Promise<void>;
  /** The call ended with this status. */
  onReceiveStatus?(status: ClientCallStatus, next: (status: ClientCallStatus) => void): void | Promise<void>;
}

/** An OutgoingCall that runs `hooks` around `downstream`. */
export function interceptCall<Req, Res>(downstream: OutgoingCall<Req, Res>, hooks: ClientHooks<Req, Res>): OutgoingCall<Req, Res> {
  return new HookedCall(downstream, hooks);
}

type Step = () => void | Promise<void>;

/**
 * Runs steps one after another: synchronously while every step is synchronous,
 * and behind the previous step's promise once one of them is async.
 */
class StepQueue {
  private tail: Promise<void> | undefined;

  constructor(private readonly onError: (err: unknown) => void) {}

  /** Runs or queues `step`; returns a promise only if it did not finish synchronously. */
  run(step: Step): Promise<void> | undefined {
    const done = this.tail ? this.tail.then(() => this.attempt(step)) : this.attempt(step);
    if (!done) return undefined;
    this.tail = done;
    void done.then(() => {
      if (this.tail === done) this.tail = undefined;
    });
    return done;
  }

  private attempt(step: Step): Promise<void> | undefined {
    try {
      const result = step();
      if (result && typeof result.then === 'function') return result.then(undefined, this.onError);
    } catch (err) {
      this.onError(err);
    }
    return undefined;
  }
}

class HookedCall<Req, Res> implements OutgoingCall<Req, Res>, CallListener<Res> {
  private listener: CallListener<Res> | undefined;
  private started = false;
  private ended = false;
  private readonly outgoing = new StepQueue((err) => this.fail(err));
  private readonly incoming = new StepQueue((err) => this.fail(err));

  constructor(private readonly downstream: OutgoingCall<Req, Res>, private readonly hooks: ClientHooks<Req, Res>) {}

  start(metadata: Metadata, listener: CallListener<Res>): void {
    this.listener = listener;
    const { hooks } = this;
    if (!hooks.start) return this.startDownstream(metadata);
    this.outgoing.run(() => this.required('start', (next) => hooks.start!(metadata, next), (md: Metadata) => this.startDownstream(md)));
  }

  sendMessage(message: Req, compress?: boolean): Promise<void> {
    let forwarded: Promise<void> | undefined;
    const send = (m: Req) => {
      if (!this.ended) forwarded = this.downstream.sendMessage(m, compress);
    };
    const hook = this.hooks.sendMessage;
    const done = this.outgoing.run(hook ? () => hook(message, send) : () => send(message));
    if (!done) return forwarded ?? Promise.resolve();
    return done.then(() => forwarded);
  }

  halfClose(): void {
    const hook = this.hooks.halfClose;
    const close = () => {
      if (!this.ended) this.downstream.halfClose();
    };
    this.outgoing.run(hook ? () => this.required('halfClose', hook, close) : close);
  }

  cancel(error: GrpcError): void {
    if (this.ended) return;
    const forward = (e: GrpcError) => {
      if (this.started) this.downstream.cancel(e);
      else this.deliverStatus({ error: e, trailers: e.metadata });
    };
    if (!this.hooks.cancel) return forward(error);
    try {
      this.hooks.cancel(error, forward);
    } catch {
      forward(error); // a broken cancel hook must not keep the call alive
    }
  }

  onReceiveMetadata(metadata: Metadata): void {
    const hook = this.hooks.onReceiveMetadata;
    const pass = (md: Metadata) => {
      if (!this.ended) this.listener!.onReceiveMetadata(md);
    };
    this.incoming.run(hook ? () => this.required('onReceiveMetadata', (next) => hook(metadata, next), pass) : () => pass(metadata));
  }

  onReceiveMessage(message: Res): void {
    const hook = this.hooks.onReceiveMessage;
    const pass = (m: Res) => {
      if (!this.ended) this.listener!.onReceiveMessage(m);
    };
    this.incoming.run(hook ? () => hook(message, pass) : () => pass(message));
  }

  onReceiveStatus(status: ClientCallStatus): void {
    const hook = this.hooks.onReceiveStatus;
    const pass = (s: ClientCallStatus) => this.deliverStatus(s);
    this.incoming.run(hook ? () => this.required('onReceiveStatus', (next) => hook(status, next), pass) : () => pass(status));
  }

  private startDownstream(metadata: Metadata): void {
    if (this.ended || this.started) return;
    this.started = true;
    this.downstream.start(metadata, this);
  }

  private deliverStatus(status: ClientCallStatus): void {
    if (this.ended) return;
    this.ended = true;
    this.listener!.onReceiveStatus(status);
  }

  /** A hook thrown or rejected: the call ends with its status, and the call below is cancelled. */
  private fail(err: unknown): void {
    if (this.ended) return;
    const error = toGrpcError(err, Status.INTERNAL, 'a client interceptor failed');
    this.deliverStatus({ error, trailers: error.metadata });
    if (this.started) this.downstream.cancel(error);
  }

  /**
   * Runs a hook whose operation must not be dropped: if it settles without
   * calling next, the call fails rather than hanging.
   */
  private required<T extends unknown[]>(
    name: string,
    hook: (next: (...args: T) => void) => void | Promise<void>,
    forward: (...args: T) => void,
  ): void | Promise<void> {
    let called = false;
    const next = (...args: T) => {
      called = true;
      forward(...args);
    };
    const check = () => {
      if (!called && !this.ended) throw new GrpcError(Status.INTERNAL, `a client interceptor's ${name} hook returned without calling next`);
    };
    const result = hook(next);
    if (result && typeof result.then === 'function') return result.then(check);
    check();
  }
}
