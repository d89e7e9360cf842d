import type { Compressor } from '../wire/compression.js';
import type { GrpcError } from '../wire/error.js';
import { isTracing, trace } from '../observability/trace.js';
import type { CompressedMessage } from '../transport/message-io.js';
import {
  CallAttempt, type AttemptListener, type AttemptOutcome, type AttemptSetup, type CallStream, type QueuedWrite, type ResponseListener,
} from './call-attempt.js';
import { RequestLog } from './request-log.js';

/**
 * Request bytes kept for a replay. Past this the call commits to its current
 * attempt: its messages are no longer kept, and it is not retried.
 */
export const RETRY_BUFFER_LIMIT = 256 * 1024;

const RESOLVED = Promise.resolve();

/**
 * Transparent retry (gRFC A6): an attempt the server never handed to its
 * application — refused with REFUSED_STREAM, above a GOAWAY's last-stream-id,
 * or never sent because the session was going away — is made once more, on
 * whatever connection the channel has by then (a new one after a GOAWAY),
 * replaying the request messages written so far. The call commits to its
 * attempt, and is no longer retried, once a response arrives or its messages
 * outgrow RETRY_BUFFER_LIMIT.
 *
 * The same buffer holds the requests written while an attempt waits for its
 * stream to open (those are kept whatever their size: they have no other copy),
 * and past the stream buffer limit makes the writer wait for the stream.
 */
export class TransparentRetry<Res> extends RequestLog implements CallStream, AttemptListener<Res> {
  private attempt: CallStream | undefined;
  private committed = false;
  private halfClosed = false;
  private retried = false;

  constructor(private readonly setup: AttemptSetup<Res>, private readonly listener: ResponseListener<Res>) {
    super();
  }

  get opened(): boolean {
    return this.attempt?.opened ?? false;
  }

  start(): void {
    this.startAttempt();
  }

  write(bytes: Uint8Array, compressor: Compressor | undefined, last: boolean): Promise<void> {
    if (this.halfClosed) return RESOLVED;
    if (last) this.halfClosed = true;
    const attempt = this.attempt;
    if (!attempt?.opened) {
      // The only copy until the stream opens: kept whatever its size, but past the limit the call will not be retried.
      this.keep(bytes, compressor);
      if (this.keptBytes > RETRY_BUFFER_LIMIT) this.committed = true;
      if (last) attempt?.end();
      return this.waitForStream();
    }
    if (!this.committed) {
      if (this.keptBytes + bytes.length > RETRY_BUFFER_LIMIT) this.commit();
      else this.keep(bytes, compressor);
    }
    return attempt.write(bytes, compressor, last);
  }

  end(): void {
    if (this.halfClosed) return;
    this.halfClosed = true;
    this.attempt?.end();
  }

  cancel(reason: GrpcError): void {
    this.commit();
    this.attempt?.cancel(reason);
  }

  pause(): void {
    this.attempt?.pause();
  }

  resume(): void {
    this.attempt?.resume();
  }

  writtenBeforeOpen(): readonly QueuedWrite[] {
    return this.take(this.committed); // once committed, no retry will need them after this stream
  }

  headers(rawHeaders: readonly string[]): void {
    this.commit();
    this.listener.headers(rawHeaders);
  }

  message(response: Res, compressed: boolean, size: number): void {
    this.commit();
    this.listener.message(response, compressed, size);
  }

  compressedMessage(response: CompressedMessage<Res>, size: number): void {
    this.commit();
    this.listener.compressedMessage(response, size);
  }

  ended(outcome: AttemptOutcome): void {
    if (outcome.neverProcessed && !this.committed && !this.retried) {
      this.retried = true;
      if (isTracing('call')) trace('call', `${this.setup.path} to ${this.setup.connection.address}: retrying transparently (${outcome.error?.message})`);
      return this.startAttempt();
    }
    this.commit();
    this.listener.ended(outcome);
  }

  private commit(): void {
    this.committed = true;
    this.drop();
  }

  private startAttempt(): void {
    const attempt = new CallAttempt(this.setup, this);
    this.attempt = attempt;
    if (this.halfClosed) attempt.end();
    attempt.start();
  }
}
