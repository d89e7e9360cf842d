import { callKind, type CallKind, type MethodDefinition } from '../service.js';
import { GrpcError } from '../wire/error.js';
import { Metadata } from '../wire/metadata.js';
import { Status } from '../wire/status.js';
import { CallContext, type ServerCallContext } from './context.js';
import type { AnyHandler } from './handlers.js';
import { SerializedResponse, serializeResponse } from './response-bytes.js';

/** How the server ends a call: `error` is undefined for OK. */
export interface ServerCallStatus {
  /** The error to end the call with; undefined for OK. */
  error: GrpcError | undefined;
  /** The trailing metadata that goes out with the status; hooks may add to it. */
  trailers: Metadata;
}

type Pass<T> = (value: T) => void;

/**
 * Hooks one interceptor runs on one call. Each hook passes its value on with
 * `next` (possibly replaced), or fails the call by throwing: a GrpcError
 * becomes the call's status, anything else is handled like a handler's
 * unexpected error (UNKNOWN). A message hook that does not call `next` drops
 * that message; the other hooks must call it. Hooks may be async.
 */
export interface ServerHooks<Req = any, Res = any> {
  /** The client's metadata, before the handler runs (the place for an auth check). */
  onReceiveMetadata?(metadata: Metadata, next: (metadata: Metadata) => void): void | Promise<void>;
  /** A request message, before the handler reads it. */
  onReceiveMessage?(message: Req, next: (message: Req) => void): void | Promise<void>;
  /** The client sent its last message. */
  onReceiveHalfClose?(next: () => void): void | Promise<void>;
  /** Response headers, before the first response message or when the handler calls sendHeader. */
  sendMetadata?(metadata: Metadata, next: (metadata: Metadata) => void): void | Promise<void>;
  /** A response message, before it goes out. */
  sendMessage?(message: Res, next: (message: Res) => void): void | Promise<void>;
  /** The status the handler produced; `next` may pass a different one. */
  sendStatus?(status: ServerCallStatus, next: (status: ServerCallStatus) => void): void | Promise<void>;
  /** The call ended without a status from the handler: the client cancelled, the deadline passed, or the server shut down. */
  onCancel?(reason: GrpcError): void;
}

/** What a server interceptor knows about the method being called. */
export interface ServerMethodInfo {
  /** The method. */
  readonly definition: MethodDefinition;
  /** Its streaming shape. */
  readonly kind: CallKind;
}

/**
 * Runs once per call and returns the hooks for it (or nothing, to stay out
 * of this call). Interceptors registered as [a, b]: a sees incoming metadata
 * and messages first and outgoing ones last, like layers of an onion.
 */
export type ServerInterceptor = (ctx: ServerCallContext, method: ServerMethodInfo) => ServerHooks | void | undefined;

/**
 * Wraps a handler so that every call runs through the interceptors. Done once
 * per method when the service is added: servers without interceptors keep
 * their handlers untouched.
 */
export function interceptHandler(definition: MethodDefinition, handler: AnyHandler, interceptors: readonly ServerInterceptor[]): AnyHandler {
  const info: ServerMethodInfo = { definition, kind: callKind(definition) };
  const open = (ctx: ServerCallContext) => new InterceptedServerCall(ctx, info, interceptors);
  const call = handler as (input: unknown, ctx: ServerCallContext) => any;
  switch (info.kind) {
    case 'unary':
      return (request: unknown, ctx: ServerCallContext) => open(ctx).unary(call, request);
    case 'clientStream':
      return (requests: AsyncIterable<unknown>, ctx: ServerCallContext) => open(ctx).clientStream(call, requests);
    case 'serverStream':
      return (request: unknown, ctx: ServerCallContext) => open(ctx).serverStream(call, request);
    case 'bidi':
      return (requests: AsyncIterable<unknown>, ctx: ServerCallContext) => open(ctx).bidi(call, requests);
  }
}

type Hook<T> = (value: T, next: Pass<T>) => void | Promise<void>;

