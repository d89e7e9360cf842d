// The benchmark scenarios, identical for every implementation and for h2load.
import { PATHS, makePayload } from './echo.js';
import { ORDERS_ECHO_PATH, encodedOrder } from './orders.js';
import { frame } from './wire.js';

export type Kind = 'unary' | 'serverStream' | 'clientStream' | 'bidi' | 'proto';

export interface Scenario {
  id: string;
  title: string;
  kind: Kind;
  /** Bytes per message. */
  size: number;
  /** Calls in flight on the one connection. */
  concurrency: number;
  /** Messages per call in the streamed direction (1 for unary and ping-pong). */
  msgsPerCall: number;
  /** Throughput unit: calls/s, msgs/s (streamed messages), MB/s (request payload, 10^6 B). */
  unit: 'calls/s' | 'msgs/s' | 'MB/s';
  /** What one latency sample is. */
  latency: string;
  /** HTTP/2 connections (h2load only; default 1), `concurrency` streams on each. */
  connections?: number;
  /** Extra request headers (h2load only), e.g. grpc-timeout. */
  headers?: string[];
}

export const SCENARIOS: Scenario[] = [
  { id: 'unary-100B-c1', title: 'unary 100 B, c=1', kind: 'unary', size: 100, concurrency: 1, msgsPerCall: 1, unit: 'calls/s', latency: 'call' },
  { id: 'unary-100B-c100', title: 'unary 100 B, c=100', kind: 'unary', size: 100, concurrency: 100, msgsPerCall: 1, unit: 'calls/s', latency: 'call' },
  { id: 'server-stream-1KiB', title: 'server stream 1 KiB ×1000', kind: 'serverStream', size: 1024, concurrency: 1, msgsPerCall: 1000, unit: 'msgs/s', latency: '1000-msg call' },
  { id: 'client-stream-1KiB', title: 'client stream 1 KiB ×1000', kind: 'clientStream', size: 1024, concurrency: 1, msgsPerCall: 1000, unit: 'msgs/s', latency: '1000-msg call' },
  { id: 'bidi-pingpong-100B', title: 'bidi ping-pong 100 B', kind: 'bidi', size: 100, concurrency: 1, msgsPerCall: 1, unit: 'msgs/s', latency: 'round trip' },
  { id: 'unary-1MiB', title: 'unary 1 MiB, c=1', kind: 'unary', size: 1 << 20, concurrency: 1, msgsPerCall: 1, unit: 'MB/s', latency: 'call' },
];

/** Server-side extras run under h2load only: the same unary call carrying a deadline. */
export const H2LOAD_EXTRA: Scenario[] = [
  { ...SCENARIOS[1], id: 'unary-100B-c100-timeout', title: 'unary 100 B, c=100, grpc-timeout: 10S', headers: ['grpc-timeout: 10S'] },
];

/** Cluster scaling, under h2load: 4 connections (spread over the workers) × 25 streams. */
export const CLUSTER_SCENARIO: Scenario = {
  ...SCENARIOS[1], id: 'cluster-unary-100B-4x25', title: 'unary 100 B, 4 connections × 25 streams', concurrency: 25, connections: 4,
};

/** The protobuf scenario (bench/proto/orders.proto, Orders.Echo) driven by the Node clients. */
export const PROTO_SCENARIOS: Scenario[] = [
  { id: 'proto-order-c100', title: 'unary Order (protobuf, ~10 fields), c=100', kind: 'proto', size: 0, concurrency: 100, msgsPerCall: 1, unit: 'calls/s', latency: 'call' },
];

/** The request message a client sends for this scenario (the encoded Order for 'proto'). */
export function requestPayload(s: Scenario): Buffer {
  if (s.kind === 'proto') return encodedOrder();
  return makePayload(s.size, s.kind === 'serverStream' ? s.msgsPerCall : 0);
}

/** The method a scenario calls. */
export function pathOf(s: Scenario): string {
  return s.kind === 'proto' ? ORDERS_ECHO_PATH : PATHS[s.kind];
}

/**
 * The POST body h2load sends: the whole request stream as 5-byte-prefixed
 * messages. h2load cannot ping-pong, so the bidi scenario becomes one
 * message per bidi stream (the server's per-stream Bidi cost).
 */
export function h2loadBody(s: Scenario): Buffer {
  const msg = requestPayload(s);
  const n = s.kind === 'clientStream' ? s.msgsPerCall : 1;
  const one = Buffer.concat(frame(msg));
  return Buffer.concat(Array.from({ length: n }, () => one));
}

/** Throughput in the scenario's unit from completed calls over elapsed seconds. */
export function throughput(s: Scenario, calls: number, seconds: number): number {
  if (s.unit === 'MB/s') return (calls * s.size) / seconds / 1e6;
  return (calls * s.msgsPerCall) / seconds;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
