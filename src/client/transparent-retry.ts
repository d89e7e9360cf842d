import type { Compressor } from '../wire/compression.js';
import type { CompressedMessage } from '../transport/message-io.js';
import { CallAttempt, type AttemptListener, type AttemptOutcome, type AttemptSetup, type CallStream } from './call-attempt.js';

/**
 * Request bytes kept for a replay. Past this the call commits to its current
 * attempt: its messages are no longer kept, and it is not retried.
 */
export const RETRY_BUFFER_LIMIT = 256 * 1024;

const RESOLVED = Promise.resolve();

type SentMessage = [bytes: Uint8Array, compressor: Compressor | undefined];

/**
 * Transparent retry (gRFC A6): an attempt the server never handed to its
 * application — refused with REFUSED_STREAM, above a GOAWAY's last-stream-id,
 * or never sent because the session was going away — is made once more, on
 * whatever connection the channel has by then (a new one after a GOAWAY),
 * replaying the request messages written so far. The call commits to its
 * attempt, and is no longer retried, once a response arrives or its messages
 * outgrow RETRY_BUFFER_LIMIT.
 */
export class TransparentRetry<Res> implements CallStream, AttemptListener<Res> {
  private attempt: CallStream | undefined;
  /** The messages to replay; undefined once committed. */
  private sent: SentMessage[] | undefined = [];
  private sentBytes = 0;
  private halfClosed = false;
  private retried = false;

  constructor(private readonly setup: AttemptSetup<Res>, private readonly listener: AttemptListener<Res>) {}

  get opened(): boolean {
    return this.attempt?.opened ?? false;
  }

  start(): void {
    this.startAttempt();
  }

  write(bytes: Uint8Array, compressor: Compressor | undefined, last: boolean): Promise<void> {
    if (this.halfClosed) return RESOLVED;
    if (last) this.halfClosed = true;
    if (this.sent) {
      this.sentBytes += bytes.length;
      // Before the first attempt exists the messages are its only copy and must be kept.
      if (this.sentBytes > RETRY_BUFFER_LIMIT && this.attempt) this.sent = undefined;
      else this.sent.push([bytes, compressor]);
    }
    return this.attempt ? this.attempt.write(bytes, compressor, last) : RESOLVED;
  }

  end(): void {
    if (this.halfClosed) return;
    this.halfClosed = true;
    this.attempt?.end();
  }

  cancel(): void {
    this.sent = undefined;
    this.attempt?.cancel();
  }

  pause(): void {
    this.attempt?.pause();
  }

  resume(): void {
    this.attempt?.resume();
  }

  headers(rawHeaders: readonly string[]): void {
    this.sent = undefined;
    this.listener.headers(rawHeaders);
  }

  message(response: Res, compressed: boolean, size: number): void {
    this.sent = undefined;
    this.listener.message(response, compressed, size);
  }

  compressedMessage(response: CompressedMessage<Res>, size: number): void {
    this.sent = undefined;
    this.listener.compressedMessage(response, size);
  }

  ended(outcome: AttemptOutcome): void {
    if (outcome.neverProcessed && this.sent && !this.retried) {
      this.retried = true;
      return this.startAttempt();
    }
    this.sent = undefined;
    this.listener.ended(outcome);
  }

  private startAttempt(): void {
    const attempt = new CallAttempt(this.setup, this);
    this.attempt = attempt;
    for (const [bytes, compressor] of this.sent ?? []) void attempt.write(bytes, compressor, false);
    if (this.halfClosed) attempt.end();
    attempt.start();
  }
}
