import http2 from 'node:http2';
import { connectionEvent } from '../observability/events.js';
import { KeepalivePinger } from './keepalive.js';
import { peerAddress } from './peer-address.js';
import { PingPolicy } from './ping-policy.js';

export interface ServerKeepaliveOptions {
  /** Ping each client this often (default 2 h, as grpc-go and gRPC core). */
  keepaliveTimeMs?: number;
  /** Close a connection whose PING is not acknowledged within this long (default 20 s). */
  keepaliveTimeoutMs?: number;
  /** Enforcement: the shortest interval allowed between client pings (default 5 min). */
  keepaliveMinPingIntervalMs?: number;
  /** Enforcement: whether clients may ping while no call is in flight (default false). */
  keepalivePermitWithoutCalls?: boolean;
}

const DEFAULT_TIME_MS = 2 * 60 * 60_000;
const DEFAULT_TIMEOUT_MS = 20_000;
const DEFAULT_MIN_PING_INTERVAL_MS = 5 * 60_000;
const TOO_MANY_PINGS = Buffer.from('too_many_pings');
/**
 * More bytes written between two client pings than a PING ACK and a few WINDOW_UPDATE or SETTINGS
 * ACK frames (9 to 17 bytes each) take: the server was sending response data.
 */
const CONTROL_FRAMES_BUDGET = 256;

/** What keepalive keeps on each server session: its ping policy and how many streams are open. */
interface KeepaliveState {
  policy: PingPolicy;
  openStreams: number;
}
const kState = Symbol('tsgrpc.keepalive');
type PolicedSession = http2.ServerHttp2Session & { [kState]?: KeepaliveState };

/** Rejects option values that would otherwise be ignored or misbehave silently. */
export function checkServerKeepalive(options: ServerKeepaliveOptions): void {
  for (const name of ['keepaliveTimeMs', 'keepaliveTimeoutMs'] as const) {
    const value = options[name];
    if (value !== undefined && !(typeof value === 'number' && value > 0)) {
      throw new RangeError(`ServerOptions.${name} must be a positive number of milliseconds, got ${String(value)}`);
    }
  }
  const min = options.keepaliveMinPingIntervalMs;
  if (min !== undefined && !(typeof min === 'number' && min >= 0)) {
    throw new RangeError(`ServerOptions.keepaliveMinPingIntervalMs must be a number of milliseconds, got ${String(min)}`);
  }
}

/**
 * Server keepalive for one client connection: pings the client every
 * keepaliveTimeMs and closes the connection when it stops answering, and
 * polices the client's own pings (see PingPolicy).
 */
export function watchServerKeepalive(session: http2.ServerHttp2Session, options: ServerKeepaliveOptions): void {
  const policy = new PingPolicy({
    minIntervalMs: options.keepaliveMinPingIntervalMs ?? DEFAULT_MIN_PING_INTERVAL_MS,
    permitWithoutCalls: options.keepalivePermitWithoutCalls ?? false,
  });
  const state: KeepaliveState = { policy, openStreams: 0 };
  (session as PolicedSession)[kState] = state;
  // Streams are counted out by noteStreamClosed, from the dispatcher's own 'close' listener: one listener fewer per call.
  session.on('stream', () => state.openStreams++);
  // A large response goes out in many DATA frames long after the write that queued it, and clients
  // (grpc-go's BDP estimator) ping while receiving them: bytes leaving the socket count as responding too.
  let written = 0;
  session.on('ping', () => {
    const nowWritten = session.socket?.bytesWritten ?? 0;
    if (nowWritten - written > CONTROL_FRAMES_BUDGET) policy.responded = true;
    written = nowWritten;
    if (!policy.onPing(Date.now(), state.openStreams) || session.destroyed) return;
    const { NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;
    connectionEvent('server', 'goaway', peerAddress(session.socket), `sent ENHANCE_YOUR_CALM: ${TOO_MANY_PINGS}`);
    session.goaway(NGHTTP2_ENHANCE_YOUR_CALM, session.state.lastProcStreamID ?? 0, TOO_MANY_PINGS);
    session.destroy(undefined, NGHTTP2_ENHANCE_YOUR_CALM);
  });
  const pinger = new KeepalivePinger(
    session,
    { timeMs: options.keepaliveTimeMs ?? DEFAULT_TIME_MS, timeoutMs: options.keepaliveTimeoutMs ?? DEFAULT_TIMEOUT_MS },
    () => true,
    (reason) => session.destroy(reason),
  );
  session.once('close', () => pinger.stop());
}

/** The server sent headers or data on this stream: its connection's ping strikes start over. */
export function noteResponseSent(stream: http2.ServerHttp2Stream): void {
  const state = (stream.session as PolicedSession | undefined)?.[kState];
  if (state) state.policy.responded = true;
}

/**
 * A stream of `session` closed (every stream the session announced must be reported once). Takes the
 * session because a closed stream no longer knows it.
 */
export function noteStreamClosed(session: http2.ServerHttp2Session | undefined): void {
  const state = (session as PolicedSession | undefined)?.[kState];
  if (state) state.openStreams--;
}
