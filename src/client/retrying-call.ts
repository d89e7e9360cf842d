import type http2 from 'node:http2';
import type { Compressor } from '../wire/compression.js';
import { GrpcError } from '../wire/error.js';
import { isTracing, trace } from '../observability/trace.js';
import { Status } from '../wire/status.js';
import { MAX_TIMER_MS } from '../util/timers.js';
import type { CompressedMessage } from '../transport/message-io.js';
import {
  CallAttempt, type AttemptListener, type AttemptOutcome, type AttemptSetup, type CallStream, type QueuedWrite, type ResponseListener,
} from './call-attempt.js';
import type { CallPolicy } from './retry-state.js';
import { RequestLog } from './request-log.js';
import { parsePushback, retryDelayMs } from './retry-throttle.js';

const RESOLVED = Promise.resolve();
/** The status observers see for a hedged attempt cancelled because another one settled the call. */
const LOST_HEDGE = new GrpcError(Status.CANCELLED, 'another attempt of the call settled it');

/** Attempt number n's setup: the call's, plus `grpc-previous-rpc-attempts` from the second attempt on. */
class NumberedSetup<Res> implements AttemptSetup<Res> {
  constructor(private readonly base: AttemptSetup<Res>, private readonly previous: number) {}
  get connection() { return this.base.connection; }
  get path() { return this.base.path; }
  get maxReceiveMessageSize() { return this.base.maxReceiveMessageSize; }
  get deadlineAt() { return this.base.deadlineAt; }
  get keepsCompressed() { return this.base.keepsCompressed; }
  get waitForReady() { return this.base.waitForReady; }
  get wantsOkTrailers() { return this.base.wantsOkTrailers; }
  get deserialize() { return this.base.deserialize; }
  requestHeaders(): Readonly<http2.OutgoingHttpHeaders> {
    const headers = this.base.requestHeaders();
    // The base's object may be shared by other calls: the attempt count goes on a copy.
    return this.previous > 0 ? { ...headers, 'grpc-previous-rpc-attempts': String(this.previous) } : headers;
  }
}

/** One attempt, reporting to the call with itself as the source. */
class Attempt<Res> implements AttemptListener<Res> {
  readonly stream: CallAttempt<Res>;
  constructor(private readonly owner: RetryingCall<Res>, readonly number: number) {
    this.stream = new CallAttempt(new NumberedSetup(owner.setup, number), this);
  }
  writtenBeforeOpen(): readonly QueuedWrite[] { return this.owner.replay(); }
  headers(raw: readonly string[]): void { this.owner.attemptHeaders(this, raw); }
  message(r: Res, compressed: boolean, size: number): void { this.owner.attemptMessage(this, r, compressed, size); }
  compressedMessage(r: CompressedMessage<Res>, size: number): void { this.owner.attemptCompressed(this, r, size); }
  ended(outcome: AttemptOutcome): void { this.owner.attemptEnded(this, outcome); }
}

/**
 * Retries and hedging by service config policy (gRFC A6), in place of the plain transparent
 * retry layer. Requests are kept so that a new attempt can replay them. The call commits to
 * one attempt — and makes no new ones — when that attempt receives response headers or a
 * message, when the kept requests pass the per-call or per-channel buffer limit, or when it
 * ends with a status the policy does not retry; from then on only that attempt is heard.
 *
 * Retry: one attempt at a time; after a retryable status, the next starts after a jittered
 * exponential backoff, or the server's grpc-retry-pushback-ms (a negative one stops retrying).
 * Hedging: a new attempt every hedgingDelay, and at once after a non-fatal status, up to
 * maxAttempts in all; the first to get response headers wins and the others are cancelled.
 * Both count against the channel's retry throttle. An attempt the server never saw is made
 * again at once, once per call, without counting (transparent retry).
 */
