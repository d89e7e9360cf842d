import diagnostics from 'node:diagnostics_channel';

/**
 * Stable events for instrumentation (OpenTelemetry, Prometheus, logs), published on
 * `node:diagnostics_channel` under these names. Nothing is built or published while a
 * channel has no subscriber, so an uninstrumented process pays one boolean check per call.
 */
export const EVENT_CHANNELS = {
  /** A client attempt started: a {@link CallEvent}. */
  clientCallStart: 'tsgrpc:client:call:start',
  /** A client attempt received response headers: the same {@link CallEvent}. */
  clientCallHeaders: 'tsgrpc:client:call:headers',
  /** A client attempt sent or received a message: a {@link CallMessageEvent}. */
  clientCallMessage: 'tsgrpc:client:call:message',
  /** A client attempt ended: the same {@link CallEvent}, with its status and duration. */
  clientCallEnd: 'tsgrpc:client:call:end',
  /** A server call arrived: a {@link CallEvent}. */
  serverCallStart: 'tsgrpc:server:call:start',
  /** A server call sent or received a message: a {@link CallMessageEvent}. */
  serverCallMessage: 'tsgrpc:server:call:message',
  /** A server call ended: the same {@link CallEvent}, with its status and duration. */
  serverCallEnd: 'tsgrpc:server:call:end',
  /** A connection changed state: a {@link ConnectionEvent}. */
  connection: 'tsgrpc:connection',
} as const;

/**
 * One call as seen by one side: on the client, one attempt (a transparent retry is a second
 * attempt with its own events); on the server, one incoming call. The same object is published
 * at the start, with the response headers, and again, filled in, at the end.
 */
export interface CallEvent {
  /** Process-unique number of this call (client: of this attempt), to pair start and end. */
  readonly id: number;
  /** Which end of the call published the event. */
  readonly side: 'client' | 'server';
  /** The full method path, `/package.Service/Method`. */
  readonly method: string;
  /** Client: the channel's target. Server: the peer address. */
  readonly peer: string;
  /** `performance.now()` when the call started. */
  readonly startTime: number;
  /** Status code once ended (0 = OK); see {@link Status}. */
  code?: number;
  /** The status message once ended (empty for OK). */
  details?: string;
  /** Milliseconds from start to status. */
  durationMs?: number;
  /** Messages sent so far. */
  messagesSent: number;
  /** Messages received so far. */
  messagesReceived: number;
  /** Message bytes as sent on the wire (after compression, without the 5-byte prefix), as gRFC A66 counts them. */
  bytesSent: number;
  /** Message bytes as received on the wire (before decompression, without the 5-byte prefix). */
  bytesReceived: number;
}

/** One message of a call, sent or received. Built only while someone listens to message events. */
export interface CallMessageEvent {
  /** The call it belongs to, with its counters already updated for this message. */
  readonly call: CallEvent;
  /** Whether this side sent or received it. */
  readonly direction: 'sent' | 'received';
  /** Its size on the wire: after compression, without the 5-byte prefix. */
  readonly bytes: number;
}

/** A connection-level happening on a client channel or a server. */
export interface ConnectionEvent {
  /** Client: a channel's connection. Server: a connection a client made. */
  readonly side: 'client' | 'server';
  /**
   * `connecting`: a client dials, or a server accepted a socket. `ready`: the HTTP/2 handshake
   * finished. `goaway`: a GOAWAY was received (client) or sent or received (server; `detail` says
   * which). `closed`: a connection that was ready ended. `failed`: it ended before it was ready.
   */
  readonly kind: 'connecting' | 'ready' | 'goaway' | 'closed' | 'failed';
  /** Client: the target dialled. Server: the peer address. */
  readonly peer: string;
  /** The GOAWAY error code, or why a connection failed or closed. */
  readonly detail?: string;
}

const channels = {
  clientCallStart: diagnostics.channel(EVENT_CHANNELS.clientCallStart),
  clientCallHeaders: diagnostics.channel(EVENT_CHANNELS.clientCallHeaders),
  clientCallMessage: diagnostics.channel(EVENT_CHANNELS.clientCallMessage),
  clientCallEnd: diagnostics.channel(EVENT_CHANNELS.clientCallEnd),
  serverCallStart: diagnostics.channel(EVENT_CHANNELS.serverCallStart),
  serverCallMessage: diagnostics.channel(EVENT_CHANNELS.serverCallMessage),
  serverCallEnd: diagnostics.channel(EVENT_CHANNELS.serverCallEnd),
  connection: diagnostics.channel(EVENT_CHANNELS.connection),
};

let nextCallId = 1;

/**
 * The per-call record, made only when someone listens: call sites keep it in a field that
 * stays undefined otherwise, so counting bytes costs nothing when nobody is observing.
 */
