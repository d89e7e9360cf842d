import type { Readable } from 'node:stream';
import type { GrpcError } from '../index.js';

/** Bridges between Node streams (grpc-js call objects) and the native API's async iterables. */

/**
 * Turns pushes (from a Node Writable's _write) into an async iterator the
 * native server or client pulls from. Each pushed value's `done` callback
 * runs when the value is taken, so the Writable's own buffering gives
 * backpressure: the native side pulls the next value only after the
 * previous one was written and drained.
 */
export class Outbox<T> implements AsyncIterableIterator<T> {
  private readonly items: { value: T; done: () => void }[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private ended = false;
  private closed = false;
  private error: GrpcError | undefined;

  push(value: T, done: () => void): void {
    if (this.closed || this.ended) return done();
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      done();
      waiter.resolve({ value, done: false });
    } else {
      this.items.push({ value, done });
    }
  }

  /** No more values; with an error, the iterator throws it after the values already pushed. */
  end(error?: GrpcError): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    const waiter = this.waiter;
    if (waiter && this.items.length === 0) {
      this.waiter = undefined;
      if (error) waiter.reject(error);
      else waiter.resolve({ value: undefined, done: true });
    }
  }

  /** The consumer is gone (call cancelled): later pushes complete at once and are dropped. */
  close(): void {
    this.closed = true;
    for (const item of this.items.splice(0)) item.done();
    this.end();
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item) {
      item.done();
      return Promise.resolve({ value: item.value, done: false });
    }
    if (this.ended) return this.error ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** A Readable _read that pulls messages from an async iterable, honouring the Readable's backpressure. */
export function pullFrom(readable: Readable, source: AsyncIterable<unknown>, onError: (error: unknown) => void, onEnd?: () => void): () => void {
  const iterator = source[Symbol.asyncIterator]();
  let pulling = false;
  const pull = (): void => {
    pulling = true;
    iterator.next().then(
      (result) => {
        pulling = false;
        if (result.done) {
          readable.push(null);
          onEnd?.();
        } else if (readable.push(result.value)) {
          pull();
        }
      },
      (error) => {
        pulling = false;
        onError(error);
      },
    );
  };
  return () => {
    if (!pulling) pull();
  };
}

/**
 * Runs operations strictly in order: each starts once the one before it has
 * called its `release` (which an interceptor's `next` may do later,
 * asynchronously). grpc-js keeps the same order with pending flags. A loop
 * rather than recursion, so thousands of queued messages keep the stack flat.
 */
export class InOrder {
  private busy = false;
  private readonly waiting: ((release: () => void) => void)[] = [];

  run(op: (release: () => void) => void): void {
    this.waiting.push(op);
    this.drain();
  }

  private drain(): void {
    while (!this.busy && this.waiting.length > 0) {
      const op = this.waiting.shift()!;
      this.busy = true;
      let released = false;
      let synchronous = true;
      op(() => {
        if (released) return;
        released = true;
        this.busy = false;
        if (!synchronous) this.drain();
      });
      synchronous = false;
    }
  }
}

type Hook<T> = (value: T, next: (value: T) => void) => void;

/**
 * Makes event handlers that share one order: each runs its interceptor hook
 * (or passes the value straight on), and the next event waits until the
 * hook has called `next`, which delivers the value onward.
 */
export function orderedSteps(): <T>(hook: Hook<T> | undefined, deliver: (value: T) => void) => (value: T) => void {
  const order = new InOrder();
  return <T>(hook: Hook<T> | undefined, deliver: (value: T) => void) => (value: T) =>
    order.run((release) => {
      const next = (v: T) => {
        deliver(v);
        release();
      };
      if (hook) hook(value, next);
      else next(value);
    });
}
