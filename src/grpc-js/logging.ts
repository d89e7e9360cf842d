import { logVerbosity } from './constants.js';

/**
 * grpc-js's logger hooks. The native stack reports through errors and
 * callbacks rather than a log, so these only route the compat module's own
 * messages (deprecation and option warnings).
 */
let logger: Partial<Console> = console;
let verbosity: logVerbosity = logVerbosity.ERROR;

/** Replaces the console the compat module logs its own warnings to (grpc-js's transport tracing has no equivalent here). */
export function setLogger(newLogger: Partial<Console>): void {
  logger = newLogger;
}

/** Sets the least severity the compat module logs; messages below it are dropped. */
export function setLogVerbosity(level: logVerbosity): void {
  verbosity = level;
}

export function log(severity: logVerbosity, message: string): void {
  if (severity < verbosity) return;
  const write = severity >= logVerbosity.ERROR ? logger.error : logger.info ?? logger.log;
  write?.call(logger, `tsgrpc/grpc-js: ${message}`);
}
