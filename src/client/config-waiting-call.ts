import type { ConnectionManager } from '../transport/connection-manager.js';
import type { GrpcError } from '../wire/error.js';
import type { CallHandle } from './call-handle.js';
import { remainingTime, type CallOptions } from './call-options.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A call made before the resolver's first answer. Its method config (timeout, waitForReady,
 * size limits, retry or hedging policy) may come from the resolver's service config, so the
 * real call is only built once that answer is known; until then what the caller does is
 * recorded and replayed in order. The call's deadline and abort signal still count while it
 * waits: either builds the real call at once, which then ends as it would have.
 * Once a channel has resolved, calls skip this layer entirely.
 */
export class ConfigWaitingCall<Req> implements CallHandle<Req> {
  private call: CallHandle<Req> | undefined;
  private readonly pending: ((call: CallHandle<Req>) => void)[] = [];
  private withdraw: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private abortListener: (() => void) | undefined;
  private options: CallOptions;

  constructor(
    private readonly connection: ConnectionManager,
    options: CallOptions,
    private readonly build: (options: CallOptions) => CallHandle<Req>,
  ) {
    this.options = options;
  }

  get isFinished(): boolean {
    return this.call?.isFinished ?? false;
  }

  start(): void {
    if (this.call) return this.call.start();
    this.pending.push((call) => call.start());
    this.wait();
  }

  startWith(request: Req): void {
    if (this.call) return this.call.startWith(request);
    this.pending.push((call) => call.startWith(request));
    this.wait();
  }

  private wait(): void {
    // The wait counts against the call's timeout: fix it as a deadline now.
    const remaining = remainingTime(this.options);
    if (remaining !== undefined) {
      this.options = { ...this.options, timeout: undefined, deadline: new Date(Date.now() + remaining) };
      if (remaining <= MAX_TIMER_MS) this.timer = setTimeout(() => this.proceed(), Math.max(remaining, 0));
    }
    const { signal } = this.options;
    if (signal?.aborted) return this.proceed();
    if (signal) {
      this.abortListener = () => this.proceed();
      signal.addEventListener('abort', this.abortListener, { once: true });
    }
    this.withdraw = this.connection.whenConfigKnown(() => this.proceed());
  }

  write(request: Req, compress?: boolean): Promise<void> {
    if (this.call) return this.call.write(request, compress);
    return new Promise((resolve, reject) => this.enqueue((call) => call.write(request, compress).then(resolve, reject)));
  }

  writeLast(request: Req): void {
    this.enqueue((call) => call.writeLast(request));
  }

  end(): void {
    this.enqueue((call) => call.end());
  }

  cancelWith(error: GrpcError): void {
    this.enqueue((call) => call.cancelWith(error));
    this.proceed();
  }

  pause(): void {
    this.enqueue((call) => call.pause());
  }

  resume(): void {
    this.enqueue((call) => call.resume());
  }

  private enqueue(op: (call: CallHandle<Req>) => void): void {
    if (this.call) op(this.call);
    else this.pending.push(op);
  }

  /** Builds the real call with the service config now in force and replays what was recorded. */
  private proceed(): void {
    if (this.call) return;
    this.withdraw?.();
    clearTimeout(this.timer);
    if (this.abortListener) this.options.signal!.removeEventListener('abort', this.abortListener);
    this.call = this.build(this.options);
    for (const op of this.pending.splice(0)) op(this.call);
  }
}
