import { GrpcError, Status, statusName } from '../index.js';
import { fromNative, isMetadata, toNative, Metadata } from './metadata.js';

export interface StatusObject {
  code: Status;
  details: string;
  metadata: Metadata;
}

/** What grpc-js clients receive on a failed call: an Error carrying the status. */
export interface ServiceError extends Error, StatusObject {}

/** What a handler may report: an Error, or a plain {code, details, metadata} object. */
export type ServerErrorResponse = Partial<StatusObject> & { message?: string };

export function serviceError(status: StatusObject): ServiceError {
  const error = new Error(`${status.code} ${statusName(status.code)}: ${status.details}`) as ServiceError;
  return Object.assign(error, status);
}

/** The grpc-js view of a native call ending. */
export function statusFromNative(error: GrpcError | undefined, trailers: Metadata): StatusObject {
  if (!error) return { code: Status.OK, details: 'OK', metadata: trailers };
  return { code: error.code, details: error.details, metadata: trailers };
}

/** How grpc-js reads a handler's error: a numeric code if present (else UNKNOWN), details or message. */
export function nativeErrorFromHandler(err: ServerErrorResponse | Error, trailers?: Metadata): GrpcError {
  const e = err as ServerErrorResponse;
  const code = typeof e.code === 'number' && Number.isInteger(e.code) && e.code >= 0 && e.code <= 16 ? e.code : Status.UNKNOWN;
  const details = typeof e.details === 'string' ? e.details : typeof e.message === 'string' ? e.message : 'Unknown Error';
  const metadata = isMetadata(e.metadata) ? e.metadata : trailers;
  return new GrpcError(code === Status.OK ? Status.UNKNOWN : code, details, toNative(metadata));
}

export { fromNative };
