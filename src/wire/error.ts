import { Metadata } from './metadata.js';
import { Status, statusName } from './status.js';
import { decodeStatusDetails, type RichStatus } from './status-details.js';

/** A call that ended with a non-OK status, on either side of the wire. */
export class GrpcError extends Error {
  /** The status code (never OK). */
  readonly code: Status;
  /** The status message (grpc-message), already percent-decoded. */
  readonly details: string;
  /** Trailing metadata sent (server) or received (client) with the status. */
  readonly metadata: Metadata;
  /** Raw grpc-status-details-bin: a serialized google.rpc.Status, when the peer sent one. */
  readonly statusDetails?: Buffer;

  /**
   * An error with a status, to throw from a handler or as a client received it.
   * @param code The status code.
   * @param details The status message.
   * @param metadata Trailing metadata to send with it (server) or that came with it (client).
   * @param statusDetails A serialized google.rpc.Status, sent as grpc-status-details-bin (see encodeStatusDetails).
   */
  constructor(code: Status, details: string, metadata?: Metadata, statusDetails?: Uint8Array) {
    super(`${statusName(code)} (${code}): ${details}`);
    this.name = 'GrpcError';
    this.code = code;
    this.details = details;
    this.metadata = metadata ?? new Metadata();
    if (statusDetails) this.statusDetails = Buffer.from(statusDetails);
  }

  /** The decoded google.rpc.Status from grpc-status-details-bin; undefined if absent or malformed. */
  get richStatus(): RichStatus | undefined {
    if (!this.statusDetails) return undefined;
    try {
      return decodeStatusDetails(this.statusDetails);
    } catch {
      return undefined; // a peer's bad details must not turn reading an error into another error
    }
  }
}

export function toGrpcError(err: unknown, fallback: Status, prefix: string): GrpcError {
  if (err instanceof GrpcError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new GrpcError(fallback, `${prefix}: ${reason}`);
}
