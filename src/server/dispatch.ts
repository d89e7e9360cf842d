import type http2 from 'node:http2';
import { callKind, type CallKind, type MethodDefinition } from '../service.js';
import { ACCEPT_ENCODING, isSupportedEncoding } from '../wire/compression.js';
import { GrpcError, toGrpcError } from '../wire/error.js';
import { Status } from '../wire/status.js';
import { TimeoutFormatError, parseTimeout } from '../wire/timeout.js';
import { http2ErrorName } from '../wire/http2-errors.js';
import { isTracing, trace } from '../observability/trace.js';
import { CompressedMessage, MessageReader, RECEIVE_QUEUE_BYTES, openMessage } from '../transport/message-io.js';
import { AsyncQueue } from '../util/async-queue.js';
import { CallContext } from './context.js';
import { confirmHalfClose } from './half-close.js';
import type { AnyHandler } from './handlers.js';
import { ServerResponse, rejectRequest } from './server-call.js';

export interface RegisteredMethod {
  definition: MethodDefinition;
  handler: AnyHandler;
}

export interface DispatchOptions {
  maxReceiveMessageSize: number;
  maxSendMessageSize: number;
  defaultCompression?: 'gzip' | 'deflate';
  onHandlerError?: (error: unknown, method: string) => void;
  /** Told when a client reset a call before its status went out. */
  onPeerReset?: (stream: http2.ServerHttp2Stream) => void;
}

/** application/grpc, with a content-subtype or parameters or both. */
const GRPC_CONTENT_TYPE = /^application\/grpc(?:[+;]|$)/i;
/** The content-types of the one codec the server has: no subtype means proto. */
const PROTO_CONTENT_TYPE = /^application\/grpc(?:\+proto)?(?:;|$)/i;

/** The longest timer Node can arm; deadlines further out are left to the client. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Turns one incoming HTTP/2 stream into a gRPC call and runs its handler. */
export function dispatchStream(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  rawHeaders: string[],
  lookup: (path: string) => RegisteredMethod | undefined,
  options: DispatchOptions,
): void {
  // Errors surface through 'close'; an unhandled 'error' event would crash the process.
  stream.on('error', () => {});
  const contentType = headers['content-type'];
  if (!contentType || !GRPC_CONTENT_TYPE.test(contentType)) {
    return rejectRequest(stream, 415, Status.UNKNOWN, `unsupported content-type ${JSON.stringify(contentType ?? '')}: gRPC requires application/grpc`);
  }
  if (headers[':method'] !== 'POST') {
    return rejectRequest(stream, 405, Status.INTERNAL, `gRPC requires POST, got ${headers[':method']}`);
  }
  const path = headers[':path'] ?? '';
  const response = new ServerResponse(stream, path, options.maxSendMessageSize, headers['grpc-accept-encoding'] as string | undefined);
  if (contentType !== 'application/grpc' && !PROTO_CONTENT_TYPE.test(contentType)) {
    // Decoding another codec's bytes as protobuf would turn them into garbage, or into a wrong but valid message.
    return response.finish(Status.UNIMPLEMENTED, `content-type ${JSON.stringify(contentType)} is not supported: this server only speaks application/grpc+proto`);
  }
  const registered = lookup(path);
  if (!registered) {
    return response.finish(Status.UNIMPLEMENTED, `unknown method ${path}`);
  }
  let timeoutMs: number | undefined;
  try {
    const raw = headers['grpc-timeout'];
    if (raw !== undefined) timeoutMs = parseTimeout(String(raw));
  } catch (err) {
    if (err instanceof TimeoutFormatError) return response.finish(Status.INTERNAL, err.message);
    throw err;
  }
  const encoding = headers['grpc-encoding'] as string | undefined;
  if (encoding !== undefined && !isSupportedEncoding(encoding)) {
    return response.finish(Status.UNIMPLEMENTED, `request compression "${encoding}" is not supported; supported: ${ACCEPT_ENCODING}`);
  }
  new ServerCallRunner(stream, rawHeaders, registered, response, timeoutMs, options).start(encoding);
}