export class RetryingCall<Res> implements CallStream {
  private readonly live = new Set<Attempt<Res>>();
  private committed: Attempt<Res> | undefined;
  /** Requests written so far; dropped once committed and handed to the committed attempt. */
  private readonly log = new RequestLog();
  /** Bytes counted against the channel's buffer (only while not committed). */
  private charged = 0;
  private halfClosed = false;
  private started = 0;
  private retries = 0;
  private transparentRetried = false;
  /** The buffer overflowed before the first attempt existed: commit to it when it starts. */
  private commitOnLaunch = false;
  /** How the latest attempt ended, for a call that stops retrying between attempts. */
  private lastOutcome: AttemptOutcome | undefined;
  private timer: NodeJS.Timeout | undefined;
  private finished = false;
  private readonly maxAttempts: number;

  constructor(readonly setup: AttemptSetup<Res>, private readonly listener: ResponseListener<Res>, private readonly policy: CallPolicy) {
    this.maxAttempts = (policy.retry ?? policy.hedging)!.maxAttempts;
  }

  get opened(): boolean {
    for (const a of this.live) if (a.stream.opened) return true;
    return false;
  }

  start(): void {
    this.startAttempt();
  }

  write(bytes: Uint8Array, compressor: Compressor | undefined, last: boolean): Promise<void> {
    if (this.halfClosed || this.finished) return RESOLVED;
    if (last) this.halfClosed = true;
    const committedOpen = this.committed?.stream.opened;
    // Kept for replays, and for attempts whose stream has not opened yet (their only copy).
    if (!committedOpen) this.keep(bytes, compressor);
    let result: Promise<void> | undefined;
    for (const a of this.live) {
      if (a.stream.opened) result = a.stream.write(bytes, compressor, last);
      else if (last) a.stream.end();
    }
    // No stream took it: held until one opens, and the writer waits once too much is held.
    return result ?? this.log.waitForStream();
  }

  end(): void {
    if (this.halfClosed || this.finished) return;
    this.halfClosed = true;
    for (const a of this.live) a.stream.end();
  }

  cancel(reason: GrpcError): void {
    this.finished = true;
    clearTimeout(this.timer);
    this.release();
    for (const a of this.live) a.stream.cancel(reason);
    this.live.clear();
  }

  pause(): void {
    for (const a of this.live) a.stream.pause();
  }

  resume(): void {
    for (const a of this.live) a.stream.resume();
  }

  /** What an attempt sends first when its stream opens: every request so far. */
  replay(): readonly QueuedWrite[] {
    const queued = this.log.take(this.committed !== undefined);
    if (this.committed) this.release(); // the committed attempt is the last to need them
    return queued;
  }

  attemptHeaders(attempt: Attempt<Res>, raw: readonly string[]): void {
    if (this.commit(attempt)) this.listener.headers(raw);
  }

  attemptMessage(attempt: Attempt<Res>, response: Res, compressed: boolean, size: number): void {
    if (this.commit(attempt)) this.listener.message(response, compressed, size);
  }

  attemptCompressed(attempt: Attempt<Res>, response: CompressedMessage<Res>, size: number): void {
    if (this.commit(attempt)) this.listener.compressedMessage(response, size);
  }

