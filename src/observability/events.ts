import diagnostics from 'node:diagnostics_channel';

/**
 * Stable events for instrumentation (OpenTelemetry, Prometheus, logs), published on
 * `node:diagnostics_channel` under these names. Nothing is built or published while a
 * channel has no subscriber, so an uninstrumented process pays one boolean check per call.
 */
export const EVENT_CHANNELS = {
  clientCallStart: 'tsgrpc:client:call:start',
  clientCallHeaders: 'tsgrpc:client:call:headers',
  clientCallEnd: 'tsgrpc:client:call:end',
  serverCallStart: 'tsgrpc:server:call:start',
  serverCallEnd: 'tsgrpc:server:call:end',
  connection: 'tsgrpc:connection',
} as const;

/** One call as seen by one side: the start event, and again (filled in) at the end. */
export interface CallEvent {
  /** Process-unique number of this call (client: of this attempt), to pair start and end. */
  readonly id: number;
  readonly side: 'client' | 'server';
  /** The full method path, `/package.Service/Method`. */
  readonly method: string;
  /** Client: the channel's target. Server: the peer address. */
  readonly peer: string;
  /** `performance.now()` when the call started. */
  readonly startTime: number;
  /** Status code once ended (0 = OK). */
  code?: number;
  details?: string;
  /** Milliseconds from start to status. */
  durationMs?: number;
  messagesSent: number;
  messagesReceived: number;
  /** Message bytes as sent on the wire (after compression, without the 5-byte prefix), as gRFC A66 counts them. */
  bytesSent: number;
  bytesReceived: number;
}

/** A connection-level happening on a client channel or a server. */
export interface ConnectionEvent {
  readonly side: 'client' | 'server';
  readonly kind: 'connecting' | 'ready' | 'goaway' | 'closed' | 'failed';
  /** Client: the target dialled. Server: the peer address. */
  readonly peer: string;
  /** The GOAWAY error code, or why a connection failed or closed. */
  readonly detail?: string;
}

const channels = {
  clientCallStart: diagnostics.channel(EVENT_CHANNELS.clientCallStart),
  clientCallHeaders: diagnostics.channel(EVENT_CHANNELS.clientCallHeaders),
  clientCallEnd: diagnostics.channel(EVENT_CHANNELS.clientCallEnd),
  serverCallStart: diagnostics.channel(EVENT_CHANNELS.serverCallStart),
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

  constructor(readonly side: 'client' | 'server', readonly method: string, readonly peer: string) {
    (side === 'client' ? channels.clientCallStart : channels.serverCallStart).publish(this);
  }

  sent(bytes: number): void {
    this.messagesSent++;
    this.bytesSent += bytes;
  }

  received(bytes: number): void {
    this.messagesReceived++;
    this.bytesReceived += bytes;
  }

  headers(): void {
    if (this.side === 'client') channels.clientCallHeaders.publish(this);
  }

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
  if (!channels.clientCallStart.hasSubscribers && !channels.clientCallEnd.hasSubscribers && !channels.clientCallHeaders.hasSubscribers) return undefined;
  return new CallProbe('client', method, target);
}

/** A probe for a new server call, or undefined when nobody listens to server calls. */
export function serverCallProbe(method: string, peer: () => string): CallProbe | undefined {
  if (!channels.serverCallStart.hasSubscribers && !channels.serverCallEnd.hasSubscribers) return undefined;
  return new CallProbe('server', method, peer());
}

/** Publishes a connection event if anyone listens. */
export function connectionEvent(side: ConnectionEvent['side'], kind: ConnectionEvent['kind'], peer: string, detail?: string): void {
  if (channels.connection.hasSubscribers) channels.connection.publish({ side, kind, peer, detail } satisfies ConnectionEvent);
}

/** Typed listeners for the events; each is optional. */
export interface Observer {
  clientCallStart?(event: CallEvent): void;
  clientCallHeaders?(event: CallEvent): void;
  clientCallEnd?(event: CallEvent): void;
  serverCallStart?(event: CallEvent): void;
  serverCallEnd?(event: CallEvent): void;
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