export class CallProbe implements CallEvent {
  readonly id = nextCallId++;
  readonly startTime = performance.now();
  code?: number;
  details?: string;
  durationMs?: number;
  messagesSent = 0;
  messagesReceived = 0;
  bytesSent = 0;
  bytesReceived = 0;
  private ended = false;
  private readonly messageChannel: diagnostics.Channel;

  constructor(readonly side: 'client' | 'server', readonly method: string, readonly peer: string) {
    const client = side === 'client';
    this.messageChannel = client ? channels.clientCallMessage : channels.serverCallMessage;
    (client ? channels.clientCallStart : channels.serverCallStart).publish(this);
  }

  /** A message went out, `bytes` long on the wire. */
  sent(bytes: number): void {
    if (this.ended) return;
    this.messagesSent++;
    this.bytesSent += bytes;
    if (this.messageChannel.hasSubscribers) this.messageChannel.publish({ call: this, direction: 'sent', bytes } satisfies CallMessageEvent);
  }

  /** A message came in, `bytes` long on the wire. */
  received(bytes: number): void {
    if (this.ended) return;
    this.messagesReceived++;
    this.bytesReceived += bytes;
    if (this.messageChannel.hasSubscribers) this.messageChannel.publish({ call: this, direction: 'received', bytes } satisfies CallMessageEvent);
  }

  /** The client got response headers (not for a Trailers-Only response). */
  headers(): void {
    if (this.side === 'client' && !this.ended) channels.clientCallHeaders.publish(this);
  }

  /** The call's status; only the first one counts. */
  end(code: number, details: string): void {
    if (this.ended) return;
    this.ended = true;
    this.code = code;
    this.details = details;
    this.durationMs = performance.now() - this.startTime;
    (this.side === 'client' ? channels.clientCallEnd : channels.serverCallEnd).publish(this);
  }
}

/** A probe for a new client call attempt, or undefined when nobody listens to client calls. */
export function clientCallProbe(method: string, target: string): CallProbe | undefined {
  if (
    !channels.clientCallStart.hasSubscribers && !channels.clientCallEnd.hasSubscribers &&
    !channels.clientCallHeaders.hasSubscribers && !channels.clientCallMessage.hasSubscribers
  ) return undefined;
  return new CallProbe('client', method, target);
}

/**
 * A probe for a new server call, or undefined when nobody listens to server calls. The peer is
 * read from `source` by `peerOf` only then (pass a function made once, not a closure per call).
 */
export function serverCallProbe<T>(method: string, source: T, peerOf: (source: T) => string): CallProbe | undefined {
  if (!channels.serverCallStart.hasSubscribers && !channels.serverCallEnd.hasSubscribers && !channels.serverCallMessage.hasSubscribers) {
    return undefined;
  }
  return new CallProbe('server', method, peerOf(source));
}

/** Publishes a connection event if anyone listens. */
export function connectionEvent(side: ConnectionEvent['side'], kind: ConnectionEvent['kind'], peer: string, detail?: string): void {
  if (channels.connection.hasSubscribers) channels.connection.publish({ side, kind, peer, detail } satisfies ConnectionEvent);
}

/**
 * Typed listeners for the events; each is optional, and only the events that have a listener
 * are built. Listeners run synchronously inside the call path: keep them quick, and do not
 * throw (an exception from a diagnostics_channel subscriber is reported as uncaught).
 */
export interface Observer {
  /** A client attempt started (its stream may still wait for a connection). */
  clientCallStart?(event: CallEvent): void;
  /** A client attempt received response headers. */
  clientCallHeaders?(event: CallEvent): void;
  /** A client attempt sent or received a message. */
  clientCallMessage?(event: CallMessageEvent): void;
  /** A client attempt ended: `code`, `details` and `durationMs` are set. */
  clientCallEnd?(event: CallEvent): void;
  /** A server call arrived. */
  serverCallStart?(event: CallEvent): void;
  /** A server call sent or received a message. */
  serverCallMessage?(event: CallMessageEvent): void;
  /** A server call ended: its status went out, or the client cancelled it or the connection was lost. */
  serverCallEnd?(event: CallEvent): void;
  /** A connection changed state, on a client channel or a server. */
  connection?(event: ConnectionEvent): void;
}

/**
 * Subscribes `observer` to the events it has listeners for, process-wide (every Channel and
 * Server). Returns a function that unsubscribes it.
 */
export function observe(observer: Observer): () => void {
  const subscriptions: [diagnostics.Channel, (message: unknown) => void][] = [];
  for (const key of Object.keys(channels) as (keyof typeof channels)[]) {
    const listener = observer[key] as ((event: never) => void) | undefined;
    if (!listener) continue;
    const forward = (message: unknown) => listener.call(observer, message as never);
    channels[key].subscribe(forward);
    subscriptions.push([channels[key], forward]);
  }
  return () => {
    for (const [channel, forward] of subscriptions) channel.unsubscribe(forward);
  };
}
