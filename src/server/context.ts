import type http2 from 'node:http2';
import type { Socket } from 'node:net';
import { Metadata } from '../wire/metadata.js';
import { peerAddress } from '../transport/peer-address.js';
import { authContextOf, type AuthContext } from './auth-context.js';
import { ServerResponse } from './server-call.js';

/** What a handler knows about its call, and the controls it has over the response. */
export interface ServerCallContext {
  /** Metadata the client sent, without protocol headers. */
  readonly metadata: Metadata;
  /** When the client's deadline passes, if it set one. */
  readonly deadline: Date | undefined;
  /** Fires when the client cancels, the deadline passes, or the server shuts down. */
  readonly signal: AbortSignal;
  /** The client's address, "ip:port" ("[v6]:port" for IPv6). */
  readonly peer: string;
  /** The peer address, whether TLS is in use, and the verified client certificate under mTLS. */
  readonly auth: AuthContext;
  /** The method path, "/package.Service/Method". */
  readonly method: string;
  /** The :authority the client sent (the Host header for HTTP/1-style clients): the host it called, "" if none. */
  readonly authority: string;
  /** Trailing metadata, sent with the status. */
  readonly trailers: Metadata;
  /**
   * Whether a request message arrived compressed: for unary and server-streaming calls, the request;
   * for request streams, the message the handler took last (read it right after each message).
   */
  readonly requestCompressed: boolean;
  /** Sends response headers now, with the given metadata added. Later calls do nothing. */
  sendHeader(metadata?: Metadata): void;
  /** Picks the response encoding (before headers go out); identity if the client does not accept it. */
  setResponseCompression(name: 'gzip' | 'deflate' | 'identity'): void;
  /** Turns compression of the following response messages on or off (default on, when an encoding is set). */
  setMessageCompression(enabled: boolean): void;
}

/**
 * What a handler sees of its call, on top of the response side (one object per call: see ServerResponse).
 * Everything a handler may never look at (metadata, signal, deadline Date, auth) is made on first use.
 */
export class CallContext extends ServerResponse implements ServerCallContext {
  requestCompressed = false;
  private controller: AbortController | undefined;
  private abortReason: unknown;
  private abortedEarly = false;

  private parsedMetadata: Metadata | undefined;
  private authContext: AuthContext | undefined;
  private deadlineDate: Date | undefined;
  private readonly socket: Socket | undefined;

  constructor(
    stream: http2.ServerHttp2Stream,
    maxSendSize: number,
    peerAcceptEncoding: string | undefined,
    private readonly rawHeaders: string[],
    /** Absolute deadline in ms since the epoch; Infinity for none. */
    public deadlineAt: number,
    readonly method: string,
  ) {
    super(stream, maxSendSize, peerAcceptEncoding, method);
    this.socket = stream.session?.socket;
  }

  get deadline(): Date | undefined {
    if (this.deadlineAt === Infinity) return undefined;
    return (this.deadlineDate ??= new Date(this.deadlineAt));
  }

  /** Parsed on first use: many handlers never read their metadata. */
  get metadata(): Metadata {
    return (this.parsedMetadata ??= Metadata.fromRawHeaders(this.rawHeaders));
  }

  get peer(): string {
    return peerAddress(this.socket);
  }

  get authority(): string {
    let host = '';
    for (let i = 0; i + 1 < this.rawHeaders.length; i += 2) {
      const name = this.rawHeaders[i];
      if (name === ':authority') return this.rawHeaders[i + 1];
      if (name.toLowerCase() === 'host') host = this.rawHeaders[i + 1];
    }
    return host;
  }

  /** Built on first use: most handlers never look at it. */
  get auth(): AuthContext {
    return (this.authContext ??= authContextOf(this.socket));
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedEarly) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Fires the signal once, whether or not anyone has asked for it yet. */
  abort(reason: unknown): void {
    if (this.abortedEarly) return;
    this.abortedEarly = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  sendHeader(metadata?: Metadata): void {
    if (this.headersWereSent) return;
    if (metadata) this.addHeaders(metadata);
    this.sendHeaders();
  }

  setResponseCompression(name: 'gzip' | 'deflate' | 'identity'): void {
    this.setCompression(name);
  }

  setMessageCompression(enabled: boolean): void {
    this.compressMessages = enabled;
  }

  /** For the interceptor layer: throws RESOURCE_EXHAUSTED for a response message over the send limit. */
  checkResponseSize(bytes: Uint8Array): void {
    this.checkSize(bytes);
  }
}
