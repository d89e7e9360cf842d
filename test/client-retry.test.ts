import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, Status, createClient, encodeFrame, type BidiStream, type Client } from '../src/index.js';
import { RETRY_BUFFER_LIMIT } from '../src/client/transparent-retry.js';
import { collect, expectGrpcError, probeService, type Req, type Res } from './support/probe.js';
import { rawServer } from './support/raw-http2.js';

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_NO_ERROR } = http2.constants;
const methods = probeService.methods;

/** The request messages in a DATA payload (uncompressed frames). */
function requestsIn(body: Buffer): Req[] {
  const out: Req[] = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    out.push(methods.Unary.deserializeRequest(body.subarray(at + 5, at + 5 + length)));
    at += 5 + length;
  }
  return out;
}

/** Answers a call with one response per request message echoing its payload (ClientStream: one response, all payloads joined). */
function answer(stream: http2.ServerHttp2Stream, path: string, received: Req[]): void {
  const requests = path.endsWith('/ClientStream') ? [{ payload: Buffer.concat(received.map((r) => r.payload ?? Buffer.alloc(0))) }] : received;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  const responses = requests.map((r, index) => Buffer.concat(encodeFrame(methods.Unary.serializeResponse({ payload: r.payload ?? Buffer.alloc(0), index }))));
  stream.end(Buffer.concat(responses));
}

interface Seen { streams: number; sessions: Set<http2.ServerHttp2Session> }

/**
 * A server that plays `misbehave` on the streams `when` picks (by their count,
 * from 1) and answers every other stream properly.
 */
async function serverThat(when: (n: number) => boolean, misbehave: (stream: http2.ServerHttp2Stream) => void) {
  const seen: Seen = { streams: 0, sessions: new Set() };
  const server = await rawServer((stream, headers) => {
    seen.streams++;
    seen.sessions.add(stream.session as http2.ServerHttp2Session);
    if (when(seen.streams)) return misbehave(stream);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => answer(stream, String(headers[':path']), requestsIn(Buffer.concat(chunks))));
  });
  return { ...server, seen };
}

describe('transparent retry of calls the server never processed', () => {
  let cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  async function setup(when: (n: number) => boolean, misbehave: (stream: http2.ServerHttp2Stream) => void) {
    const server = await serverThat(when, misbehave);
    const channel = new Channel(`127.0.0.1:${server.port}`);
    cleanup.push(() => channel.close(), () => server.close());
    return { server, client: createClient(probeService, channel) as Client };
  }

  it('retries a unary call refused with REFUSED_STREAM, once, and it succeeds', async () => {
    const { server, client } = await setup((n) => n === 1, (s) => s.close(NGHTTP2_REFUSED_STREAM));
    const res: Res = await client.unary({ payload: Buffer.from('again') });
    expect(Buffer.from(res.payload).toString()).toBe('again');
    expect(server.seen.streams).toBe(2);
  });

  it('retries a call above a GOAWAY last-stream-id on a new connection', async () => {
    // The first call (stream 1) is answered; the second (stream 3) gets GOAWAY with last-stream-id 1.
    const { server, client } = await setup((n) => n === 2, (s) => s.session!.goaway(NGHTTP2_NO_ERROR, 1));
    await client.unary({});
    const res: Res = await client.unary({ payload: Buffer.from('moved') });
    expect(Buffer.from(res.payload).toString()).toBe('moved');
    expect(server.seen.streams).toBe(3);
    expect(server.seen.sessions.size).toBe(2);
  });

  it('replays every message of a client-streaming and a bidi call', async () => {
    const { server, client } = await setup((n) => n % 2 === 1, (s) => s.close(NGHTTP2_REFUSED_STREAM));
    const parts = ['a', 'bb', 'ccc'].map((p) => ({ payload: Buffer.from(p) }));
    const total: Res = await client.clientStream(parts);
    expect(Buffer.from(total.payload).toString()).toBe('abbccc');
    const bidi: BidiStream<Req, Res> = client.bidi();
    for (const p of parts) await bidi.write(p);
    bidi.end();
    expect((await collect(bidi)).map((r) => Buffer.from(r.payload).toString())).toEqual(['a', 'bb', 'ccc']);
    expect(server.seen.streams).toBe(4);
  });

  it('retries only once: a second refusal is UNAVAILABLE', async () => {
    const { server, client } = await setup(() => true, (s) => s.close(NGHTTP2_REFUSED_STREAM));
    const err = await expectGrpcError(client.unary({}), Status.UNAVAILABLE);
    expect(err.details).toMatch(/refused the stream/);
    expect(server.seen.streams).toBe(2);
  });

  it(`does not retry once more than ${RETRY_BUFFER_LIMIT / 1024} KiB of requests were sent (the call committed)`, async () => {
    const refuseAfter = RETRY_BUFFER_LIMIT + 64 * 1024;
    const { server, client } = await setup(() => true, (s) => {
      let received = 0;
      s.on('data', (c: Buffer) => {
        received += c.length;
        if (received > refuseAfter) s.close(NGHTTP2_REFUSED_STREAM);
      });
    });
    async function* big(): AsyncGenerator<Req> {
      for (let i = 0; i < 8; i++) yield { payload: Buffer.alloc(64 * 1024) };
      await new Promise(() => {}); // keep the request open until the server refuses it
    }
    // First while the channel connects (the messages wait for the stream), then on a ready connection.
    await expectGrpcError(client.clientStream(big()), Status.UNAVAILABLE);
    expect(server.seen.streams).toBe(1);
    await expectGrpcError(client.clientStream(big()), Status.UNAVAILABLE);
    expect(server.seen.streams).toBe(2);
  });

  it('does not retry a reset that came after the response started (the server processed the call)', async () => {
    const { server, client } = await setup(() => true, (s) => {
      // waitForTrailers keeps Node from ending the stream (END_STREAM) before its reset.
      s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      setTimeout(() => s.close(NGHTTP2_REFUSED_STREAM), 20);
    });
    await expectGrpcError(client.unary({}), Status.UNAVAILABLE);
    expect(server.seen.streams).toBe(1);
  });
});

