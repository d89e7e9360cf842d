import type { Compressor } from '../wire/compression.js';
import type { QueuedWrite } from './call-attempt.js';

const NOTHING: readonly QueuedWrite[] = [];

/**
 * The requests of one call, in order, kept for a stream that has not opened yet and for
 * replays on a new attempt. Once dropped (the call committed to a stream that has them, or
 * ended), nothing is replayed any more; requests kept after that are only those waiting for
 * the committed attempt's stream to open.
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

  keep(bytes: Uint8Array, compressor: Compressor | undefined): void {
    this.keptBytes += bytes.length;
    const entry: QueuedWrite = [bytes, compressor];
    if (this.entries) this.entries.push(entry);
    else this.entries = [entry];
  }

  /** What a stream opening now sends first: every request held. With `last`, they are forgotten (no later stream needs them). */
  take(last: boolean): readonly QueuedWrite[] {
    const held = this.entries ?? NOTHING;
    if (last) this.entries = undefined;
    return held;
  }

  /** No more replays: the requests held are forgotten. */
  drop(): void {
    this.dropped = true;
    this.entries = undefined;
  }
}