/** Passes `value` through each hook in turn; undefined if one of them dropped it. */
async function runHooks<T>(hooks: Hook<T>[], value: T): Promise<{ value: T } | undefined> {
  let current: { value: T } | undefined = { value };
  for (const hook of hooks) {
    const input: T = current.value;
    current = undefined;
    await hook(input, (v) => {
      current = { value: v };
    });
    if (!current) return undefined;
  }
  return current;
}

type Handler = (input: unknown, ctx: ServerCallContext) => any;

class InterceptedServerCall {
  private readonly hooks: ServerHooks[];
  private readonly ctx: InterceptedContext;
  private statusReported = false;
  /** Ended by the client, the deadline or shutdown: onCancel ran, and the handler's late status goes nowhere. */
  private cancelled = false;
  private headers: Promise<void> | undefined;

  constructor(private readonly inner: ServerCallContext, private readonly info: ServerMethodInfo, interceptors: readonly ServerInterceptor[]) {
    this.hooks = [];
    for (const interceptor of interceptors) {
      const hooks = interceptor(inner, info);
      if (hooks) this.hooks.push(hooks);
    }
    this.ctx = new InterceptedContext(inner, (md) => this.sendHeaders(md));
    // The signal also fires after an error status; only a call that ended without one was cancelled.
    inner.signal.addEventListener('abort', () => {
      if (this.statusReported) return;
      this.cancelled = true;
      const reason = inner.signal.reason instanceof GrpcError ? inner.signal.reason : new GrpcError(Status.CANCELLED, 'call cancelled');
      for (const h of this.hooks) h.onCancel?.(reason);
    }, { once: true });
  }

  async unary(handler: Handler, request: unknown): Promise<unknown> {
    let response: unknown;
    try {
      await this.begin();
      const input = await this.required(this.receiveMessage(request), 'request');
      await this.receiveHalfClose();
      response = await this.required(this.sendMessage(await handler(input, this.ctx)), 'response');
      await this.sendHeaders();
      response = this.serialized(response);
    } catch (err) {
      return this.endWithError(err);
    }
    await this.endOk();
    return response;
  }

  async clientStream(handler: Handler, requests: AsyncIterable<unknown>): Promise<unknown> {
    let response: unknown;
    try {
      await this.begin();
      response = await this.required(this.sendMessage(await handler(this.incoming(requests), this.ctx)), 'response');
      await this.sendHeaders();
      response = this.serialized(response);
    } catch (err) {
      return this.endWithError(err);
    }
    await this.endOk();
    return response;
  }

  async *serverStream(handler: Handler, request: unknown): AsyncGenerator<unknown> {
    try {
      await this.begin();
      const input = await this.required(this.receiveMessage(request), 'request');
      await this.receiveHalfClose();
      yield* this.outgoing(handler(input, this.ctx));
    } catch (err) {
      return this.endWithError(err);
    }
    await this.endOk();
  }

  async *bidi(handler: Handler, requests: AsyncIterable<unknown>): AsyncGenerator<unknown> {
    try {
      await this.begin();
      yield* this.outgoing(handler(this.incoming(requests), this.ctx));
    } catch (err) {
      return this.endWithError(err);
    }
    await this.endOk();
  }

  private async begin(): Promise<void> {
    const hooks = this.forward('onReceiveMetadata');
    if (hooks.length === 0) return;
    this.ctx.metadata = await this.required(runHooks(hooks, this.inner.metadata), 'request metadata');
  }

  private receiveMessage(message: unknown): Promise<{ value: unknown } | undefined> {
    return runHooks(this.forward('onReceiveMessage'), message);
  }

  private async receiveHalfClose(): Promise<void> {
    const hooks = this.forward('onReceiveHalfClose').map((h): Hook<undefined> => {
      const hook = h as unknown as NonNullable<ServerHooks['onReceiveHalfClose']>;
      return (_, next) => hook(() => next(undefined));
    });
    await this.required(runHooks(hooks, undefined), 'half-close');
  }

  private sendMessage(message: unknown): Promise<{ value: unknown } | undefined> {
    return runHooks(this.backward('sendMessage'), message);
  }

  /** Sends response headers once, through the sendMetadata hooks; the message path waits for them. */
  private sendHeaders(metadata = new Metadata()): Promise<void> {
    this.headers ??= this.required(runHooks(this.backward('sendMetadata'), metadata), 'response metadata').then((md) => this.inner.sendHeader(md));
    return this.headers;
  }

