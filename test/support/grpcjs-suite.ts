// The cross-implementation test suite, run once per pairing (tsgrpc client →
// grpc-js server, grpc-js client → tsgrpc server): for each of the four call
// modes, content and order, metadata both ways, deadlines, error statuses,
// gzip compression and client cancellation. Server behaviour: grpcjs-probe.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Status } from '../../src/index.js';
import {
  HEADER_MD, MODES, REQUEST_MD, TRAILER_MD,
  byteCountingProxy, compressible, plain, within,
  type Mode, type ProbeClient, type ProbeRequest, type ProbeServer,
} from './grpcjs-probe.js';

export interface Pairing {
  startServer(): Promise<ProbeServer>;
  connect(port: number): ProbeClient;
}

export const UNICODE_MESSAGE = 'ünïcødé ✓ 日本 %20 \n 100% #+?&=,;:/@ \t 😀';
const SLOW_MS = 5000;
const BIG = compressible(512 * 1024);
const BIG2 = Buffer.concat([BIG, BIG]);

interface Case {
  requests: ProbeRequest[];
  /** Expected reply texts (and, for the OK case, indexes). */
  replies: string[];
}

const OK: Record<Mode, Case & { indexes: number[] }> = {
  unary: { requests: [{ text: 'hi' }], replies: ['unary:hi'], indexes: [0] },
  serverStream: { requests: [{ text: 'n', count: 5 }], replies: ['n#0', 'n#1', 'n#2', 'n#3', 'n#4'], indexes: [0, 1, 2, 3, 4] },
  clientStream: { requests: [{ text: 'a' }, { text: 'b' }, { text: 'c' }], replies: ['a,b,c'], indexes: [3] },
  bidi: { requests: [{ text: 'a' }, { text: 'b' }, { text: 'c' }], replies: ['echo:a', 'echo:b', 'echo:c'], indexes: [0, 1, 2] },
};

/** Calls whose handler sleeps SLOW_MS (after the replies listed). */
const SLOW: Record<Mode, Case> = {
  unary: { requests: [{ text: 'slow', sleepMs: SLOW_MS }], replies: [] },
  serverStream: { requests: [{ text: 's', count: 1, sleepMs: SLOW_MS }], replies: ['s#0'] },
  clientStream: { requests: [{ text: 'slow', sleepMs: SLOW_MS }], replies: [] },
  bidi: { requests: [{ text: 'a' }, { text: 'slow', sleepMs: SLOW_MS }], replies: ['echo:a'] },
};

const fail = { failCode: Status.PERMISSION_DENIED, failMessage: UNICODE_MESSAGE };
const FAILING: Record<Mode, Case> = {
  unary: { requests: [{ text: 'x', ...fail }], replies: [] },
  serverStream: { requests: [{ text: 'f', count: 2, ...fail }], replies: ['f#0', 'f#1'] },
  clientStream: { requests: [{ text: 'a' }, { text: 'x', ...fail }], replies: [] },
  bidi: { requests: [{ text: 'a' }, { text: 'x', ...fail }], replies: ['echo:a'] },
};

/** Calls the client cancels once the server has the first request; streams of requests stay open. */
const CANCELLED: Record<Mode, ProbeRequest[]> = {
  unary: SLOW.unary.requests,
  serverStream: SLOW.serverStream.requests,
  clientStream: [{ text: 'a' }],
  bidi: [{ text: 'a' }],
};

const big = { text: 'z', payload: BIG, compressResponse: true };
const ZIPPED: Record<Mode, { requests: ProbeRequest[]; payloads: Buffer[] }> = {
  unary: { requests: [big], payloads: [BIG] },
  serverStream: { requests: [{ ...big, count: 3 }], payloads: [BIG, BIG, BIG] },
  clientStream: { requests: [big, { payload: BIG }], payloads: [BIG2] },
  bidi: { requests: [big, { payload: BIG }], payloads: [BIG, BIG] },
};

