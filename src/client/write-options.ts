/** Options for one request message. */
export interface WriteOptions {
  /** false sends this message uncompressed even when the call compresses (default true). */
  compress?: boolean;
}

/** A request message with its own write options, as a client-streaming request source may yield it. */
export class MessageWithOptions<T> {
  /**
   * Use withWriteOptions() rather than this directly.
   * @param message The request.
   * @param options How to send it.
   */
  constructor(readonly message: T, readonly options: WriteOptions) {}
}

/** Wraps a request so that a client-streaming source can set options for it, e.g. `withWriteOptions(req, { compress: false })`. */
export function withWriteOptions<T>(message: T, options: WriteOptions): MessageWithOptions<T> {
  return new MessageWithOptions(message, options);
}

/** What a client-streaming call reads its requests from. */
export type RequestSource<T> = AsyncIterable<T | MessageWithOptions<T>> | Iterable<T | MessageWithOptions<T>>;