  private async *incoming(requests: AsyncIterable<unknown>): AsyncGenerator<unknown> {
    for await (const request of requests) {
      const passed = await this.receiveMessage(request);
      if (passed) yield passed.value;
    }
    await this.receiveHalfClose();
  }

  private async *outgoing(responses: AsyncIterable<unknown> | Iterable<unknown>): AsyncGenerator<unknown> {
    for await (const response of responses) {
      const passed = await this.sendMessage(response);
      if (!passed) continue;
      await this.sendHeaders();
      yield this.serialized(passed.value);
    }
  }

  /**
   * Serializes and size-checks a response here rather than when it is sent, so that a failure
   * (RESOURCE_EXHAUSTED past maxSendMessageSize, INTERNAL) reaches the sendStatus hooks as the status.
   */
  private serialized(response: unknown): SerializedResponse {
    const bytes = serializeResponse(this.info.definition, response);
    if (this.inner instanceof CallContext) this.inner.checkResponseSize(bytes);
    return new SerializedResponse(bytes);
  }

  private async endOk(): Promise<void> {
    const status = await this.reportStatus({ error: undefined, trailers: this.inner.trailers });
    if (status.error) throw status.error;
  }

  /**
   * The handler (or a hook) failed. A plain error keeps its identity unless a
   * hook changes the status, so the server still reports it to onHandlerError.
   */
  private async endWithError(err: unknown): Promise<never> {
    const error = err instanceof GrpcError ? err : new GrpcError(Status.UNKNOWN, `${this.info.definition.path} failed with an unexpected error`);
    const status = await this.reportStatus({ error, trailers: this.inner.trailers });
    if (status.error === error) throw err;
    if (status.error) throw status.error;
    throw new GrpcError(Status.INTERNAL, 'a server interceptor turned a failed call into OK, which cannot be sent without a response');
  }

  private async reportStatus(status: ServerCallStatus): Promise<ServerCallStatus> {
    if (this.cancelled) return status;
    this.statusReported = true;
    return this.required(runHooks(this.backward('sendStatus'), status), 'status');
  }

  private async required<T>(result: Promise<{ value: T } | undefined>, what: string): Promise<T> {
    const passed = await result;
    if (!passed) throw new GrpcError(Status.INTERNAL, `a server interceptor did not pass the ${what} on`);
    return passed.value;
  }

  /** Hooks of one kind in registration order (incoming direction). */
  private forward<K extends keyof ServerHooks>(name: K): Hook<any>[] {
    const out: Hook<any>[] = [];
    for (const h of this.hooks) if (h[name]) out.push((h[name] as Hook<any>).bind(h));
    return out;
  }

  /** Hooks of one kind in reverse order (outgoing direction). */
  private backward<K extends keyof ServerHooks>(name: K): Hook<any>[] {
    return this.forward(name).reverse();
  }
}

/** The context handlers see behind interceptors: metadata as the hooks left it, sendHeader through the hooks. */
class InterceptedContext implements ServerCallContext {
  metadata: Metadata;

  constructor(private readonly inner: ServerCallContext, private readonly headers: (md: Metadata) => Promise<void>) {
    this.metadata = inner.metadata;
  }

  get deadline() { return this.inner.deadline; }
  get signal() { return this.inner.signal; }
  get peer() { return this.inner.peer; }
  get auth() { return this.inner.auth; }
  get method() { return this.inner.method; }
  get authority() { return this.inner.authority; }
  get trailers() { return this.inner.trailers; }
  get requestCompressed() { return this.inner.requestCompressed; }

  sendHeader(metadata?: Metadata): void {
    // A failing hook fails the call when the next message or the status waits for these headers.
    this.headers(metadata ?? new Metadata()).catch(() => {});
  }

  setResponseCompression(name: 'gzip' | 'deflate' | 'identity'): void {
    this.inner.setResponseCompression(name);
  }

  setMessageCompression(enabled: boolean): void {
    this.inner.setMessageCompression(enabled);
  }
}