const sum = (bufs: Array<Uint8Array | undefined>) => bufs.reduce((n, b) => n + (b?.length ?? 0), 0);

export function crossImplSuite(pairing: Pairing): void {
  let server: ProbeServer;
  let client: ProbeClient;
  beforeAll(async () => {
    server = await pairing.startServer();
    client = pairing.connect(server.port);
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  describe.each(MODES)('%s', (mode) => {
    it('delivers the replies in order, with metadata both ways', async () => {
      const seen = server.log.next();
      const out = await client.call({ mode, requests: OK[mode].requests, metadata: REQUEST_MD });
      expect(out.error).toBeUndefined();
      expect(out.replies.map((r) => r.text)).toEqual(OK[mode].replies);
      expect(out.replies.map((r) => r.index)).toEqual(OK[mode].indexes);
      const call = await seen;
      expect(call.mode).toBe(mode);
      expect(call.requests.map((r) => r.text)).toEqual(OK[mode].requests.map((r) => r.text));
      expect(call.metadata, 'request metadata seen by the handler').toEqual(plain(REQUEST_MD));
      expect(out.headers, 'response headers seen by the client').toEqual(plain(HEADER_MD));
      expect(out.trailers, 'trailers seen by the client').toEqual(plain(TRAILER_MD));
    });

    it('ends a slow call with DEADLINE_EXCEEDED, and the server sees it cancelled', async () => {
      const seen = server.log.next();
      const started = Date.now();
      const out = await client.call({ mode, requests: SLOW[mode].requests, timeoutMs: 300 });
      expect(out.error?.code).toBe(Status.DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeLessThan(SLOW_MS / 2);
      expect(out.replies.map((r) => r.text)).toEqual(SLOW[mode].replies);
      await within(2000, (await seen).sawCancel, 'the server handler to see the deadline');
    });

    it('carries an error code, a unicode message and trailers from the handler', async () => {
      const out = await client.call({ mode, requests: FAILING[mode].requests });
      expect(out.error).toEqual({ code: Status.PERMISSION_DENIED, details: UNICODE_MESSAGE });
      expect(out.replies.map((r) => r.text)).toEqual(FAILING[mode].replies);
      expect(out.trailers).toEqual(plain(TRAILER_MD));
    });

    it('sends large messages gzip-compressed, and the server replies compressed', async () => {
      const proxy = await byteCountingProxy(server.port);
      const viaProxy = pairing.connect(proxy.port);
      try {
        const seen = server.log.next();
        const { requests, payloads } = ZIPPED[mode];
        const out = await viaProxy.call({ mode, requests, compress: true });
        expect(out.error).toBeUndefined();
        expect(out.replies.map((r) => r.payload.length)).toEqual(payloads.map((p) => p.length));
        expect(out.replies.map((r, i) => Buffer.from(r.payload).equals(payloads[i]))).toEqual(payloads.map(() => true));
        const call = await seen;
        expect(call.requests.map((r) => r.payload?.length ?? 0)).toEqual(requests.map((r) => r.payload?.length ?? 0));
        // Only tsgrpc servers can tell whether a request arrived compressed.
        if (call.compressed.some((c) => c !== undefined)) expect(call.compressed).toEqual(requests.map(() => true));
        expect(proxy.up, 'bytes sent by the client').toBeLessThan(sum(requests.map((r) => r.payload)) / 10);
        // grpc-js 1.14 servers never compress responses (server-interceptors.js writes the flag as 0).
        if (server.compressesResponses) expect(proxy.down, 'bytes sent by the server').toBeLessThan(sum(payloads) / 10);
      } finally {
        viaProxy.close();
        proxy.close();
      }
    });

    it('lets the client cancel, and the server sees it', async () => {
      const seen = server.log.next();
      const out = await client.call({ mode, requests: CANCELLED[mode], cancelWhen: seen.then((c) => c.gotRequest) });
      expect(out.error?.code).toBe(Status.CANCELLED);
      await within(2000, (await seen).sawCancel, 'the server handler to see the cancellation');
    });
  });
}
