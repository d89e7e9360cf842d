export interface AsyncQueueOptions<T, Item> {
  /** Buffered items at which push() asks the producer to pause (default 16). */
  highWaterMark?: number;
  /** Buffered bytes, as the producer counts them in push(), at which push() asks it to pause (default unbounded). */
  byteLimit?: number;
  /**
   * Turns a buffered item into the value the consumer gets, when the consumer
   * takes it: costly work (inflating a compressed message) waits for demand, so
   * the buffer holds items in their small form. If it throws, the queue ends
   * with that error, drops what it holds and calls onError.
   */
  prepare?: (item: Item) => T;
}

/**
 * A buffered async iterator fed by push(). The producer learns about
 * backpressure from push()'s return value and from onDrain.
 */
export class AsyncQueue<T, Item = T> implements AsyncIterableIterator<T> {
  private items: Item[] = [];
  /** Byte size of each buffered item, by the same index as `items`. */
  private sizes: number[] = [];
  private head = 0;
  private bytes = 0;
  private waiting: { resolve(r: IteratorResult<T>): void; reject(e: unknown): void } | null = null;
  private ended = false;
  private failure: unknown = undefined;
  private readonly highWaterMark: number;
  private readonly byteLimit: number;
  private readonly prepare: ((item: Item) => T) | undefined;
  /** Called when the consumer has taken items and the buffer fell to the low-water mark. */
  onDrain: (() => void) | undefined;
  /** Called once if the consumer stops early (break, throw or return()) before the end or with items left. */
  onReturn: (() => void) | undefined;
  /** Called when prepare() failed; the consumer receives the same error. */
  onError: ((error: unknown) => void) | undefined;

  constructor(options: AsyncQueueOptions<T, Item> = {}) {
    this.highWaterMark = options.highWaterMark ?? 16;
    this.byteLimit = options.byteLimit ?? Infinity;
    this.prepare = options.prepare;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Adds an item of `size` bytes; false means the buffer is full and the producer should pause. */
  push(item: Item, size = 0): boolean {
    if (this.ended) return false;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      if (!this.prepare) {
        w.resolve({ value: item as unknown as T, done: false });
        return true;
      }
      let value: T;
      try {
        value = this.prepare(item);
      } catch (err) {
        this.fail(err);
        w.reject(err);
        return false;
      }
      w.resolve({ value, done: false });
      return true;
    }
    this.items.push(item);
    this.sizes.push(size);
    this.bytes += size;
    return this.length < this.highWaterMark && this.bytes < this.byteLimit;
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
      const item = this.items[this.head];
      this.bytes -= this.sizes[this.head];
      this.items[this.head++] = undefined as Item;
      if (this.head === this.items.length) this.clear();
      if (this.length === 0 && this.onDrain && !this.ended) this.onDrain();
      if (!this.prepare) return Promise.resolve({ value: item as unknown as T, done: false });
      try {
        return Promise.resolve({ value: this.prepare(item), done: false });
      } catch (err) {
        this.fail(err);
        return Promise.reject(err);
      }
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
    // Early: before the end, or with items the consumer will now never see.
    const stoppedEarly = !this.ended || this.length > 0;
    this.ended = true;
    this.failure = undefined;
    this.clear();
    if (stoppedEarly && this.onReturn) this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private clear(): void {
    this.items = [];
    this.sizes = [];
    this.head = 0;
    this.bytes = 0;
  }

  /** prepare() threw: what is still buffered will never be delivered. */
  private fail(error: unknown): void {
    this.ended = true;
    this.failure = undefined;
    this.clear();
    this.onError?.(error);
  }
}
