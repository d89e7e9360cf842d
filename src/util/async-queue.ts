/**
 * A buffered async iterator fed by push(). The producer learns about
 * backpressure from push()'s return value and from onDrain.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private head = 0;
  private waiting: { resolve(r: IteratorResult<T>): void; reject(e: unknown): void } | null = null;
  private ended = false;
  private failure: unknown = undefined;
  /** Called when the consumer has taken items and the buffer fell to the low-water mark. */
  onDrain: (() => void) | undefined;
  /** Called once if the consumer stops early (break, throw or return()). */
  onReturn: (() => void) | undefined;

  constructor(private readonly highWaterMark = 16) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** Adds an item; false means the buffer is full and the producer should pause. */
  push(item: T): boolean {
    if (this.ended) return false;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.resolve({ value: item, done: false });
      return true;
    }
    this.items.push(item);
    return this.length < this.highWaterMark;
  }

  /** Ends the stream after the buffered items; with an error, the iterator throws it then. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    if (this.waiting && this.length === 0) {
      const w = this.waiting;
      this.waiting = null;
      if (error === undefined) w.resolve({ value: undefined, done: true });
      else w.reject(error);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.length > 0) {
      const value = this.items[this.head];
      this.items[this.head++] = undefined as T;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      }
      if (this.length === 0 && this.onDrain && !this.ended) this.onDrain();
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) {
      if (this.failure !== undefined) {
        const failure = this.failure;
        this.failure = undefined;
        return Promise.reject(failure);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      if (this.onDrain) this.onDrain();
    });
  }

  return(): Promise<IteratorResult<T>> {
    const stoppedEarly = !this.ended;
    this.ended = true;
    this.failure = undefined;
    this.items = [];
    this.head = 0;
    if (stoppedEarly && this.onReturn) this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
