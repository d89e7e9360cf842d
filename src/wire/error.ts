import { Metadata } from './metadata.js';
import { Status, statusName } from './status.js';
import { decodeStatusDetails, type RichStatus } from './status-details.js';

/** A call that ended with a non-OK status, on either side of the wire. */
export class GrpcError extends Error {
  readonly code: Status;
  /** The status message (grpc-message), already percent-decoded. */
  readonly details: string;
  readonly metadata: Metadata;
  /** Raw grpc-status-details-bin: a serialized google.rpc.Status, when the peer sent one. */
  readonly statusDetails?: Buffer;

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