  attemptEnded(attempt: Attempt<Res>, outcome: AttemptOutcome): void {
    if (!this.live.delete(attempt) || this.finished) return;
    if (this.committed && this.committed !== attempt) return;
    if (outcome.neverProcessed && !this.transparentRetried && !this.log.dropped && !this.committed) {
      this.transparentRetried = true;
      if (isTracing('call')) trace('call', `${this.setup.path} to ${this.setup.connection.address}: retrying transparently (${outcome.error?.message})`);
      this.launch(attempt.number);
      return;
    }
    const code = outcome.error?.code ?? Status.OK;
    const retryable = code !== Status.OK && this.retryableCodes().has(code);
    const { throttle } = this.policy;
    if (code === Status.OK) throttle?.recordSuccess();
    else if (retryable) throttle?.recordFailure();
    if (this.committed || !retryable) return this.finish(outcome);
    this.lastOutcome = outcome;
    const pushback = parsePushback(outcome.pushback);
    const more = pushback !== 'stop' && !this.log.dropped && this.started < this.maxAttempts && (throttle?.allowsRetry ?? true);
    if (this.policy.hedging) {
      if (!more) {
        // No new attempt: the call ends with the last of those still running.
        if (this.live.size === 0) this.finish(outcome);
        else clearTimeout(this.timer);
        return;
      }
      if (pushback !== undefined && !this.fitsBeforeDeadline(pushback)) {
        // Pushed back beyond what can be waited for: no new hedge, the running ones may still answer.
        clearTimeout(this.timer);
        if (this.live.size === 0) this.finish(outcome);
        return;
      }
      return this.scheduleHedge(pushback ?? 0);
    }
    if (!more) return this.finish(outcome);
    const delay = pushback ?? retryDelayMs(++this.retries, this.policy.retry!);
    // A retry that could only start after the deadline (or after a delay no timer can wait) is no retry.
    if (!this.fitsBeforeDeadline(delay)) return this.finish(outcome);
    if (isTracing('call')) trace('call', `${this.setup.path} to ${this.setup.connection.address}: retry ${this.retries} in ${Math.round(delay)} ms after ${outcome.error?.message}`);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.finished) this.startAttempt();
    }, delay);
  }

  private retryableCodes(): ReadonlySet<Status> {
    return this.policy.retry ? this.policy.retry.retryableStatusCodes : this.policy.hedging!.nonFatalStatusCodes;
  }

  private startAttempt(): void {
    this.launch(this.started++);
    const hedging = this.policy.hedging;
    if (hedging && this.started < this.maxAttempts && this.fitsBeforeDeadline(hedging.hedgingDelayMs)) this.scheduleHedge(hedging.hedgingDelayMs);
  }

  /**
   * Whether an attempt `delayMs` from now could still start: before the deadline, and within what
   * setTimeout can wait (Node fires longer delays after 1 ms).
   */
  private fitsBeforeDeadline(delayMs: number): boolean {
    if (delayMs > MAX_TIMER_MS) return false;
    const { deadlineAt } = this.setup;
    return deadlineAt === undefined || Date.now() + delayMs < deadlineAt;
  }

  private scheduleHedge(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.finished || this.committed || this.log.dropped) return;
      if (this.policy.throttle?.allowsRetry ?? true) this.startAttempt();
    }, delayMs);
  }

  private launch(number: number): void {
    const attempt = new Attempt(this, number);
    this.live.add(attempt);
    if (this.commitOnLaunch) this.commit(attempt);
    if (this.halfClosed) attempt.stream.end();
    attempt.stream.start();
  }

  /** Whether `attempt` is the one the caller hears from; the first to ask becomes it. */
  private commit(attempt: Attempt<Res>): boolean {
    if (this.committed) return this.committed === attempt;
    this.committed = attempt;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const other of this.live) if (other !== attempt) other.stream.cancel(LOST_HEDGE);
    this.live.clear();
    this.live.add(attempt);
    if (attempt.stream.opened) this.release();
    return true;
  }

  private keep(bytes: Uint8Array, compressor: Compressor | undefined): void {
    this.log.keep(bytes, compressor);
    if (this.committed) return;
    const { buffer } = this.policy;
    if (this.log.keptBytes > buffer.perCallLimit || buffer.used + bytes.length > buffer.channelLimit) {
      // Past a buffer limit: no more replays. Commit to the attempt running (or about to run) now.
      const [current] = this.live;
      if (current) this.commit(current);
      // Between attempts (in backoff) there is none to commit to: the call ends with the status that led here.
      else if (this.lastOutcome) this.finish(this.lastOutcome);
      else this.commitOnLaunch = true;
      return;
    }
    buffer.used += bytes.length;
    this.charged += bytes.length;
  }

  /** Gives the kept requests' bytes back to the channel; no more replays. */
  private release(): void {
    this.policy.buffer.used -= this.charged;
    this.charged = 0;
    this.log.drop();
  }

  private finish(outcome: AttemptOutcome): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.release();
    // A final status ends the hedges still running.
    for (const a of this.live) a.stream.cancel(LOST_HEDGE);
    this.live.clear();
    this.listener.ended(outcome);
  }
}
