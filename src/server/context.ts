import type { Socket } from 'node:net';
import { Metadata } from '../wire/metadata.js';
import { peerAddress } from '../transport/peer-address.js';
import { authContextOf, type AuthContext } from './auth-context.js';
import type { ServerResponse } from './server-call.js';

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

export class CallContext implements ServerCallContext {
  requestCompressed = false;
  // Most handlers never look at the signal, so the AbortController is made on first use.
  private controller: AbortController | undefined;
  private abortReason: unknown;
  private abortedEarly = false;

  private parsedMetadata: Metadata | undefined;
  private authContext: AuthContext | undefined;

  constructor(
    private readonly rawHeaders: string[],
    readonly deadline: Date | undefined,
    private readonly socket: Socket | undefined,
    readonly method: string,
    private readonly response: ServerResponse,
  ) {}

  /** Parsed on first use: many handlers never read their metadata. */
  get metadata(): Metadata {
    return (this.parsedMetadata ??= Metadata.fromRawHeaders(this.rawHeaders));
  }

  get peer(): string {
    return peerAddress(this.socket);
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

  get trailers(): Metadata {
    return this.response.trailers;
  }

  sendHeader(metadata?: Metadata): void {
    if (this.response.headersWereSent) return;
    if (metadata) this.response.addHeaders(metadata);
    this.response.sendHeaders();
  }

  setResponseCompression(name: 'gzip' | 'deflate' | 'identity'): void {
    this.response.setCompression(name);
  }

  setMessageCompression(enabled: boolean): void {
    this.response.compressMessages = enabled;
  }
}
