import type { HedgingPolicy, MethodConfig, RetryPolicy, ServiceConfig } from '../transport/service-config.js';
import { RetryThrottle } from './retry-throttle.js';

/** Request bytes kept for replays, shared by every call of a channel. */
export class RetryBuffer {
  used = 0;
  constructor(readonly channelLimit: number, readonly perCallLimit: number) {}
}

/** What a call's retry layer follows: its method's policy (one of the two), and the channel's throttle and buffer. */
export interface CallPolicy {
  readonly retry?: RetryPolicy;
  readonly hedging?: HedgingPolicy;
  readonly throttle: RetryThrottle | undefined;
  readonly buffer: RetryBuffer;
}

/** Defaults as in grpc-js: 16 MiB of buffered requests per channel, 1 MiB per call. */
const DEFAULT_CHANNEL_BUFFER = 16 << 20;
const DEFAULT_CALL_BUFFER = 1 << 20;

/**
 * A channel's retry state: the shared request buffer, and the throttle of the service config
 * in force (a new config starts its own token bucket).
 */
export class ChannelRetries {
  private readonly buffer: RetryBuffer;
  private throttled: { config: ServiceConfig; throttle: RetryThrottle | undefined } | undefined;

  constructor(channelLimit = DEFAULT_CHANNEL_BUFFER, perCallLimit = DEFAULT_CALL_BUFFER) {
    this.buffer = new RetryBuffer(channelLimit, perCallLimit);
  }

  /** The policy a call of `method` follows, or undefined when it has none (the plain path). */
  policyFor(config: ServiceConfig, method: MethodConfig): CallPolicy | undefined {
    if (!method.retryPolicy && !method.hedgingPolicy) return undefined;
    if (this.throttled?.config !== config) {
      this.throttled = { config, throttle: config.retryThrottling && new RetryThrottle(config.retryThrottling) };
    }
    return { retry: method.retryPolicy, hedging: method.hedgingPolicy, throttle: this.throttled.throttle, buffer: this.buffer };
  }
}
