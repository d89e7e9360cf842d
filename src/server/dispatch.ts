import type http2 from 'node:http2';
import { callKind, type CallKind, type MethodDefinition } from '../service.js';
import { ACCEPT_ENCODING, isSupportedEncoding } from '../wire/compression.js';
import { GrpcError, toGrpcError } from '../wire/error.js';
import { Status } from '../wire/status.js';
import { TimeoutFormatError, parseTimeout } from '../wire/timeout.js';
import { http2ErrorName } from '../wire/http2-errors.js';
import { isTracing, trace } from '../observability/trace.js';
import { CompressedMessage, MessageReader, RECEIVE_QUEUE_BYTES, openMessage, readChunk, type ChunkReader } from '../transport/message-io.js';
import { noteStreamClosed } from '../transport/server-keepalive.js';
import { AsyncQueue } from '../util/async-queue.js';
import { deadlines, type Expiring } from '../util/deadlines.js';
import { CallContext } from './context.js';
import { cancelsWithResetAlone, confirmHalfClose } from './half-close.js';
import type { AnyHandler } from './handlers.js';
import { serializeResponse } from './response-bytes.js';
import { ServerResponse, kCall, rejectRequest, type CallStream } from './server-call.js';

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

/** Turns one incoming HTTP/2 stream into a gRPC call and runs its handler. */
export function dispatchStream(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  rawHeaders: string[],
  lookup: (path: string) => RegisteredMethod | undefined,
  options: DispatchOptions,
): void {
  // Errors surface through 'close'; an unhandled 'error' event would crash the process.
  stream.on('error', ignoreError);
  const session = stream.session as http2.ServerHttp2Session | undefined;
  // A ServerCall listens for 'close' itself; a stream refused before that needs a listener of its own.
  if (!startCall(stream, session, headers, rawHeaders, lookup, options)) countCloseOf(stream, session);
}

/** Kept out of dispatchStream, whose every call would otherwise allocate the closure's context. */
function countCloseOf(stream: http2.ServerHttp2Stream, session: http2.ServerHttp2Session | undefined): void {
  stream.once('close', () => noteStreamClosed(session));
}

/** Starts the call, or answers with an error status and returns false. */
function startCall(
  stream: http2.ServerHttp2Stream,
  session: http2.ServerHttp2Session | undefined,
  headers: http2.IncomingHttpHeaders,
  rawHeaders: string[],
  lookup: (path: string) => RegisteredMethod | undefined,
  options: DispatchOptions,
): boolean {
  const contentType = headers['content-type'];
  if (!contentType || !GRPC_CONTENT_TYPE.test(contentType)) {
    rejectRequest(stream, 415, Status.UNKNOWN, `unsupported content-type ${JSON.stringify(contentType ?? '')}: gRPC requires application/grpc`);
    return false;
  }
  if (headers[':method'] !== 'POST') {
    rejectRequest(stream, 405, Status.INTERNAL, `gRPC requires POST, got ${headers[':method']}`);
    return false;
  }
  const path = headers[':path'] ?? '';
  const acceptEncoding = headers['grpc-accept-encoding'] as string | undefined;
  if (contentType !== 'application/grpc' && !PROTO_CONTENT_TYPE.test(contentType)) {
    // Decoding another codec's bytes as protobuf would turn them into garbage, or into a wrong but valid message.
    refuse(stream, path, options, acceptEncoding, Status.UNIMPLEMENTED, `content-type ${JSON.stringify(contentType)} is not supported: this server only speaks application/grpc+proto`);
    return false;
  }
  const registered = lookup(path);
  if (!registered) {
    refuse(stream, path, options, acceptEncoding, Status.UNIMPLEMENTED, `unknown method ${path}`);
    return false;
  }
  let timeoutMs: number | undefined;
  try {
    const raw = headers['grpc-timeout'];
    if (raw !== undefined) timeoutMs = parseTimeout(String(raw));
  } catch (err) {
    if (err instanceof TimeoutFormatError) {
      refuse(stream, path, options, acceptEncoding, Status.INTERNAL, err.message);
      return false;
    }
    throw err;
  }
  const encoding = headers['grpc-encoding'] as string | undefined;
  if (encoding !== undefined && !isSupportedEncoding(encoding)) {
    refuse(stream, path, options, acceptEncoding, Status.UNIMPLEMENTED, `request compression "${encoding}" is not supported; supported: ${ACCEPT_ENCODING}`, true);
    return false;
  }
  const deadlineAt = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  new ServerCall(stream, session, acceptEncoding, rawHeaders, registered, deadlineAt, options).start(encoding, headers['user-agent']);
  return true;
}

function ignoreError(): void {}

