import { GrpcError, toGrpcError } from '../wire/error.js';
import { Metadata } from '../wire/metadata.js';
import { Status } from '../wire/status.js';
import { CompressedMessage, RECEIVE_QUEUE_BYTES } from '../transport/message-io.js';
import { AsyncQueue } from '../util/async-queue.js';
import type { CallHandle } from './call-handle.js';
import type { ResponseSink } from './client-call.js';
import type { WriteOptions } from './write-options.js';

/** A value that may be awaited later; its rejection is never reported as unhandled. */
class Later<T> {
  private settled: { value?: T; error?: unknown } | undefined;
  private promise: Promise<T> | undefined;
  private resolveFn: ((v: T) => void) | undefined;
  private rejectFn: ((e: unknown) => void) | undefined;

  get(): Promise<T> {
    if (!this.promise) {
      if (this.settled) {
        this.promise = 'error' in this.settled ? Promise.reject(this.settled.error) : Promise.resolve(this.settled.value as T);
      } else {
        this.promise = new Promise<T>((resolve, reject) => {
          this.resolveFn = resolve;
          this.rejectFn = reject;
        });
      }
      this.promise.catch(() => {});
    }
    return this.promise;
  }

  resolve(value: T): void {
    if (this.settled) return;
    this.settled = { value };
    this.resolveFn?.(value);
  }

  reject(error: unknown): void {
    if (this.settled) return;
    this.settled = { error };
    this.rejectFn?.(error);
  }
}

/**
 * The read side of a streaming call: an async iterable of responses that
 * throws the call's GrpcError at the end, plus headers, trailers and cancel().
 */
export class ResponseStream<Res> implements AsyncIterable<Res> {
  /** @internal */
  protected call!: CallHandle<any>;
  // Compressed responses wait here compressed; they are inflated one at a time as the application reads.
  private readonly queue = new AsyncQueue<Res, Res | CompressedMessage<Res>>({
    byteLimit: RECEIVE_QUEUE_BYTES,
    prepare: (item) => this.open(item),
  });
  private readonly headerValue = new Later<Metadata>();
  private readonly trailerValue = new Later<Metadata>();
  private readonly statusValue = new Later<void>();
  /** Compressed responses queued and not yet opened. */
  private unopened = 0;
  /**
   * The server ended OK while compressed responses were still queued: the status
   * waits until they open, since one may still fail (e.g. inflate past the limit).
   */
  private okHeld = false;
  /** Whether the last response read arrived compressed. */
  lastMessageCompressed = false;

  /** @internal Streams are made by Channel and the stubs. */
  constructor() {
    this.queue.onDrain = () => this.call.resume();
    this.queue.onReturn = () => {
      this.releaseOk();
      this.cancel();
    };
    // A response that fails to inflate or to parse fails the call, even if the server had ended it OK.
    this.queue.onError = (err) => {
      const error = toGrpcError(err, Status.INTERNAL, 'invalid response message');
      if (!this.okHeld) return this.call.cancelWith(error);
      this.okHeld = false;
      this.statusValue.reject(error);
    };
  }

  private open(item: Res | CompressedMessage<Res>): Res {
    if (!(item instanceof CompressedMessage)) return item;
    this.unopened--;
    const response = item.open();
    if (this.unopened === 0) this.releaseOk();
    return response;
  }

  private releaseOk(): void {
    if (!this.okHeld) return;
    this.okHeld = false;
    this.statusValue.resolve();
  }

  /** @internal The sink handed to the call that feeds this stream. */
  sink(): ResponseSink<Res> {
    return {
      wantsTrailers: true,
      message: (response, compressed, size) => {
        this.lastMessageCompressed = compressed;
        if (!this.queue.push(response, size)) this.call.pause();
      },
      compressedMessage: (response, size) => {
        this.lastMessageCompressed = true;
        this.unopened++;
        if (!this.queue.push(response, size)) this.call.pause();
      },
      headers: (md) => this.headerValue.resolve(md),
      end: (error, trailers) => {
        this.headerValue.resolve(new Metadata());
        this.trailerValue.resolve(trailers);
        if (error) this.statusValue.reject(error);
        else if (this.unopened > 0 && this.queue.length > 0) this.okHeld = true;
        else this.statusValue.resolve();
        this.queue.end(error);
      },
    };
  }

  /** @internal */
  attach(call: CallHandle<any>): this {
    this.call = call;
    return this;
  }

  /** Response headers (empty for a Trailers-Only response). */
  get headers(): Promise<Metadata> {
    return this.headerValue.get();
  }

  /** Trailing metadata, once the call has ended, whatever its status. */
  get trailers(): Promise<Metadata> {
    return this.trailerValue.get();
  }

  /** Resolves when the call ends OK, rejects with its GrpcError otherwise. */
  get status(): Promise<void> {
    return this.statusValue.get();
  }

  /** Cancels the call: the stream is reset, and reading fails with CANCELLED and `reason`. */
  cancel(reason = 'call cancelled by the client'): void {
    this.call.cancelWith(new GrpcError(Status.CANCELLED, reason));
  }

  /** Iterates the responses; throws the call's GrpcError after the last one if it did not end OK. Breaking out of the loop cancels the call. */
  [Symbol.asyncIterator](): AsyncIterator<Res> {
    return this.queue;
  }
}

/** A bidirectional call: write requests, end(), and iterate responses. */
export class BidiStream<Req, Res> extends ResponseStream<Res> {
  /** Sends a request; resolves when the stream can take more (backpressure). */
  write(request: Req, options?: WriteOptions): Promise<void> {
    return this.call.write(request, options?.compress ?? true);
  }

  /** No more requests. */
  end(): void {
    this.call.end();
  }
}
