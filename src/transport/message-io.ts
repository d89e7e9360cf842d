import type http2 from 'node:http2';
import { compressorFor, type Compressor } from '../wire/compression.js';
import { GrpcError } from '../wire/error.js';
import { FRAME_HEADER_SIZE, FrameDecoder, SINGLE_BUFFER_LIMIT, asBuffer, encodeSmallFrame, framePrefix, wholeFrame, writeFrame } from '../wire/frame.js';
import { Status } from '../wire/status.js';
import type { CallProbe } from '../observability/events.js';

/** Default receive limit, as in other gRPC implementations: 4 MiB. */
export const DEFAULT_MAX_RECEIVE = 4 * 1024 * 1024;
/** Default send limit: unbounded, as in other gRPC implementations. */
export const DEFAULT_MAX_SEND = Number.MAX_SAFE_INTEGER;

/**
 * Rejects a message size limit that is not a byte count: NaN compares false with every size,
 * so it would silently turn the limit (and the decompression cap) off. Infinity means unlimited.
 */
export function checkMessageSizeLimits(owner: string, options: { maxReceiveMessageSize?: number; maxSendMessageSize?: number }): void {
  for (const name of ['maxReceiveMessageSize', 'maxSendMessageSize'] as const) {
    const value: unknown = options[name];
    if (value === undefined || value === Infinity) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new RangeError(`${owner}.${name} must be a non-negative integer number of bytes, or Infinity for no limit; got ${String(value)}`);
    }
  }
}

/**
 * Flow-control windows for both sides, per stream and per connection: larger
 * than HTTP/2's 64 KiB default so big messages are not throttled.
 */
export const STREAM_WINDOW = 1024 * 1024;
export const CONNECTION_WINDOW = 16 * 1024 * 1024;

/**
 * Bytes of received messages (as they came over the wire, compressed or not)
 * a stream's queue holds before the stream is paused. Compressed messages wait
 * in the queue still compressed, so a peer sending small frames that inflate
 * to large messages cannot make a slow reader hold them all inflated.
 */
export const RECEIVE_QUEUE_BYTES = 256 * 1024;

/** A message that arrived compressed, kept as received: inflated and parsed only by open(). */
export class CompressedMessage<T> {
  constructor(
    readonly payload: Buffer,
    private readonly reader: MessageReader<T>,
  ) {}

  /** Inflates (capped at the receive limit) and parses; throws GrpcError. */
  open(): T {
    return this.reader.decode(this.payload, true);
  }
}

/** A queue's prepare step: opens a message left compressed, passes a parsed one through. */
export function openMessage<T>(item: T | CompressedMessage<T>): T {
  return item instanceof CompressedMessage ? item.open() : item;
}

/** Where a MessageReader delivers: the call that owns it, so that a reader needs no closures of its own. */
export interface MessageReceiver<T> {
  /** A complete message, parsed, with its size on the wire. */
  receivedMessage(message: T, compressed: boolean, size: number): void;
}

/**
 * Turns DATA chunks into deserialized messages: frame decoding, the size
 * limit, and decompression with the stream's grpc-encoding. Each message is
 * reported with its size on the wire. It is its own frame decoder, so a call's
 * reader is a single object.
 */
export class MessageReader<T> extends FrameDecoder {
  private decompressor: Compressor | undefined;

  /**
   * With `keepCompressed`, compressed messages are handed over unopened (as a CompressedMessage), for a
   * receiver that buffers them until the application asks.
   */
  constructor(
    maxMessageSize: number,
    private readonly deserialize: (bytes: Uint8Array) => T,
    private readonly receiver: MessageReceiver<T | CompressedMessage<T>>,
    private readonly keepCompressed = false,
  ) {
    super({ maxMessageSize, onMessage: deliverMessage });
  }

  setEncoding(name: string | undefined): void {
    this.decompressor = compressorFor(name);
    this.compressionAllowed = this.decompressor !== undefined;
  }

  /** Called by FrameDecoder for each complete frame, with the reader as `this`. */
  deliver(payload: Buffer, compressed: boolean): void {
    if (compressed && this.keepCompressed) this.receiver.receivedMessage(new CompressedMessage(payload, this), true, payload.length);
    else this.receiver.receivedMessage(this.decode(payload, compressed), compressed, payload.length);
  }

  decode(payload: Buffer, compressed: boolean): T {
    return parseMessage(this.deserialize, compressed ? this.decompressor!.decompress(payload, this.maxMessageSize) : payload);
  }
}

/** Deserializes one message payload; throws GrpcError(INTERNAL) naming the parser's complaint. */
export function parseMessage<T>(deserialize: (bytes: Uint8Array) => T, bytes: Uint8Array): T {
  try {
    return deserialize(bytes);
  } catch (err) {
    throw new GrpcError(Status.INTERNAL, `could not parse message: ${(err as Error).message}`);
  }
}

