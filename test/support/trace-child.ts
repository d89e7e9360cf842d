// Run by test/trace.test.ts in a child process with GRPC_TRACE/TSGRPC_TRACE set: plays calls that
// should show up in the trace (statuses, a cancel, a transparent retry, a GOAWAY), then exits.
import http2 from 'node:http2';
import { Channel, GrpcError, Server, Status, createClient, defineService, encodeFrame, type Client } from '../../src/index.js';
import { rawServer } from './raw-http2.js';

const bytes = { serialize: (b: Uint8Array) => b, deserialize: (b: Uint8Array) => b };
const echo = defineService('trace.Echo', {
  Unary: { request: bytes, response: bytes },
  Bidi: { request: bytes, response: bytes, requestStream: true, responseStream: true },
});

const server = new Server();
server.addService(echo, {
  unary(request: Uint8Array) {
    if (Buffer.from(request).toString() === 'fail') throw new GrpcError(Status.NOT_FOUND, 'nothing here');
    return request;
  },
  async *bidi(requests: AsyncIterable<Uint8Array>) {
    for await (const r of requests) yield r;
  },
});
const port = await server.listen('127.0.0.1:0');
const channel = new Channel(`127.0.0.1:${port}`);
const client = createClient(echo, channel) as Client;

await client.unary(Buffer.from('hello'));
await client.unary(Buffer.from('fail')).catch(() => {});

// A cancel: RST_STREAM(CANCEL) from the client, seen as a reset by the server.
const controller = new AbortController();
const bidi = client.bidi({ signal: controller.signal });
const responses = bidi[Symbol.asyncIterator]();
await bidi.write(Buffer.from('one'));
await responses.next();
controller.abort();
await responses.next().catch(() => {});

// A transparent retry: a server that refuses the first stream.
let streams = 0;
const refusing = await rawServer((stream) => {
  if (++streams === 1) return stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
  stream.resume();
  stream.on('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(Buffer.concat(encodeFrame(Buffer.from('ok'))));
  });
});
const retryChannel = new Channel(`127.0.0.1:${refusing.port}`);
await (createClient(echo, retryChannel) as Client).unary(Buffer.from('again'));
retryChannel.close();
refusing.close();

// A GOAWAY: the server shuts down while the channel is connected.
await server.shutdown();
await new Promise((r) => setTimeout(r, 100));
channel.close();
process.stdout.write('done\n');
