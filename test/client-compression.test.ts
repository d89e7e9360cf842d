import { describe, expect, it } from 'vitest';
import { Channel, createClient, encodeFrame, withWriteOptions, type BidiStream, type Client } from '../src/index.js';
import { probeService, type Req, type Res } from './support/probe.js';
import { rawServer } from './support/raw-http2.js';

const methods = probeService.methods;

/** The compressed flag of every message in a request body. */
function compressedFlags(body: Buffer): boolean[] {
  const flags: boolean[] = [];
  for (let at = 0; at + 5 <= body.length; at += 5 + body.readUInt32BE(at + 1)) flags.push(body[at] === 1);
  return flags;
}

/** A raw server that records each request's grpc-encoding and per-message flags, and answers every message with one response. */
async function recordingServer() {
  const requests: { encoding: string | undefined; flags: boolean[] }[] = [];
  const server = await rawServer((s, headers) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      const flags = compressedFlags(Buffer.concat(chunks));
      requests.push({ encoding: headers['grpc-encoding'] as string | undefined, flags });
      const count = String(headers[':path']).endsWith('/ClientStream') ? 1 : flags.length;
      s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
      s.end(Buffer.concat(Array.from({ length: count }, (_, index) => Buffer.concat(encodeFrame(methods.Unary.serializeResponse({ index }))))));
    });
  });
  return { ...server, requests };
}

describe('per-message compression on the client', () => {
  it('a client-streaming source can send single messages uncompressed with withWriteOptions()', async () => {
    const server = await recordingServer();
    const channel = new Channel(`127.0.0.1:${server.port}`);
    const client: Client = createClient(probeService, channel);
    try {
      const big = { payload: Buffer.alloc(1000) };
      async function* requests() {
        yield big;
        yield withWriteOptions(big, { compress: false });
        yield withWriteOptions(big, { compress: true });
        yield big;
      }
      await client.clientStream(requests(), { compression: 'gzip' });
      // Without compression for the call, the option cannot turn it on.
      await client.clientStream([withWriteOptions(big, { compress: true }), big]);
      expect(server.requests).toEqual([
        { encoding: 'gzip', flags: [true, false, true, true] },
        { encoding: undefined, flags: [false, false] },
      ]);
    } finally {
      channel.close();
      server.close();
    }
  });

  it('bidi write() takes the same options', async () => {
    const server = await recordingServer();
    const channel = new Channel(`127.0.0.1:${server.port}`);
    try {
      const call: BidiStream<Req, Res> = createClient(probeService, channel).bidi({ compression: 'deflate' });
      await call.write({ payload: Buffer.alloc(100) }, { compress: false });
      await call.write({ payload: Buffer.alloc(100) });
      call.end();
      for await (const _ of call);
      expect(server.requests).toEqual([{ encoding: 'deflate', flags: [false, true] }]);
    } finally {
      channel.close();
      server.close();
    }
  });
});
