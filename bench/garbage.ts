// Garbage per call: bytes allocated on the V8 heap while a fixed number of
// calls run, divided by the calls. Method: force a full GC, then run the
// calls under v8.GCProfiler; every GC it records says how much it freed
// (used heap before minus after), so
//   allocated = freed by GCs during the run + (used heap at end − at start).
// This counts JS heap objects (including Buffer/ArrayBuffer wrappers and the
// small-Buffer pool slabs as they are created), not malloc'd memory outside
// the heap. It is deterministic up to GC timing (a few %), needs no flags
// beyond --expose-gc (for the starting GC), and works in any process, so the
// client and the server are each measured in their own process.
import v8 from 'node:v8';

export interface GarbageCounter {
  /** Stops counting; returns bytes allocated and GCs seen since start. */
  stop(): { bytes: number; gcs: number; gcMs: number };
}

export function countGarbage(): GarbageCounter {
  (globalThis as { gc?: () => void }).gc?.();
  const profiler = new v8.GCProfiler();
  profiler.start();
  const start = v8.getHeapStatistics().used_heap_size;
  return {
    stop() {
      const end = v8.getHeapStatistics().used_heap_size;
      const stats = profiler.stop()?.statistics ?? [];
      let freed = 0;
      let gcMs = 0;
      for (const g of stats) {
        freed += g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize;
        gcMs += g.cost / 1000;
      }
      return { bytes: freed + end - start, gcs: stats.length, gcMs };
    },
  };
}
