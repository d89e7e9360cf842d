import type { GrpcError } from '../wire/error.js';

/**
 * What the call styles (unary promise, ResponseStream, BidiStream) drive: a
 * ClientCall directly when nothing intercepts, or an InterceptedCall.
 */
export interface CallHandle<Req> {
  readonly isFinished: boolean;
  /** Starts the call. On failure the sink has already been ended. */
  start(): void;
  /** Sends one request; resolves when the stream can take more. */
  write(request: Req, compress?: boolean): Promise<void>;
  /** Sends the only request and half-closes. */
  writeLast(request: Req): void;
  /** Starts the call with its only request, half-closing with it (unary and server-streaming calls). */
  startWith(request: Req): void;
  end(): void;
  cancelWith(error: GrpcError): void;
  pause(): void;
  resume(): void;
}
