// Memory measurement: resident set and live heap of client and server after
// many unary calls and after many streams.

export interface MemSnapshot {
  rss: number;
  heapUsed: number;
}

/** Memory after a forced full GC (needs --expose-gc), so heapUsed is what is retained. */
export function memorySnapshot(): MemSnapshot {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}
