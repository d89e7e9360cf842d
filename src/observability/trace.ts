import { statusName } from '../wire/status.js';
import { observe, type CallEvent, type ConnectionEvent } from './events.js';

/**
 * Debug logging in the style of grpc-js: `GRPC_TRACE=all` (or a comma list of `call`,
 * `connection`, `transport`) with `GRPC_VERBOSITY=DEBUG`, or just `TSGRPC_TRACE=...`, which
 * implies DEBUG. Off, nothing subscribes to the call events, so calls pay nothing for it.
 *
 * - `call`: every call's status, duration and message counts, on both sides; transparent retries.
 * - `connection`: connections dialled, ready, closed or failed; GOAWAYs sent and received.
 * - `transport`: stream resets (RST_STREAM) sent and received.
 *
 * grpc-js tracer names map onto these (`channel`/`subchannel` → connection, `call_stream`/`server_call` → call,
 * `http2`/`keepalive` → transport); other names are ignored.
 */
export type Tracer = 'call' | 'connection' | 'transport';

/** Where trace lines are written: one complete line, without the newline. */
export type LogSink = (line: string) => void;

const TRACERS: readonly Tracer[] = ['call', 'connection', 'transport'];
const ALIASES = new Map<string, Tracer>([
  ['call', 'call'], ['call_stream', 'call'], ['server_call', 'call'], ['retry', 'call'],
  ['connection', 'connection'], ['channel', 'connection'], ['subchannel', 'connection'], ['server', 'connection'],
  ['transport', 'transport'], ['http2', 'transport'], ['keepalive', 'transport'],
]);

let sink: LogSink = (line) => process.stderr.write(`${line}\n`);
const enabled = new Set<Tracer>();
let unsubscribe: (() => void) | undefined;

/** Whether trace lines of `tracer` are written: check it before building an expensive message. */
export function isTracing(tracer: Tracer): boolean {
  return enabled.has(tracer);
}

/** Writes one debug line for `tracer` if it is on. */
export function trace(tracer: Tracer, text: string): void {
  if (enabled.has(tracer)) sink(`D ${new Date().toISOString()} | tsgrpc ${process.pid} | ${tracer} | ${text}`);
}

/** Sends trace lines to `next` instead of stderr (the default), e.g. into an application's logger. */
export function setTraceSink(next: LogSink): void {
  sink = next;
}

/**
 * Turns tracers on from a GRPC_TRACE-style list (`'all'`, `'call,connection'`, `'all,-call'` to
 * drop one), replacing the previous setting, whatever the environment said. An empty list turns
 * tracing off.
 */
export function setTracers(list: string): void {
  enabled.clear();
  for (const raw of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    const off = raw.startsWith('-');
    const name = off ? raw.slice(1) : raw;
    const alias = ALIASES.get(name);
    const names = name === 'all' ? TRACERS : alias ? [alias] : []; // grpc-js tracer names we have no match for are ignored
    for (const n of names) {
      if (off) enabled.delete(n);
      else enabled.add(n);
    }
  }
  unsubscribe?.();
  unsubscribe = undefined;
  if (enabled.size === 0) return;
  // Only the events a tracer needs: with just `connection` on, calls still make no probe.
  const calls = enabled.has('call');
  unsubscribe = observe({
    clientCallEnd: calls ? (e) => trace('call', describeCall(e)) : undefined,
    serverCallEnd: calls ? (e) => trace('call', describeCall(e)) : undefined,
    connection: enabled.has('connection') ? (e) => trace('connection', describeConnection(e)) : undefined,
  });
}

function describeCall(e: CallEvent): string {
  const where = e.side === 'client' ? `to ${e.peer}` : `from ${e.peer}`;
  const status = `${e.code} ${statusName(e.code ?? 2)}${e.details ? `: ${e.details}` : ''}`;
  return `${e.side} ${e.method} ${where} -> ${status} in ${e.durationMs!.toFixed(1)} ms ` +
    `(sent ${e.messagesSent} msg / ${e.bytesSent} B, received ${e.messagesReceived} msg / ${e.bytesReceived} B)`;
}

function describeConnection(e: ConnectionEvent): string {
  return `${e.side} connection ${e.peer} ${e.kind}${e.detail ? `: ${e.detail}` : ''}`;
}

/** Reads the environment once, when tsgrpc is first loaded. */
function fromEnvironment(env: NodeJS.ProcessEnv): string {
  if (env.TSGRPC_TRACE) return env.TSGRPC_TRACE;
  if (env.GRPC_TRACE && (env.GRPC_VERBOSITY ?? '').toUpperCase() === 'DEBUG') return env.GRPC_TRACE;
  return '';
}

setTracers(fromEnvironment(process.env));
