import type { Compressor } from '../wire/compression.js';
import { STREAM_BUFFER_LIMIT } from '../transport/message-io.js';
import type { QueuedWrite } from './call-attempt.js';

const NOTHING: readonly QueuedWrite[] = [];
const RESOLVED = Promise.resolve();

/**
 * The requests of one call, in order, kept for a stream that has not opened yet and for
 * replays on a new attempt. Once dropped (the call committed to a stream that has them, or
 * ended), nothing is replayed any more; requests kept after that are only those waiting for
 * the committed attempt's stream to open.
 *
 * While no stream can take requests (the call waits for a connection, or for its next
 * attempt), they are only held here: past STREAM_BUFFER_LIMIT, the writer is made to wait
 * for a stream to take them, as a stream's own buffer would make it wait for 'drain'.
 *
 * The retry layers extend or hold one: TransparentRetry extends it, so that a call without a
 * retry policy makes no extra object for it.
 */
export class RequestLog {
  private entries: QueuedWrite[] | undefined;
  /** Bytes of every request kept, including those dropped since. */
  keptBytes = 0;
  /** Set once the requests were dropped: no replay needs them any more. */
  dropped = false;
  /** Bytes of the requests held now. */
  private heldBytes = 0;
  /** Writers waiting for a stream to take the requests held. */
  private waiting: (() => void)[] | undefined;

  keep(bytes: Uint8Array, compressor: Compressor | undefined): void {
    this.keptBytes += bytes.length;
    this.heldBytes += bytes.length;
    const entry: QueuedWrite = [bytes, compressor];
    if (this.entries) this.entries.push(entry);
    else this.entries = [entry];
  }

  /** What a stream opening now sends first: every request held. With `last`, they are forgotten (no later stream needs them). */
  take(last: boolean): readonly QueuedWrite[] {
    const held = this.entries ?? NOTHING;
    if (last) {
      this.entries = undefined;
      this.heldBytes = 0;
    }
    // Now in the stream's buffer, where the next write waits for 'drain' if they are too many.
    this.wake();
    return held;
  }

  /**
   * For a request held because no stream took it: resolved while what is held fits a stream's
   * buffer; past that, resolves once a stream takes the requests, or they are dropped (the call ended).
   */
  waitForStream(): Promise<void> {
    if (this.heldBytes <= STREAM_BUFFER_LIMIT) return RESOLVED;
    return new Promise((resolve) => {
      if (this.waiting) this.waiting.push(resolve);
      else this.waiting = [resolve];
    });
  }

  /** No more replays: the requests held are forgotten. */
  drop(): void {
    this.dropped = true;
    this.entries = undefined;
    this.heldBytes = 0;
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    if (!waiting) return;
    this.waiting = undefined;
    for (const resolve of waiting) resolve();
  }
}
