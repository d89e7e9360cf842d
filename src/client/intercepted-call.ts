import { callKind, type MethodDefinition } from '../service.js';
import { GrpcError, toGrpcError } from '../wire/error.js';
import { Metadata } from '../wire/metadata.js';
import { Status } from '../wire/status.js';
import type { ConnectionManager } from '../transport/connection-manager.js';
import { remainingTime, type CallOptions } from './call-options.js';
import { cancelledError } from './call-status.js';
import type { CallHandle } from './call-handle.js';
import { ClientCall, type CallLimits, type ResponseSink } from './client-call.js';
import type { CallListener, ClientCallInfo, ClientCallStatus, ClientInterceptor, OutgoingCall } from './interceptors.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A call that runs through a chain of interceptors before reaching the
 * network. Only used when some interceptor or call credential is configured;
 * plain calls use ClientCall directly and pay nothing for this layer.
 *
 * The deadline and the abort signal are enforced here, above the chain, so
 * they also bound time spent inside interceptors (e.g. fetching a token).
 */
export class InterceptedCall<Req, Res> implements CallHandle<Req>, CallListener<Res> {
  private finished = false;
  private halfClosed = false;
  private head: OutgoingCall<Req, Res> | undefined;
  /** The network call of the current attempt, for flow control. */
  private transport: ClientCall<Req, Res> | undefined;
  /** Wire size of the last response received, for the response queue's byte budget. */
  private lastResponseSize = 0;
  private timer: NodeJS.Timeout | undefined;
  private abortListener: (() => void) | undefined;
  private readonly options: CallOptions;

  constructor(
    private readonly connection: ConnectionManager,
    private readonly method: MethodDefinition<Req, Res>,
    private readonly limits: CallLimits,
    options: CallOptions,
    private readonly sink: ResponseSink<Res>,
    private readonly interceptors: readonly ClientInterceptor[],
    private readonly target: string,
  ) {
    this.options = withAbsoluteDeadline(options);
  }

  get isFinished(): boolean {
    return this.finished;
  }

  start(): void {
    const { options } = this;
    if (options.signal?.aborted) return this.finish(cancelledError(options.signal));
    const remaining = remainingTime(options);
    if (remaining !== undefined && remaining <= 0) {
      return this.finish(new GrpcError(Status.DEADLINE_EXCEEDED, 'deadline exceeded before the call started'));
    }
    if (remaining !== undefined && remaining <= MAX_TIMER_MS) {
      this.timer = setTimeout(() => this.cancelWith(new GrpcError(Status.DEADLINE_EXCEEDED, `deadline exceeded after ${Math.round(remaining)} ms`)), remaining);
    }
    if (options.signal) {
      const signal = options.signal;
      this.abortListener = () => this.cancelWith(cancelledError(signal));
      signal.addEventListener('abort', this.abortListener, { once: true });
    }
    try {
      this.head = this.buildChain();
      this.head.start(options.metadata?.clone() ?? new Metadata(), this);
    } catch (err) {
      this.cancelWith(toGrpcError(err, Status.INTERNAL, 'a client interceptor failed'));
    }
  }

  write(request: Req, compress = true): Promise<void> {
    if (this.finished || this.halfClosed || !this.head) return Promise.resolve();
    return this.head.sendMessage(request, compress);
  }

  writeLast(request: Req): void {
    void this.write(request).catch(() => {});
    this.end();
  }

  startWith(request: Req): void {
    this.start();
    this.writeLast(request);
  }

  end(): void {
    if (this.halfClosed || this.finished || !this.head) return;
    this.halfClosed = true;
    this.head.halfClose();
  }

  /** Cancels through the chain, and ends the call now even if an interceptor holds the cancel back. */
  cancelWith(error: GrpcError): void {
    if (this.finished) return;
    this.head?.cancel(error);
    this.finish(error);
  }

  pause(): void {
    this.transport?.pause();
  }

  resume(): void {
    this.transport?.resume();
  }

  onReceiveMetadata(metadata: Metadata): void {
    if (this.finished) return;
    this.options.onHeader?.(metadata);
    this.sink.headers?.(metadata);
  }

  onReceiveMessage(message: Res): void {
    if (!this.finished) this.sink.message(message, false, this.lastResponseSize);
  }

  onReceiveStatus(status: ClientCallStatus): void {
    this.finish(status.error, status.trailers);
  }

  /** Interceptors in order, the first outermost: it sees outgoing operations first and responses last. */
  private buildChain(): OutgoingCall<Req, Res> {
    const info: ClientCallInfo<Req, Res> = { method: this.method, kind: callKind(this.method), target: this.target, options: this.options };
    const attempts: AttemptObserver<Req, Res> = {
      started: (call) => {
        this.transport = call;
      },
      received: (size) => {
        this.lastResponseSize = size;
      },
    };
    let next = (): OutgoingCall<Req, Res> => new NetworkCall(this.connection, this.method, this.limits, this.options, attempts);
    for (let i = this.interceptors.length - 1; i >= 0; i--) {
      const interceptor = this.interceptors[i];
      const inner = next;
      next = () => interceptor(info, inner);
    }
    return next();
  }

  private finish(error: GrpcError | undefined, trailers: Metadata = error?.metadata ?? new Metadata()): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    if (this.abortListener) this.options.signal!.removeEventListener('abort', this.abortListener);
    this.options.onTrailer?.(trailers);
    this.sink.end(error, trailers);
  }
}

interface AttemptObserver<Req, Res> {
  started(call: ClientCall<Req, Res>): void;
  received(size: number): void;
}

/** The bottom of the chain: one attempt on the network, as a ClientCall. */
class NetworkCall<Req, Res> implements OutgoingCall<Req, Res> {
  private call: ClientCall<Req, Res> | undefined;

  constructor(
    private readonly connection: ConnectionManager,
    private readonly method: MethodDefinition<Req, Res>,
    private readonly limits: CallLimits,
    private readonly options: CallOptions,
    private readonly observer: AttemptObserver<Req, Res>,
  ) {}

  start(metadata: Metadata, listener: CallListener<Res>): void {
    if (this.call) throw new Error('start() called twice on the same call');
    // Deadline, compression and waitForReady carry over; the signal and the header/trailer callbacks belong to the top of the chain.
    const { deadline, compression, waitForReady } = this.options;
    const { observer } = this;
    const call = new ClientCall(this.connection, this.method, this.limits, { deadline, compression, waitForReady, metadata }, {
      wantsTrailers: true,
      headers: (md) => listener.onReceiveMetadata(md),
      message: (m, _compressed, size) => {
        observer.received(size);
        listener.onReceiveMessage(m);
      },
      end: (error, trailers) => listener.onReceiveStatus({ error, trailers }),
    });
    this.call = call;
    observer.started(call);
    call.start();
  }

  sendMessage(message: Req, compress = true): Promise<void> {
    if (!this.call) return Promise.reject(new GrpcError(Status.INTERNAL, 'sendMessage() before start()'));
    return this.call.write(message, compress);
  }

  halfClose(): void {
    this.call?.end();
  }

  cancel(error: GrpcError): void {
    this.call?.cancelWith(error);
  }
}

/** A relative timeout becomes an absolute deadline once, so retried attempts share the call's deadline. */
function withAbsoluteDeadline(options: CallOptions): CallOptions {
  if (options.timeout === undefined) return options;
  const fromTimeout = Date.now() + options.timeout;
  const deadline = options.deadline && options.deadline.getTime() < fromTimeout ? options.deadline : new Date(fromTimeout);
  return { ...options, timeout: undefined, deadline };
}
