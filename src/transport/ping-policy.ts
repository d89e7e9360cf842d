/**
 * The server's keepalive enforcement policy, as grpc-go's
 * keepalive.EnforcementPolicy and gRPC core's ping strikes: a client PING
 * that comes sooner than `minIntervalMs` after the previous one (or, with no
 * call in flight and `permitWithoutCalls` off, sooner than two hours after
 * it) is a strike; more than MAX_STRIKES in a row earn GOAWAY(ENHANCE_YOUR_CALM,
 * "too_many_pings"). Sending headers or data resets the count: pings are only
 * policed while the server has nothing else to say.
 */
export interface PingPolicyOptions {
  minIntervalMs: number;
  permitWithoutCalls: boolean;
}

/** Strikes tolerated before the GOAWAY (grpc-go and gRPC core both allow 2). */
export const MAX_STRIKES = 2;
/** Without calls and without permission, a client should not ping at all: grpc-go's two hours. */
const IDLE_PING_INTERVAL_MS = 2 * 60 * 60_000;

export class PingPolicy {
  private lastPingAt = -Infinity;
  private strikes = 0;
  /** Set whenever the server sends headers or data; cleared by the next ping. */
  responded = false;

  constructor(private readonly options: PingPolicyOptions) {}

  /** Records a received PING; true when the client has now pinged too often and must be sent away. */
  onPing(now: number, callsInFlight: number): boolean {
    const last = this.lastPingAt;
    this.lastPingAt = now;
    if (this.responded) {
      this.responded = false;
      this.strikes = 0;
      return false;
    }
    const allowed = callsInFlight === 0 && !this.options.permitWithoutCalls ? IDLE_PING_INTERVAL_MS : this.options.minIntervalMs;
    if (now - last < allowed) this.strikes++;
    return this.strikes > MAX_STRIKES;
  }
}
