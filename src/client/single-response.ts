import { GrpcError } from '../wire/error.js';
import type { Metadata } from '../wire/metadata.js';
import { Status } from '../wire/status.js';
import type { CallHandle } from './call-handle.js';
import type { ResponseSink } from './client-call.js';

/** Set by the promise executor, which runs synchronously inside `new Promise`: one shared function, no closure per call. */
let capturedResolve: ((value: any) => void) | undefined;
let capturedReject: ((error: GrpcError) => void) | undefined;
function captureSettlers(resolve: (value: any) => void, reject: (error: GrpcError) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/**
 * The sink of a unary or client-streaming call: settles `promise` with the one response.
 * A class rather than closures, so that it is one small object per call.
 */
export class SingleResponse<Res> implements ResponseSink<Res> {
  call!: CallHandle<any>;
  /** What the caller awaits. */
  readonly promise: Promise<Res>;
  private readonly resolve: (response: Res) => void;
  private readonly reject: (error: GrpcError) => void;
  private received = false;
  private response: Res | undefined;

  constructor(private readonly path: string) {
    this.promise = new Promise<Res>(captureSettlers);
    this.resolve = capturedResolve!;
    this.reject = capturedReject!;
    capturedResolve = capturedReject = undefined;
  }

  message(response: Res): void {
    if (this.received) {
      this.call.cancelWith(new GrpcError(Status.UNIMPLEMENTED, `${this.path}: the server sent more than one response message for a single-response method`));
      return;
    }
    this.received = true;
    this.response = response;
  }

  end(error: GrpcError | undefined, _trailers: Metadata): void {
    if (error) this.reject(error);
    else if (this.received) this.resolve(this.response as Res);
    else this.reject(new GrpcError(Status.UNIMPLEMENTED, `${this.path}: the server ended the call OK without sending a response message`));
  }
}
