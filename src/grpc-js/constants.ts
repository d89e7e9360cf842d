/** The constant enums of grpc-js, with the same names and numbers. */
export { Status as status } from '../index.js';

export enum logVerbosity {
  DEBUG = 0,
  INFO = 1,
  ERROR = 2,
  NONE = 3,
}

/** Which parts of a server call a child call inherits (CallOptions.propagate_flags). */
export enum propagate {
  DEADLINE = 1,
  CENSUS_STATS_CONTEXT = 2,
  CENSUS_TRACING_CONTEXT = 4,
  CANCELLATION = 8,
  DEFAULTS = 65535,
}

export enum compressionAlgorithms {
  identity = 0,
  deflate = 1,
  gzip = 2,
}

export enum connectivityState {
  IDLE = 0,
  CONNECTING = 1,
  READY = 2,
  TRANSIENT_FAILURE = 3,
  SHUTDOWN = 4,
}
