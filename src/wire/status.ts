/** gRPC status codes, as numbered by the spec (doc/statuscodes.md). */
export enum Status {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

/** The name of a status code, e.g. 5 → "NOT_FOUND"; unknown codes as "UNKNOWN_CODE_<n>" or similar. */
export function statusName(code: number): string {
  return Status[code] ?? `CODE_${code}`;
}

/** A received grpc-status value; anything outside 0..16 is UNKNOWN, per the spec. */
export function parseStatusCode(value: string | undefined): Status | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,3}$/.test(value)) return Status.UNKNOWN;
  const code = Number(value);
  return code <= Status.UNAUTHENTICATED ? code : Status.UNKNOWN;
}

/**
 * Maps an HTTP status to a gRPC code when a response carries no grpc-status
 * (doc/http-grpc-status-mapping.md).
 */
export function statusFromHttp(httpStatus: number): Status {
  switch (httpStatus) {
    case 400: return Status.INTERNAL;
    case 401: return Status.UNAUTHENTICATED;
    case 403: return Status.PERMISSION_DENIED;
    case 404: return Status.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504: return Status.UNAVAILABLE;
    default: return Status.UNKNOWN;
  }
}
