import { logVerbosity } from './constants.js';

/**
 * grpc-js's logger hooks. The native stack reports through errors and
 * callbacks rather than a log, so these only route the compat module's own
 * messages (deprecation and option warnings).
 */
let logger: Partial<Console> = console;
let verbosity: logVerbosity = logVerbosity.ERROR;

export function setLogger(newLogger: Partial<Console>): void {
  logger = newLogger;
}

export function setLogVerbosity(level: logVerbosity): void {
  verbosity = level;
}

export function log(severity: logVerbosity, message: string): void {
  if (severity < verbosity) return;
  const write = severity >= logVerbosity.ERROR ? logger.error : logger.info ?? logger.log;
  write?.call(logger, `tsgrpc/grpc-js: ${message}`);
}
