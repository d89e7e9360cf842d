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
  /**
   * The :authority this call sends instead of the channel's (virtual hosting behind a proxy). Only the
   * header changes: the connection, and the TLS name it checks, stay the channel's.
   */
  authority?: string;
}

/** An :authority must be host[:port]-like text: no spaces, no path (RFC 3986 authority characters). */
export function checkAuthority(authority: unknown, what: string): void {
  if (authority === undefined) return;
  if (typeof authority !== 'string' || !/^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]+$/.test(authority)) {
    throw new TypeError(`${what} must be a non-empty authority (host or host:port), got ${JSON.stringify(authority)}`);
  }
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