/** Ends a call that failed before its handler was found: it gets a response side alone. */
function refuse(
  stream: http2.ServerHttp2Stream, path: string, options: DispatchOptions, acceptEncoding: string | undefined, code: Status, message: string,
  advertiseEncodings = false,
): void {
  const response = new ServerResponse(stream, options.maxSendMessageSize, acceptEncoding, path);
  response.advertisesEncodings = advertiseEncodings;
  response.finish(code, message);
}

/**
 * Runs one call: reads its requests, calls the handler, sends what it returns. The call's response
 * side and the handler's context are this same object (see ServerResponse), and it waits on the
 * shared deadline timer itself: a call allocates one state object of its own.
 */
class ServerCall extends CallContext implements Expiring, ChunkReader<unknown> {
  expirySlot = -1;
  private requests: AsyncQueue<unknown> | undefined;
  /** Made for the first chunk that is not one whole uncompressed message (see wholeFrame), or at once for a compressed request stream. */
  reader: MessageReader<unknown> | undefined;
  private hasRequest = false;
  private request: unknown;
  private readonly kind: CallKind;
  /** A streaming call from a client that never cancels with END_STREAM first: its half-close needs no PING to confirm. */
  private halfCloseIsFinal = false;

  constructor(
    stream: http2.ServerHttp2Stream,
    private readonly session: http2.ServerHttp2Session | undefined,
    acceptEncoding: string | undefined,
    rawHeaders: string[],
    private readonly registered: RegisteredMethod,
    deadlineAt: number,
    private readonly options: DispatchOptions,
  ) {
    super(stream, options.maxSendMessageSize, acceptEncoding, rawHeaders, deadlineAt, registered.definition.path);
    this.kind = callKind(registered.definition);
    if (deadlineAt !== Infinity) deadlines.add(this);
    if (options.defaultCompression) this.setCompression(options.defaultCompression);
  }

  get expiresAt(): number {
    return this.deadlineAt;
  }

  expire(): void {
    this.fail(new GrpcError(Status.DEADLINE_EXCEEDED, 'Deadline Exceeded'));
  }

  start(requestEncoding: string | undefined, userAgent: string | undefined): void {
    const { stream } = this;
    const streaming = this.streamsRequests;
    if (requestEncoding !== undefined && requestEncoding !== 'identity') this.makeReader().setEncoding(requestEncoding);
    // Shared listeners (see kCall): closures would cost a few hundred bytes per call.
    stream.on('close', onStreamClose);
    // A client RST_STREAM also ends the readable side: 'aborted' tells it apart from a half-close.
    stream.on('aborted', onStreamAborted);
    stream.on('data', onStreamData);
    stream.on('end', onStreamEnd);
    if (streaming) {
      // A message is opened when the handler takes it, and its compressed flag becomes ctx.requestCompressed then.
      const prepare = (item: unknown) => {
        this.requestCompressed = item instanceof CompressedMessage;
        return openMessage(item);
      };
      const queue = new AsyncQueue<unknown>({ byteLimit: RECEIVE_QUEUE_BYTES, prepare });
      queue.onDrain = () => stream.resume();
      // A request that fails to inflate or parse when the handler reads it fails the call.
      queue.onError = (err) => this.fail(toGrpcError(err, Status.INTERNAL, 'invalid request message'));
      this.requests = queue;
      this.halfCloseIsFinal = cancelsWithResetAlone(userAgent);
      void this.run(this.kind, queue);
    }
  }

  onData(chunk: Buffer): void {
    if (this.isFinished) return;
    try {
      readChunk(this, chunk, this.options.maxReceiveMessageSize, this.registered.definition.deserializeRequest);
    } catch (err) {
      this.fail(toGrpcError(err, Status.INTERNAL, 'invalid request message'));
    }
  }

  onEnd(): void {
    if (this.isFinished) return;
    try {
      this.reader?.finish();
    } catch (err) {
      return this.fail(toGrpcError(err, Status.INTERNAL, 'truncated request'));
    }
    // A cancel may be END_STREAM followed by RST_STREAM: the handler's stream ends only once that is ruled out
    // (see half-close.ts), unless the client is one that cancels with RST_STREAM alone.
    if (this.requests && !this.halfCloseIsFinal) confirmHalfClose(this.stream, () => this.onRequestsEnd());
    else this.onRequestsEnd();
  }

  /** Streaming handlers may read slowly: their queue keeps compressed requests compressed until read. */
  makeReader(): MessageReader<unknown> {
    return (this.reader = new MessageReader(this.options.maxReceiveMessageSize, this.registered.definition.deserializeRequest, this, this.streamsRequests));
  }

  /** Client-streaming and bidi calls: their requests go to the handler's queue. */
  private get streamsRequests(): boolean {
    return this.kind === 'clientStream' || this.kind === 'bidi';
  }

