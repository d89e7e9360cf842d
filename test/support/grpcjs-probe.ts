// Shared pieces of the cross-implementation tests (test/crossimpl-*.test.ts):
// the Probe service (test/fixtures/crossimpl.proto) for tsgrpc and for
// grpc-js, the metadata both sides send, a log of what servers observed,
// and a byte-counting TCP proxy to see compression on the wire.
//
// Both Probe servers behave the same way:
//   - each reply goes after response headers carrying HEADER_MD; OK statuses carry TRAILER_MD;
//   - Unary replies "unary:<text>"; ServerStream replies "<text>#<i>" `count` times;
//     ClientStream replies the texts joined with ","; Bidi echoes "echo:<text>" per request;
//     replies carry the request payload (ClientStream: all payloads concatenated) and an index;
//   - a request with sleepMs makes the handler wait (or stop early when cancelled) —
//     Unary and ServerStream before finishing, ClientStream after the last request,
//     Bidi before answering that request;
//   - a request with failCode fails the call with that code, failMessage and TRAILER_MD;
//   - compressResponse asks the server to gzip its replies (grpc-js servers cannot).
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Metadata, loadProtoSync } from '../../src/index.js';

export type Mode = 'unary' | 'serverStream' | 'clientStream' | 'bidi';
export const MODES: Mode[] = ['unary', 'serverStream', 'clientStream', 'bidi'];

export interface ProbeRequest {
  text?: string;
  payload?: Uint8Array;
  count?: number;
  sleepMs?: number;
  failCode?: number;
  failMessage?: string;
  compressResponse?: boolean;
}
export interface ProbeReply {
  text: string;
  payload: Uint8Array;
  index: number;
}

const probe = loadProtoSync(fileURLToPath(new URL('../fixtures/crossimpl.proto', import.meta.url)));
export const probeService = probe.services['crossimpl.Probe'];
const RequestType = probe.root.lookupType('crossimpl.ProbeRequest');
const ReplyType = probe.root.lookupType('crossimpl.ProbeReply');

/** The same service for grpc-js, built by hand from the protobufjs types. */
export const grpcJsProbeDefinition: grpc.ServiceDefinition = Object.fromEntries(
  Object.values(probeService.methods).map((m) => [
    m.name,
    {
      path: m.path,
      requestStream: m.requestStream,
      responseStream: m.responseStream,
      requestSerialize: (v: ProbeRequest) => Buffer.from(RequestType.encode(RequestType.fromObject(v)).finish()),
      requestDeserialize: (b: Buffer) => RequestType.decode(b) as unknown as ProbeRequest,
      responseSerialize: (v: ProbeReply) => Buffer.from(ReplyType.encode(ReplyType.fromObject(v)).finish()),
      responseDeserialize: (b: Buffer) => ReplyType.decode(b) as unknown as ProbeReply,
      originalName: m.name[0].toLowerCase() + m.name.slice(1),
    },
  ]),
);
export const GrpcJsProbeClient = grpc.makeGenericClientConstructor(grpcJsProbeDefinition, 'Probe');

// ---- metadata -------------------------------------------------------------

export type MdSpec = Record<string, Array<string | Buffer>>;
export const REQUEST_MD: MdSpec = { 'x-ascii': ['a1', 'a2'], 'x-data-bin': [Buffer.from([0xde, 0xad, 0xbe, 0xef]), Buffer.from([0x00, 0xff, 0x2c])] };
export const HEADER_MD: MdSpec = { 'x-hdr': ['h1', 'h2'], 'x-hdr-bin': [Buffer.from([0, 1, 2, 0xff]), Buffer.from([0xfe, 0])] };
export const TRAILER_MD: MdSpec = { 'x-trl': ['t1', 't2'], 'x-trl-bin': [Buffer.from([9, 8, 7]), Buffer.from([0])] };

export function toTsMetadata(spec: MdSpec): Metadata {
  const md = new Metadata();
  for (const [k, values] of Object.entries(spec)) for (const v of values) md.add(k, v);
  return md;
}

export function toGrpcJsMetadata(spec: MdSpec): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, values] of Object.entries(spec)) for (const v of values) md.add(k, v);
  return md;
}

