// What the server accepts as a request: exactly one message for unary and server-streaming
// methods, only the proto codec, and each message's compressed flag as it arrived.
import http2 from 'node:http2';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameDecoder, Server, Status, encodeFrame } from '../src/index.js';
import { loadTestProto } from '../interop/common.js';
import { testServiceImpl } from '../interop/server.js';
import { probeService, startProbe, type ProbeSetup } from './support/probe.js';
import { rawRequest, statusOf } from './support/raw-http2.js';

const Req = probeService.methods.Unary;
const frame = (msg: object) => Buffer.concat(encodeFrame(Req.serializeRequest(msg)));
const gzipFrame = (bytes: Uint8Array) => Buffer.concat(encodeFrame(zlib.gzipSync(bytes), true));

/** A probe server and a raw HTTP/2 session to it, for the describe block that calls this. */
function probeWithSession(): { probe(): ProbeSetup; session(): http2.ClientHttp2Session } {
  let p: ProbeSetup;
  let session: http2.ClientHttp2Session;
  beforeAll(async () => {
    p = await startProbe();
    session = http2.connect(`http://127.0.0.1:${p.port}`);
  });
  afterAll(async () => {
    session.close();
    await p.close();
  });
  return { probe: () => p, session: () => session };
}

describe('request cardinality: unary and server-streaming calls take exactly one message', () => {
  const { probe, session } = probeWithSession();

  for (const method of ['Unary', 'ServerStream']) {
    const path = `/e2e.Probe/${method}`;

    it(`${method}: zero messages is UNIMPLEMENTED and the handler never runs`, async () => {
      const before = probe().seen.contexts.length;
      const r = await rawRequest(session(), { ':path': path });
      expect(statusOf(r)).toEqual({ code: Status.UNIMPLEMENTED, message: expect.stringMatching(/without sending a request message/) });
      expect(probe().seen.contexts.length).toBe(before);
    });

    it(`${method}: two messages in one write is UNIMPLEMENTED and the handler never runs`, async () => {
      const before = probe().seen.contexts.length;
      const r = await rawRequest(session(), { ':path': path }, Buffer.concat([frame({ count: 1 }), frame({ count: 1 })]));
      expect(statusOf(r)).toEqual({ code: Status.UNIMPLEMENTED, message: expect.stringMatching(/second request message/) });
      expect(probe().seen.contexts.length).toBe(before);
    });

    it(`${method}: a second message well after the first is UNIMPLEMENTED, and the handler did not run on the first`, async () => {
      const before = probe().seen.contexts.length;
      const stream = session().request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => {});
      let headers: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders | undefined;
      const body: Buffer[] = [];
      stream.on('response', (h) => (headers = h));
      stream.on('trailers', (t) => (trailers = t));
      stream.on('data', (c: Buffer) => body.push(c));
      const closed = new Promise((r) => stream.on('close', r));
      stream.write(frame({ count: 1 }));
      await new Promise((r) => setTimeout(r, 200));
      stream.end(frame({ count: 1 }));
      await closed;
      const status = trailers ?? headers;
      expect(Number(status['grpc-status'])).toBe(Status.UNIMPLEMENTED);
      expect(Buffer.concat(body).length).toBe(0);
      expect(probe().seen.contexts.length).toBe(before);
    });

    it(`${method}: one message, with END_STREAM on its DATA frame or after it, is served`, async () => {
      const onFrame = await rawRequest(session(), { ':path': path }, frame({ count: 1 }));
      expect(statusOf(onFrame).code).toBe(Status.OK);
      expect(onFrame.body.length).toBeGreaterThan(0);
      const stream = session().request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
      let trailers: http2.IncomingHttpHeaders = {};
      stream.on('trailers', (t) => (trailers = t));
      stream.on('data', () => {});
      const closed = new Promise((r) => stream.on('close', r));
      stream.write(frame({ count: 1 }));
      await new Promise((r) => setTimeout(r, 50));
      stream.end();
      await closed;
      expect(trailers['grpc-status']).toBe('0');
    });
  }
});

