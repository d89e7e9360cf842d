import { GrpcError } from './error.js';
import { Status } from './status.js';

/** Length-prefixed message framing: 1 flag byte, 4-byte big-endian length, payload. */
export const FRAME_HEADER_SIZE = 5;

/** Payloads up to this size are copied behind their prefix so a message goes out as one write. */
export const SINGLE_BUFFER_LIMIT = 16 * 1024;

/** Writes a frame's 5-byte prefix (the compressed flag and the payload length) into `buffer` at `offset`. */
export function writeFramePrefix(buffer: Buffer, offset: number, length: number, compressed: boolean): void {
  buffer[offset] = compressed ? 1 : 0;
  buffer.writeUInt32BE(length, offset + 1);
}

/** The 5-byte prefix of a message frame: the compressed flag and the payload length. */
export function framePrefix(length: number, compressed = false): Buffer {
  const prefix = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
  writeFramePrefix(prefix, 0, length, compressed);
  return prefix;
}

/** Writes one whole frame, prefix and a copy of the payload, into `buffer` at `offset`; returns the offset after it. */
export function writeFrame(buffer: Buffer, offset: number, payload: Uint8Array, compressed: boolean): number {
  writeFramePrefix(buffer, offset, payload.length, compressed);
  buffer.set(payload, offset + FRAME_HEADER_SIZE);
  return offset + FRAME_HEADER_SIZE + payload.length;
}

/** Frames one message into a single buffer, prefix and a copy of the payload: for payloads up to SINGLE_BUFFER_LIMIT. */
export function encodeSmallFrame(payload: Uint8Array, compressed = false): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload.length);
  writeFrame(frame, 0, payload, compressed);
  return frame;
}

/**
 * The payload of a chunk that is exactly one whole, uncompressed message frame within `maxSize`; otherwise
 * undefined, and the chunk needs a FrameDecoder. Most unary requests and responses arrive so.
 */
export function wholeFrame(chunk: Buffer, maxSize: number): Buffer | undefined {
  if (chunk.length < FRAME_HEADER_SIZE || chunk[0] !== 0) return undefined;
  const length = chunk.readUInt32BE(1);
  return length === chunk.length - FRAME_HEADER_SIZE && length <= maxSize ? chunk.subarray(FRAME_HEADER_SIZE) : undefined;
}

/** A payload as a Buffer, without copying it. */
export function asBuffer(payload: Uint8Array): Buffer {
  return Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.length);
}

/**
 * Frames one message. Small payloads are copied into a single buffer; large
 * ones are returned as [prefix, payload] so they are never copied.
 */
export function encodeFrame(payload: Uint8Array, compressed = false): Buffer[] {
  if (payload.length > SINGLE_BUFFER_LIMIT) return [framePrefix(payload.length, compressed), asBuffer(payload)];
  return [encodeSmallFrame(payload, compressed)];
}

/** Options of a FrameDecoder. */
export interface FrameDecoderOptions {
  /** Largest payload accepted; a longer frame is refused before any of it is buffered. */
  maxMessageSize: number;
  /** Whether a compressed flag is legal, i.e. a grpc-encoding other than identity was negotiated. */
  compressionAllowed?: boolean;
  /**
   * Called synchronously for each complete message. The payload may be a view
   * into the pushed chunk: copy it if you keep it beyond the chunk's life.
   */
  onMessage(payload: Buffer, compressed: boolean): void;
}

/**
 * Streaming decoder. A message that lies inside one chunk is handed out as a
 * subarray of that chunk; one split across chunks is gathered into a single
 * buffer allocated once at its final size.
 */
export class FrameDecoder {
  /** Gathers a frame header split across chunks; made only when one is (a call usually has none). */
  private header: Buffer | undefined;
  private headerFilled = 0;
  private body: Buffer | null = null;
  private bodyFilled = 0;
  private bodyCompressed = false;
  /** Largest payload accepted (from the options); may be changed between chunks. */
  maxMessageSize: number;
  /** Whether a compressed flag is legal (from the options); set once the encoding is known. */
  compressionAllowed: boolean;
  private readonly onMessage: (payload: Buffer, compressed: boolean) => void;

  /**
   * A decoder for one stream.
   * @param options Limits, and where complete messages go.
   */
  constructor(options: FrameDecoderOptions) {
    this.maxMessageSize = options.maxMessageSize;
    this.compressionAllowed = options.compressionAllowed ?? false;
    this.onMessage = options.onMessage;
  }

  /** True while part of a frame is buffered: ending the stream now would truncate a message. */
  get hasPartialFrame(): boolean {
    return this.headerFilled > 0 || this.body !== null;
  }

  /** Feeds one chunk. Throws GrpcError on a frame that breaks the limits or the format. */
  push(chunk: Buffer): void {
    const end = chunk.length;
    let offset = 0;
    while (offset < end) {
      if (this.body !== null) {
        offset = this.fillBody(chunk, offset);
        continue;
      }
      let flag: number;
      let length: number;
      if (this.headerFilled === 0 && end - offset >= FRAME_HEADER_SIZE) {
        flag = chunk[offset];
        length = chunk.readUInt32BE(offset + 1);
        offset += FRAME_HEADER_SIZE;
      } else {
        const take = Math.min(FRAME_HEADER_SIZE - this.headerFilled, end - offset);
        const header = (this.header ??= Buffer.allocUnsafe(FRAME_HEADER_SIZE));
        chunk.copy(header, this.headerFilled, offset, offset + take);
        this.headerFilled += take;
        offset += take;
        if (this.headerFilled < FRAME_HEADER_SIZE) return;
        this.headerFilled = 0;
        flag = header[0];
        length = header.readUInt32BE(1);
      }
      const compressed = this.checkHeader(flag, length);
      if (end - offset >= length) {
        this.onMessage(chunk.subarray(offset, offset + length), compressed);
        offset += length;
      } else {
        this.body = Buffer.allocUnsafe(length);
        this.bodyFilled = 0;
        this.bodyCompressed = compressed;
      }
    }
  }

  /** Call at end of stream: a partially received message is an error. */
  finish(): void {
    if (this.hasPartialFrame) {
      const got = this.body ? this.bodyFilled : this.headerFilled;
      const want = this.body ? this.body.length : FRAME_HEADER_SIZE;
      throw new GrpcError(Status.INTERNAL, `stream ended inside a message: received ${got} of ${want} ${this.body ? 'payload' : 'header'} bytes`);
    }
  }

  private fillBody(chunk: Buffer, offset: number): number {
    const body = this.body!;
    const take = Math.min(body.length - this.bodyFilled, chunk.length - offset);
    // TypedArray#set is the fastest bulk copy Node has (faster than Buffer#copy with offsets).
    body.set(offset === 0 && take === chunk.length ? chunk : chunk.subarray(offset, offset + take), this.bodyFilled);
    this.bodyFilled += take;
    if (this.bodyFilled === body.length) {
      this.body = null;
      this.onMessage(body, this.bodyCompressed);
    }
    return offset + take;
  }

  private checkHeader(flag: number, length: number): boolean {
    if (flag > 1) {
      throw new GrpcError(Status.INTERNAL, `invalid message frame: compressed flag is ${flag}, expected 0 or 1`);
    }
    if (flag === 1 && !this.compressionAllowed) {
      throw new GrpcError(Status.INTERNAL, 'received a compressed message, but no grpc-encoding was negotiated for this stream');
    }
    if (length > this.maxMessageSize) {
      throw new GrpcError(Status.RESOURCE_EXHAUSTED, `received message larger than max (${length} vs. ${this.maxMessageSize})`);
    }
    return flag === 1;
  }
}