/** Custom ("x-") entries of tsgrpc Metadata, a grpc-js Metadata, or an MdSpec. */
export function entriesOf(md: Metadata | grpc.Metadata | MdSpec): Array<[string, string | Buffer]> {
  if (md instanceof Metadata) return [...md];
  const record = md instanceof grpc.Metadata ? (md.toJSON() as MdSpec) : md;
  return Object.entries(record).flatMap(([k, vs]) => vs.map((v): [string, string | Buffer] => [k, v]));
}

/**
 * Comparable form: key → values, binary values as hex. Node joins repeated
 * header fields with ", " (the gRPC spec calls that equivalent) and grpc-js
 * keeps them joined, so its ASCII values are split on commas; tsgrpc must
 * keep repeated values apart, so its values are compared as they are.
 */
export type PlainMd = Record<string, string[]>;
export function plain(md: Metadata | grpc.Metadata | MdSpec): PlainMd {
  const out: PlainMd = {};
  const split = md instanceof grpc.Metadata;
  for (const [k, v] of entriesOf(md)) {
    if (!k.startsWith('x-')) continue;
    const values = typeof v !== 'string' ? [v.toString('hex')] : split ? v.split(',').map((s) => s.trim()) : [v];
    (out[k] ??= []).push(...values);
  }
  return out;
}

// ---- what the servers observed ---------------------------------------------

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** One call as the server handler saw it. */
export class SeenCall {
  readonly requests: ProbeRequest[] = [];
  /** Per request, whether it arrived compressed (known on tsgrpc servers only). */
  readonly compressed: Array<boolean | undefined> = [];
  private readonly first = deferred<void>();
  private readonly cancel = deferred<string>();

  constructor(readonly mode: Mode, readonly metadata: PlainMd) {}

  request(r: ProbeRequest, compressed?: boolean): void {
    this.requests.push(r);
    this.compressed.push(compressed);
    this.first.resolve();
  }
  cancelled(why: string): void {
    this.cancel.resolve(why);
  }
  /** Resolves when the first request reached the handler. */
  get gotRequest(): Promise<void> {
    return this.first.promise;
  }
  /** Resolves (with a description) once the handler saw the call cancelled. */
  get sawCancel(): Promise<string> {
    return this.cancel.promise;
  }
}

export class CallLog {
  private readonly calls: SeenCall[] = [];
  private readonly waiters: Array<(c: SeenCall) => void> = [];

  open(mode: Mode, metadata: Metadata | grpc.Metadata): SeenCall {
    const call = new SeenCall(mode, plain(metadata));
    this.calls.push(call);
    this.waiters.shift()?.(call);
    return call;
  }
  /** The next call to arrive (ask before starting it). */
  next(): Promise<SeenCall> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

// ---- the two sides, as the shared suite sees them ---------------------------

export interface CallSpec {
  mode: Mode;
  /** Unary and ServerStream send requests[0]. */
  requests: ProbeRequest[];
  metadata?: MdSpec;
  timeoutMs?: number;
  /** The client gzips its requests. */
  compress?: boolean;
  /** Cancel the call from the client once this resolves; request streams are then left open. */
  cancelWhen?: Promise<unknown>;
}

export interface Outcome {
  replies: ProbeReply[];
  headers: PlainMd;
  trailers: PlainMd;
  error?: { code: number; details: string };
}

export interface ProbeClient {
  call(spec: CallSpec): Promise<Outcome>;
  close(): void;
}

export interface ProbeServer {
  port: number;
  log: CallLog;
  /** Whether compressResponse really compresses replies. */
  compressesResponses: boolean;
  close(): Promise<void>;
}

// ---- helpers ----------------------------------------------------------------

/** Waits ms; resolves false at once if the signal aborts first. */
export function sleepUnlessAborted(ms: number | undefined, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (!ms) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Rejects if `p` takes longer than ms. */
export function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms).unref())]);
}

/** A highly compressible payload of n bytes. */
export function compressible(n: number): Buffer {
  return Buffer.alloc(n, 'compress me, please! ');
}

/** A loopback TCP proxy that counts the bytes going each way. */
export async function byteCountingProxy(targetPort: number): Promise<{ port: number; up: number; down: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const counts = { port: 0, up: 0, down: 0, close: () => {} };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => (client.destroy(), upstream.destroy()));
    }
    client.on('data', (d: Buffer) => (counts.up += d.length));
    upstream.on('data', (d: Buffer) => (counts.down += d.length));
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  counts.port = (server.address() as net.AddressInfo).port;
  counts.close = () => {
    server.close();
    for (const s of sockets) s.destroy();
  };
  return counts;
}