class ServerCallRunner {
  private readonly ctx: CallContext;
  private timer: NodeJS.Timeout | undefined;
  private requests: AsyncQueue<unknown> | undefined;
  private singleRequest: { value: unknown } | undefined;
  private readonly kind: CallKind;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    rawHeaders: string[],
    private readonly registered: RegisteredMethod,
    private readonly response: ServerResponse,
    timeoutMs: number | undefined,
    private readonly options: DispatchOptions,
  ) {
    this.kind = callKind(registered.definition);
    const deadline = timeoutMs === undefined ? undefined : new Date(Date.now() + timeoutMs);
    this.ctx = new CallContext(
      rawHeaders,
      deadline,
      stream.session?.socket,
      registered.definition.path,
      response,
    );
    if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS) {
      this.timer = setTimeout(() => this.fail(new GrpcError(Status.DEADLINE_EXCEEDED, 'Deadline Exceeded')), timeoutMs);
    }
    if (options.defaultCompression) response.setCompression(options.defaultCompression);
  }

  start(requestEncoding: string | undefined): void {
    const { stream } = this;
    const streaming = this.kind === 'clientStream' || this.kind === 'bidi';
    const reader = new MessageReader(
      this.options.maxReceiveMessageSize,
      this.registered.definition.deserializeRequest,
      (msg, compressed, size) => this.onRequest(msg, compressed, size),
      // Streaming handlers may read slowly: their queue keeps compressed requests compressed until read.
      streaming ? (msg, size) => this.onRequest(msg, true, size) : undefined,
    );
    reader.setEncoding(requestEncoding);
    stream.on('close', () => this.onClose());
    // A client RST_STREAM also ends the readable side: 'aborted' tells it apart from a half-close.
    stream.on('aborted', () => this.onClose());
    stream.on('data', (chunk: Buffer) => {
      if (this.response.isFinished) return;
      try {
        reader.decoder.push(chunk);
      } catch (err) {
        this.fail(toGrpcError(err, Status.INTERNAL, 'invalid request message'));
      }
    });
    stream.on('end', () => {
      if (this.response.isFinished) return;
      try {
        reader.decoder.finish();
      } catch (err) {
        return this.fail(toGrpcError(err, Status.INTERNAL, 'truncated request'));
      }
      // A cancel may be END_STREAM followed by RST_STREAM: the handler's stream ends only once that is ruled out.
      if (this.requests) confirmHalfClose(stream, () => this.onRequestsEnd());
      else this.onRequestsEnd();
    });
    if (streaming) {
      // A message is opened when the handler takes it, and its compressed flag becomes ctx.requestCompressed then.
      const ctx = this.ctx;
      const prepare = (item: unknown) => {
        ctx.requestCompressed = item instanceof CompressedMessage;
        return openMessage(item);
      };
      const queue = new AsyncQueue<unknown>({ byteLimit: RECEIVE_QUEUE_BYTES, prepare });
      queue.onDrain = () => stream.resume();
      // A request that fails to inflate or parse when the handler reads it fails the call.
      queue.onError = (err) => this.fail(toGrpcError(err, Status.INTERNAL, 'invalid request message'));
      this.requests = queue;
      void this.run(this.kind, queue);
    }
  }

  private onRequest(message: unknown, compressed: boolean, size: number): void {
    this.response.probe?.received(size);
    if (this.requests) {
      if (!this.requests.push(message, size)) this.stream.pause();
      return;
    }
    // Unary and server-streaming calls take exactly one message (a cardinality violation is UNIMPLEMENTED, see
    // grpc's doc/statuscodes.md): the handler runs at END_STREAM, once no second message can follow.
    if (this.singleRequest) {
      return this.fail(new GrpcError(Status.UNIMPLEMENTED, `received a second request message for ${this.kind} method ${this.ctx.method}`));
    }
    this.singleRequest = { value: message };
    this.ctx.requestCompressed = compressed;
  }

  private onRequestsEnd(): void {
    if (this.stream.aborted) return;
    if (this.requests) return this.requests.end();
    if (!this.singleRequest) {
      return this.fail(new GrpcError(Status.UNIMPLEMENTED, `client half-closed without sending a request message for ${this.kind} method ${this.ctx.method}`));
    }
    this.run(this.kind, this.singleRequest.value);
  }

  private run(kind: CallKind, input: unknown): void {
    const handler = this.registered.handler as (input: unknown, ctx: CallContext) => unknown;
    let result: unknown;
    try {
      result = handler(input, this.ctx);
    } catch (err) {
      return this.handlerFailed(err);
    }
    if (kind === 'serverStream' || kind === 'bidi') {
      void this.sendAll(result as AsyncIterable<unknown> | Iterable<unknown>);
    } else if (result instanceof Promise) {
      // Unary and client-streaming handlers: no extra async frame or microtask when the result is ready.
      result.then((value) => this.sendLast(value), (err) => this.handlerFailed(err));
    } else {
      this.sendLast(result);
    }
  }

  private sendLast(value: unknown): void {
    if (this.response.isFinished) return;
    clearTimeout(this.timer);
    try {
      this.response.sendLast(serialize(this.registered.definition, value));
    } catch (err) {
      this.handlerFailed(err);
    }
  }

  private async sendAll(results: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
    const { response } = this;
    const { definition } = this.registered;
    try {
      if (Symbol.asyncIterator in results) {
        for await (const result of results) {
          if (response.isFinished) break;
          if (!response.write(serialize(definition, result))) await response.drained();
        }
      } else {
        // Sync iterables (arrays, function*) skip a promise per message: the fastest way to stream.
        for (const result of results) {
          if (response.isFinished) break;
          if (!response.write(serialize(definition, result))) await response.drained();
        }
      }
      this.complete();
    } catch (err) {
      this.handlerFailed(err);
    }
  }

  private handlerFailed(err: unknown): void {
    if (this.response.isFinished) return;
    if (err instanceof GrpcError) return this.fail(err);
    const path = this.registered.definition.path;
    this.options.onHandlerError?.(err, path);
    this.fail(new GrpcError(Status.UNKNOWN, `${path} failed with an unexpected error`));
  }

  private complete(): void {
    clearTimeout(this.timer);
    this.response.finish(Status.OK, '');
  }

  private fail(err: GrpcError): void {
    clearTimeout(this.timer);
    if (!this.response.isFinished) this.response.finishWithError(err);
    this.requests?.end(err);
    this.ctx.abort(err);
  }

  /** A stream that closes before we sent a status was cancelled by the client or lost with its connection. */
  private onClose(): void {
    clearTimeout(this.timer);
    if (this.response.statusSent) return;
    if (this.stream.aborted) this.options.onPeerReset?.(this.stream);
    const first = this.response.markAbandoned();
    if (first && this.stream.aborted && isTracing('transport')) {
      trace('transport', `${this.ctx.method} from ${this.ctx.peer}: the client reset stream ${this.stream.id} with ${http2ErrorName(this.stream.rstCode)}`);
    }
    // After RST_STREAM(NO_ERROR), Node destroys the stream only once its readable side was drained.
    if (!this.stream.destroyed) this.stream.resume();
    const err = new GrpcError(Status.CANCELLED, 'the client cancelled the call or the connection was lost');
    this.requests?.end(err);
    this.ctx.abort(err);
  }
}

function serialize(definition: MethodDefinition, value: unknown): Uint8Array {
  try {
    return definition.serializeResponse(value);
  } catch (err) {
    throw new GrpcError(Status.INTERNAL, `could not serialize the response of ${definition.path}: ${(err as Error).message}`);
  }
}