describe('request content-type: only the proto codec', () => {
  const { probe, session } = probeWithSession();

  for (const contentType of ['application/grpc+json', 'application/grpc+thrift;charset=utf-8', 'application/grpc+protobuf']) {
    it(`refuses ${contentType} with UNIMPLEMENTED instead of decoding it as proto`, async () => {
      const before = probe().seen.contexts.length;
      // A valid protobuf body: decoding it as proto would "work".
      const r = await rawRequest(session(), { ':path': '/e2e.Probe/Unary', 'content-type': contentType }, frame({ payload: Buffer.from('x') }));
      expect(r.headers[':status']).toBe(200);
      expect(statusOf(r)).toEqual({ code: Status.UNIMPLEMENTED, message: expect.stringMatching(/not supported: this server only speaks application\/grpc\+proto/) });
      expect(probe().seen.contexts.length).toBe(before);
    });
  }

  for (const contentType of ['application/grpc', 'application/grpc+proto', 'application/grpc;charset=utf-8', 'application/grpc+proto; x=y', 'Application/GRPC+Proto']) {
    it(`serves ${contentType}`, async () => {
      const r = await rawRequest(session(), { ':path': '/e2e.Probe/Unary', 'content-type': contentType }, frame({ payload: Buffer.from('x') }));
      expect(statusOf(r).code).toBe(Status.OK);
    });
  }
});

describe('per-message compression: each request message keeps its own flag', () => {
  it('a bidi handler sees [compressed, plain] for two messages that arrive in one write', async () => {
    const p = await startProbe();
    const session = http2.connect(`http://127.0.0.1:${p.port}`);
    try {
      const body = Buffer.concat([gzipFrame(Req.serializeRequest({ payload: Buffer.alloc(27182) })), frame({ payload: Buffer.alloc(8) })]);
      const r = await rawRequest(session, { ':path': '/e2e.Probe/Bidi', 'grpc-encoding': 'gzip' }, body);
      expect(statusOf(r).code).toBe(Status.OK);
      const flags: boolean[] = [];
      new FrameDecoder({ maxMessageSize: 1 << 20, onMessage: (m) => flags.push(Boolean(Req.deserializeResponse(m).requestCompressed)) }).push(r.body);
      expect(flags).toEqual([true, false]);
    } finally {
      session.close();
      await p.close();
    }
  });

  it('a unary handler sees the flag of its request', async () => {
    const p = await startProbe();
    const session = http2.connect(`http://127.0.0.1:${p.port}`);
    try {
      const packed = await rawRequest(session, { ':path': '/e2e.Probe/Unary', 'grpc-encoding': 'gzip' }, gzipFrame(Req.serializeRequest({})));
      const plain = await rawRequest(session, { ':path': '/e2e.Probe/Unary', 'grpc-encoding': 'gzip' }, frame({}));
      const flag = (body: Buffer) => Req.deserializeResponse(body.subarray(5)).requestCompressed;
      expect([flag(packed.body), flag(plain.body)]).toEqual([true, false]);
    } finally {
      session.close();
      await p.close();
    }
  });

  it('the interop server accepts client_compressed_streaming sent in one write (27182 B compressed, then 8 B plain)', async () => {
    const { root, services } = loadTestProto();
    const server = new Server();
    server.addService(services['grpc.testing.TestService'], testServiceImpl);
    const port = await server.listen('127.0.0.1:0');
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const type = root.lookupType('grpc.testing.StreamingInputCallRequest');
      const encode = (o: object) => type.encode(type.fromObject(o)).finish();
      const body = Buffer.concat([
        gzipFrame(encode({ expectCompressed: { value: true }, payload: { body: Buffer.alloc(27182) } })),
        Buffer.concat(encodeFrame(encode({ expectCompressed: { value: false }, payload: { body: Buffer.alloc(8) } }))),
      ]);
      const r = await rawRequest(session, { ':path': '/grpc.testing.TestService/StreamingInputCall', 'grpc-encoding': 'gzip' }, body);
      expect(statusOf(r)).toEqual({ code: Status.OK, message: '' });
      const reply = root.lookupType('grpc.testing.StreamingInputCallResponse').decode(r.body.subarray(5)) as unknown as { aggregatedPayloadSize: number };
      expect(reply.aggregatedPayloadSize).toBe(27190);
    } finally {
      session.close();
      server.forceShutdown();
    }
  });
});
