import type { Metadata } from '../wire/metadata.js';
import type { CallCredentials } from './call-credentials.js';
import type { ClientInterceptor } from './interceptors.js';

/** Per-call options, the last argument of every stub and Channel method. */
export interface CallOptions {
  /** Milliseconds the call may take; sent as grpc-timeout and enforced here too. */
  timeout?: number;
  /** Absolute deadline; the earlier of this and `timeout` wins. */
  deadline?: Date;
  /** Aborting cancels the call (CANCELLED) and resets its stream. */
  signal?: AbortSignal;
  /** Request metadata. */
  metadata?: Metadata;
  /** Compresses request messages with this encoding. */
  compression?: 'gzip' | 'deflate' | 'identity';
  /**
   * Wait for a connection instead of failing fast (doc/wait-for-ready.md): by default a call made while
   * the channel is in TRANSIENT_FAILURE fails at once with UNAVAILABLE; with this it waits through
   * connecting and backoff until the channel is READY, its deadline passes, or the channel closes.
   */
  waitForReady?: boolean;
  /** Called with the response headers' metadata when they arrive. */
  onHeader?(metadata: Metadata): void;
  /** Called with the trailing metadata when the call ends (also on error). */
  onTrailer?(metadata: Metadata): void;
  /** Interceptors for this call only, run inside (after) the channel's. */
  interceptors?: readonly ClientInterceptor[];
  /** Credentials for this call, applied after the channel's. */
  callCredentials?: CallCredentials;
}

/** Milliseconds from now until the effective deadline, or undefined for none. */
export function remainingTime(options: CallOptions): number | undefined {
  let remaining: number | undefined = options.timeout;
  if (options.deadline) {
    const untilDeadline = options.deadline.getTime() - Date.now();
    remaining = remaining === undefined ? untilDeadline : Math.min(remaining, untilDeadline);
  }
  return remaining;
}