describe('a GOAWAY with an error code (as nghttp2 sends after ~1,000 resets on a connection)', () => {
  it('lets streams at or below its last-stream-id finish, and retries those above on a new connection', async () => {
    const sessions = new Set<http2.ServerHttp2Session>();
    let streams = 0;
    const server = await rawServer((stream, headers) => {
      streams++;
      sessions.add(stream.session as http2.ServerHttp2Session);
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const reply = () => answer(stream, String(headers[':path']), requestsIn(Buffer.concat(chunks)));
        if (streams === 1) setTimeout(reply, 200); // the first call is still running when the GOAWAY goes out
        else if (streams === 2) stream.session!.goaway(http2.constants.NGHTTP2_INTERNAL_ERROR, 1);
        else reply();
      });
    });
    const channel = new Channel(`127.0.0.1:${server.port}`);
    const client: Client = createClient(probeService, channel);
    try {
      const first = client.unary({ payload: Buffer.from('first') }) as Promise<Res>;
      await new Promise((r) => setTimeout(r, 50));
      const second: Res = await client.unary({ payload: Buffer.from('second') });
      expect(Buffer.from(second.payload).toString()).toBe('second');
      expect(Buffer.from((await first).payload).toString()).toBe('first');
      expect(streams).toBe(3);
      expect(sessions.size).toBe(2);
    } finally {
      channel.close();
      server.close();
    }
  });

  it('retries a call still queued behind MAX_CONCURRENT_STREAMS when the GOAWAY arrives', async () => {
    const sessions = new Set<http2.ServerHttp2Session>();
    let streams = 0;
    const server = await rawServer((stream, headers) => {
      streams++;
      const session = stream.session as http2.ServerHttp2Session;
      sessions.add(session);
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const reply = () => answer(stream, String(headers[':path']), requestsIn(Buffer.concat(chunks)));
        if (streams > 1) return reply();
        // The second call waits in the client for this one's slot; the GOAWAY says stream 1 is the last.
        setTimeout(() => session.goaway(http2.constants.NGHTTP2_NO_ERROR, 1), 100);
        setTimeout(reply, 200);
      });
    }, { maxConcurrentStreams: 1 });
    const channel = new Channel(`127.0.0.1:${server.port}`);
    const client: Client = createClient(probeService, channel);
    try {
      const results: Res[] = await Promise.all([client.unary({ payload: Buffer.from('1') }), client.unary({ payload: Buffer.from('2') })]);
      expect(results.map((r) => Buffer.from(r.payload).toString())).toEqual(['1', '2']);
      expect(streams).toBe(2);
      expect(sessions.size).toBe(2);
    } finally {
      channel.close();
      server.close();
    }
  });
});