  onStreamClosed(): void {
    noteStreamClosed(this.session);
    this.onClose();
  }

  /** From the reader: one request message (left compressed for a streaming handler's queue). */
  receivedMessage(message: unknown, compressed: boolean, size: number): void {
    this.probe?.received(size);
    if (this.requests) {
      if (!this.requests.push(message, size)) this.stream.pause();
      return;
    }
    // Unary and server-streaming calls take exactly one message (a cardinality violation is UNIMPLEMENTED, see
    // grpc's doc/statuscodes.md): the handler runs at END_STREAM, once no second message can follow.
    if (this.hasRequest) {
      return this.fail(new GrpcError(Status.UNIMPLEMENTED, `received a second request message for ${this.kind} method ${this.method}`));
    }
    this.hasRequest = true;
    this.request = message;
    this.requestCompressed = compressed;
  }

  private onRequestsEnd(): void {
    if (this.stream.aborted) return;
    if (this.requests) return this.requests.end();
    if (!this.hasRequest) {
      return this.fail(new GrpcError(Status.UNIMPLEMENTED, `client half-closed without sending a request message for ${this.kind} method ${this.method}`));
    }
    const request = this.request;
    this.request = undefined;
    this.run(this.kind, request);
  }

  private run(kind: CallKind, input: unknown): void {
    const handler = this.registered.handler as (input: unknown, ctx: CallContext) => unknown;
    let result: unknown;
    try {
      result = handler(input, this);
    } catch (err) {
      return this.handlerFailed(err);
    }
    if (kind === 'serverStream' || kind === 'bidi') {
      void this.sendAll(result as AsyncIterable<unknown> | Iterable<unknown>);
    } else if (result instanceof Promise) {
      // Unary and client-streaming handlers: no extra async frame or microtask when the result is ready.
      result.then((value) => this.respondWith(value), (err) => this.handlerFailed(err));
    } else {
      this.respondWith(result);
    }
  }

  private respondWith(value: unknown): void {
    if (this.isFinished) return;
    deadlines.remove(this);
    try {
      this.sendLast(serializeResponse(this.registered.definition, value));
    } catch (err) {
      this.handlerFailed(err);
    }
  }

  private async sendAll(results: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
    const { definition } = this.registered;
    try {
      if (Symbol.asyncIterator in results) {
        for await (const result of results) {
          if (this.isFinished) break;
          if (!this.write(serializeResponse(definition, result))) await this.drained();
        }
      } else {
        // Sync iterables (arrays, function*) skip a promise per message, and their runs of small messages go out
        // batched, one write per 64 KiB: the fastest way to stream.
        for (const result of results) {
          if (this.isFinished) break;
          if (!this.write(serializeResponse(definition, result), true)) await this.drained();
        }
        this.flushBatch();
      }
      this.complete();
    } catch (err) {
      this.handlerFailed(err); // finish() flushes what the batch holds before the status
    }
  }

  private handlerFailed(err: unknown): void {
    if (this.isFinished) return;
    if (err instanceof GrpcError) return this.fail(err);
    const path = this.registered.definition.path;
    this.options.onHandlerError?.(err, path);
    this.fail(new GrpcError(Status.UNKNOWN, `${path} failed with an unexpected error`));
  }

  private complete(): void {
    deadlines.remove(this);
    this.finish(Status.OK, '');
  }

  private fail(err: GrpcError): void {
    deadlines.remove(this);
    if (!this.isFinished) this.finishWithError(err);
    this.requests?.end(err);
    this.abort(err);
  }

  /** A stream that closes before we sent a status was cancelled by the client or lost with its connection. */
  onClose(): void {
    deadlines.remove(this);
    if (this.statusSent) return;
    if (this.stream.aborted) this.options.onPeerReset?.(this.stream);
    const first = this.markAbandoned();
    if (first && this.stream.aborted && isTracing('transport')) {
      trace('transport', `${this.method} from ${this.peer}: the client reset stream ${this.stream.id} with ${http2ErrorName(this.stream.rstCode)}`);
    }
    // After RST_STREAM(NO_ERROR), Node destroys the stream only once its readable side was drained.
    if (!this.stream.destroyed) this.stream.resume();
    const err = new GrpcError(Status.CANCELLED, 'the client cancelled the call or the connection was lost');
    this.requests?.end(err);
    this.abort(err);
  }
}

function onStreamData(this: CallStream<ServerCall>, chunk: Buffer): void {
  this[kCall].onData(chunk);
}

function onStreamEnd(this: CallStream<ServerCall>): void {
  this[kCall].onEnd();
}

function onStreamClose(this: CallStream<ServerCall>): void {
  this[kCall].onStreamClosed();
}

function onStreamAborted(this: CallStream<ServerCall>): void {
  this[kCall].onClose();
}
