/**
 * One Watch call's view of a changing value. Only the newest unsent value is
 * kept, so a slow reader costs one slot, not a queue: it skips stale states
 * and always ends on the latest one.
 */
export class StatusWatcher<T> {
  private pending: T | undefined;
  private lastSent: T | undefined;
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(initial: T) {
    this.pending = initial;
  }

  push(value: T): void {
    if (this.ended || value === (this.pending ?? this.lastSent)) return;
    this.pending = value;
    this.wakeReader();
  }

  /** Stops the watch once the pending value (if any) has been read. */
  end(): void {
    this.ended = true;
    this.wakeReader();
  }

  /** The next value to send, or undefined when the watch is over. */
  async next(): Promise<T | undefined> {
    while (this.pending === undefined && !this.ended) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const value = this.pending;
    this.pending = undefined;
    if (value !== undefined) this.lastSent = value;
    return value;
  }

  private wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