/** A receiver that makes its MessageReader only when a chunk needs one (see readChunk). */
export interface ChunkReader<T> extends MessageReceiver<T> {
  /** The reader, once made. */
  readonly reader: MessageReader<T> | undefined;
  makeReader(): MessageReader<T>;
}

/**
 * Feeds one DATA chunk to `owner`: a chunk that is one whole uncompressed message is parsed straight from the
 * chunk, without making a reader (most unary calls); any other goes through the owner's reader. Throws GrpcError.
 */
export function readChunk<T>(owner: ChunkReader<T>, chunk: Buffer, maxSize: number, deserialize: (bytes: Uint8Array) => T): void {
  const reader = owner.reader;
  if (reader !== undefined) return reader.push(chunk);
  const payload = wholeFrame(chunk, maxSize);
  if (payload) owner.receivedMessage(parseMessage(deserialize, payload), false, payload.length);
  else owner.makeReader().push(chunk);
}

/** FrameDecoder calls its onMessage as a method, so one shared function serves every reader. */
function deliverMessage(this: FrameDecoder, payload: Buffer, compressed: boolean): void {
  (this as MessageReader<unknown>).deliver(payload, compressed);
}

/**
 * How many bytes a stream may buffer before a writer waits for 'drain'. Node's
 * default (16 KiB) stops a message stream every few messages; this bound lets
 * writes batch into large DATA frames while memory per stream stays capped.
 */
export const STREAM_BUFFER_LIMIT = 256 * 1024;

/** The send limit, checked on the serialized message before it is compressed or framed. */
export function checkSendSize(bytes: Uint8Array, maxSendSize: number): void {
  if (bytes.length > maxSendSize) {
    throw new GrpcError(Status.RESOURCE_EXHAUSTED, `sent message larger than max (${bytes.length} vs. ${maxSendSize})`);
  }
}

/**
 * Optionally compresses, frames and writes one serialized message (ending the
 * stream with it when `endStream`), telling `probe` its size on the wire.
 * Returns false when the writer should wait for 'drain'.
 */
export function writeMessage(
  stream: http2.Http2Stream,
  bytes: Uint8Array,
  compressor: Compressor | undefined,
  endStream = false,
  probe?: CallProbe,
): boolean {
  const payload = compressor ? compressor.compress(bytes) : bytes;
  probe?.sent(payload.length);
  const compressed = compressor !== undefined;
  // With endStream, the (last) buffer carries END_STREAM instead of a separate empty DATA frame after it.
  if (payload.length <= SINGLE_BUFFER_LIMIT) {
    const frame = encodeSmallFrame(payload, compressed);
    if (endStream) stream.end(frame);
    else stream.write(frame);
  } else {
    // Large payloads are not copied: the prefix and the payload go out as two buffers of one write.
    stream.cork();
    stream.write(framePrefix(payload.length, compressed));
    if (endStream) stream.end(asBuffer(payload));
    else stream.write(asBuffer(payload));
    stream.uncork();
  }
  return stream.writableLength < STREAM_BUFFER_LIMIT;
}

/** Bytes of frames a FrameBatch gathers before it writes them. */
const BATCH_BYTES = 64 * 1024;

/**
 * Small uncompressed message frames gathered into one buffer and written together: a synchronous run of
 * messages (a `function*` handler, an array) costs one stream write per 64 KiB instead of one per message.
 * The owner must flush() before anything else goes on the stream (another message, or the trailers).
 */
export class FrameBatch {
  private buffer: Buffer | undefined;
  private used = 0;

  /** Frames one payload (at most SINGLE_BUFFER_LIMIT bytes) into the batch; false when the writer should wait for 'drain'. */
  add(stream: http2.Http2Stream, payload: Uint8Array): boolean {
    const size = FRAME_HEADER_SIZE + payload.length;
    let writable = true;
    if (this.buffer !== undefined && this.used + size > this.buffer.length) writable = this.flush(stream);
    this.used = writeFrame((this.buffer ??= Buffer.allocUnsafe(BATCH_BYTES)), this.used, payload, false);
    return writable;
  }

  /** Writes what was gathered; the next add() starts a fresh buffer, since the stream keeps this one until it is sent. */
  flush(stream: http2.Http2Stream): boolean {
    if (this.used > 0 && !stream.destroyed) stream.write(this.buffer!.subarray(0, this.used));
    this.buffer = undefined;
    this.used = 0;
    return stream.writableLength < STREAM_BUFFER_LIMIT;
  }
}

const RESOLVED = Promise.resolve();

/** Resolves when the stream can take more data, or has closed. */
export function drained(stream: http2.Http2Stream, writeAccepted: boolean): Promise<void> {
  if (writeAccepted || stream.destroyed) return RESOLVED;
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
