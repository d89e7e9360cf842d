import type { RetryThrottling } from '../transport/service-config.js';

/**
 * gRFC A6 retry throttling, one per channel: every failed attempt costs a token, every
 * success earns back `tokenRatio`, and retries (or hedges) are allowed only while more than
 * half the tokens are left. Under sustained failure this stops retries from multiplying load.
 */
export class RetryThrottle {
  private tokens: number;

  constructor(private readonly config: RetryThrottling) {
    this.tokens = config.maxTokens;
  }

  /** Whether a new retry or hedged attempt may start now. */
  get allowsRetry(): boolean {
    return this.tokens > this.config.maxTokens / 2;
  }

  /** A failed attempt (a retryable or non-fatal code, or one with pushback). */
  recordFailure(): void {
    this.tokens = Math.max(0, this.tokens - 1);
  }

  recordSuccess(): void {
    this.tokens = Math.min(this.config.maxTokens, this.tokens + this.config.tokenRatio);
  }
}

/**
 * The delay before retry number `retry` (1 for the first): uniformly random in
 * [0, min(initialBackoff × multiplier^(retry-1), maxBackoff)), as A6 specifies.
 */
export function retryDelayMs(retry: number, policy: { initialBackoffMs: number; maxBackoffMs: number; backoffMultiplier: number }, random = Math.random): number {
  const ceiling = Math.min(policy.initialBackoffMs * policy.backoffMultiplier ** (retry - 1), policy.maxBackoffMs);
  return random() * ceiling;
}

/**
 * `grpc-retry-pushback-ms` from the server: a whole number of milliseconds to wait before the
 * next attempt, or `'stop'` to give up (negative or malformed, per A6); undefined when absent.
 */
export function parsePushback(value: string | undefined): number | 'stop' | undefined {
  if (value === undefined) return undefined;
  return /^\d{1,10}$/.test(value) ? Number(value) : 'stop';
}
