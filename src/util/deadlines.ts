import { MAX_TIMER_MS } from './timers.js';

/** A call waiting for its deadline; the fields belong to the Deadlines that holds it. */
export interface Expiring {
  /** Absolute deadline, in ms since the epoch. */
  readonly expiresAt: number;
  /** Position in the heap, -1 when not scheduled. */
  expirySlot: number;
  /** Called once when the deadline passes while still scheduled. */
  expire(): void;
}

/**
 * Every call's deadline on one timer: a binary min-heap of the calls themselves, so scheduling and
 * cancelling allocate nothing per call, and one Node timer armed for the earliest deadline. Calls
 * that share a timeout end up in deadline order, so most insertions never re-arm the timer (it fires
 * about once per timeout, whatever the call rate); a call that ends is taken out at once, so the
 * heap holds only live calls.
 */
export class Deadlines {
  private readonly heap: Expiring[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (ms since the epoch). */
  private armedFor = Infinity;

  get size(): number {
    return this.heap.length;
  }

  add(entry: Expiring): void {
    const heap = this.heap;
    entry.expirySlot = heap.length;
    heap.push(entry);
    this.up(entry.expirySlot);
    if (entry.expiresAt < this.armedFor) this.arm();
    else if (heap.length === 1) this.timer!.ref();
  }

  /**
   * Takes a call out (no-op if it is not scheduled). The timer stays armed, so that the next call need
   * not arm a new one (it re-arms or stops when it fires), but keeps the process alive only while
   * some call is waiting.
   */
  remove(entry: Expiring): void {
    const slot = entry.expirySlot;
    if (slot < 0) return;
    entry.expirySlot = -1;
    const heap = this.heap;
    const last = heap.pop()!;
    if (slot < heap.length) {
      heap[slot] = last;
      last.expirySlot = slot;
      this.down(slot);
      this.up(last.expirySlot);
    }
    if (heap.length === 0) this.timer?.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    const heap = this.heap;
    const now = Date.now();
    while (heap.length > 0 && heap[0].expiresAt <= now) {
      const entry = heap[0];
      this.remove(entry);
      entry.expire();
    }
    if (heap.length > 0 && !this.timer) this.arm();
  };

  private arm(): void {
    clearTimeout(this.timer);
    const at = this.heap[0].expiresAt;
    this.armedFor = at;
    // A deadline beyond the longest timer Node honours is reached in steps.
    this.timer = setTimeout(this.fire, Math.min(Math.max(at - Date.now(), 1), MAX_TIMER_MS));
  }

  private up(slot: number): void {
    const heap = this.heap;
    const entry = heap[slot];
    while (slot > 0) {
      const parentSlot = (slot - 1) >> 1;
      const parent = heap[parentSlot];
      if (parent.expiresAt <= entry.expiresAt) break;
      heap[slot] = parent;
      parent.expirySlot = slot;
      slot = parentSlot;
    }
    heap[slot] = entry;
    entry.expirySlot = slot;
  }

  private down(slot: number): void {
    const heap = this.heap;
    const entry = heap[slot];
    const n = heap.length;
    for (;;) {
      let child = 2 * slot + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1].expiresAt < heap[child].expiresAt) child++;
      if (heap[child].expiresAt >= entry.expiresAt) break;
      heap[slot] = heap[child];
      heap[slot].expirySlot = slot;
      slot = child;
    }
    heap[slot] = entry;
    entry.expirySlot = slot;
  }
}

/** The process-wide deadline timer shared by client and server calls. */
export const deadlines = new Deadlines();
