/** Reconnect backoff from gRPC's connection-backoff spec: 1 s, x1.6, ±20% jitter, at most 120 s. */
export class Backoff {
  private next: number;

  constructor(
    private readonly initialMs = 1000,
    private readonly maxMs = 120_000,
    private readonly multiplier = 1.6,
    private readonly jitter = 0.2,
  ) {
    this.next = initialMs;
  }

  /** The delay before the next attempt; each call grows the one after. */
  nextDelay(): number {
    const base = this.next;
    this.next = Math.min(this.next * this.multiplier, this.maxMs);
    return base * (1 + this.jitter * (Math.random() * 2 - 1));
  }

  reset(): void {
    this.next = this.initialMs;
  }
}
