import { GrpcError, Status, statusName, type Metadata as NativeMetadata } from '../index.js';
import { fromNative, isMetadata, toNative, Metadata } from './metadata.js';

/** A call's final status as grpc-js reports it: code, message and trailing metadata. */
export interface StatusObject {
  /** The gRPC status code. */
  code: Status;
  /** The status message sent by the server (or set locally, e.g. on cancellation or deadline). */
  details: string;
  /** The trailing metadata, with any rich error details under `grpc-status-details-bin`. */
  metadata: Metadata;
}

/** What grpc-js clients receive on a failed call: an Error carrying the status. */
export interface ServiceError extends Error, StatusObject {}

/** What a handler may report: an Error, or a plain {code, details, metadata} object. */
export type ServerErrorResponse = Partial<StatusObject> & {
  /** The error message, used as the status message when there is no numeric `code`. */
  message?: string;
};

export function serviceError(status: StatusObject): ServiceError {
  const error = new Error(`${status.code} ${statusName(status.code)}: ${status.details}`) as ServiceError;
  return Object.assign(error, status);
}

/** Rich error details (google.rpc.Status) travel in this trailer; the native API keeps them apart from metadata. */
const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/**
 * How grpc-js reads a handler's error: a numeric code makes `details` the
 * status message, otherwise it is UNKNOWN with the error's message; the
 * callback's trailer wins over the error's own metadata.
 */
export function nativeErrorFromHandler(err: ServerErrorResponse | Error, trailer?: Metadata): GrpcError {
  const e = err as ServerErrorResponse;
  const hasCode = typeof e.code === 'number' && Number.isInteger(e.code);
  const code = hasCode && e.code! > 0 && e.code! <= 16 ? e.code! : Status.UNKNOWN;
  const message = typeof e.message === 'string' ? e.message : 'Unknown Error';
  const details = hasCode && typeof e.details === 'string' ? e.details : message;
  const metadata = trailer ?? (isMetadata(e.metadata) ? e.metadata : undefined);
  return grpcErrorOf(code, details, metadata);
}

/** A native error for a grpc-js status; rich details move from the metadata to their own field. */
export function grpcErrorOf(code: Status, details: string, metadata: Metadata | null | undefined): GrpcError {
  const statusDetails = metadata?.get(STATUS_DETAILS_KEY)[0];
  return new GrpcError(code, details, toNative(metadata ?? undefined), Buffer.isBuffer(statusDetails) ? statusDetails : undefined);
}

/** The grpc-js metadata of a native error's trailers, with its rich details put back under their key. */
export function metadataOf(error: GrpcError | undefined, trailers: NativeMetadata | undefined): Metadata {
  const metadata = fromNative(trailers ?? error?.metadata);
  if (error?.statusDetails && metadata.get(STATUS_DETAILS_KEY).length === 0) metadata.internalRepr.set(STATUS_DETAILS_KEY, [error.statusDetails]);
  return metadata;
}

