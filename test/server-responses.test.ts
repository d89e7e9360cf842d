// How the server ends calls it refuses or fails early, seen from a raw HTTP/2 client.
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server, Status, encodeFrame } from '../src/index.js';
import { Observations, probeImplementation, probeService } from './support/probe.js';
import { rawRequest, statusOf } from './support/raw-http2.js';

const frame = (msg: object) => Buffer.concat(encodeFrame(probeService.methods.Unary.serializeRequest(msg)));

let server: Server;
let session: http2.ClientHttp2Session;
beforeAll(async () => {
  server = new Server({ maxSendMessageSize: 4 });
  server.addService(probeService, probeImplementation(new Observations()));
  session = http2.connect(`http://127.0.0.1:${await server.listen('127.0.0.1:0')}`);
  session.on('error', () => {});
});
afterAll(() => {
  session.close();
  server.forceShutdown();
});

describe('server responses', () => {
  /** Sends `headers` and a body without ending the request; resolves once the server ends the stream, or undefined after 3 s. */
  function refusedRequest(headers: http2.OutgoingHttpHeaders, bodyBytes: number, afterResponse: boolean): Promise<{ status: unknown; rstCode: number } | undefined> {
    return new Promise((resolve) => {
      const stream = session.request({ ':method': 'POST', te: 'trailers', 'content-type': 'application/grpc', ...headers });
      let status: unknown;
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        resolve(undefined);
      }, 3000);
      stream.on('response', (h) => {
        status = h[':status'];
        if (afterResponse) stream.write(Buffer.alloc(bodyBytes, 1));
      });
      stream.on('data', () => {});
      stream.on('error', () => {});
      stream.on('close', () => {
        clearTimeout(timer);
        resolve({ status, rstCode: stream.rstCode! });
      });
      if (!afterResponse) stream.write(Buffer.alloc(bodyBytes, 1));
    });
  }

  // Node closes a stream that was answered without ever being read with RST_STREAM(NO_ERROR) by itself
  // (rejectRequest relies on that); these guard it for every way a refused client may keep sending.
  for (const [what, headers, httpStatus] of [
    ['a wrong content-type (415)', { ':path': '/e2e.Probe/ClientStream', 'content-type': 'application/json' }, 415],
    ['a method other than POST (405)', { ':method': 'PUT', ':path': '/e2e.Probe/ClientStream' }, 405],
  ] as const) {
    for (const [body, bytes, afterResponse] of [['a small body', 10, false], ['a 200 KB body', 200_000, false], ['a body sent after the response', 10, true]] as const) {
      it(`a refused request, ${what}, with ${body} and no end is closed with RST_STREAM(NO_ERROR) after the response`, async () => {
        const r = await refusedRequest(headers, bytes, afterResponse);
        expect(r, 'the server left the stream open').toBeDefined();
        expect(r!.status).toBe(httpStatus);
        expect(r!.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
      });
    }
  }

  it('a first response message over maxSendMessageSize fails as Trailers-Only, without separate headers', async () => {
    const r = await rawRequest(session, { ':path': '/e2e.Probe/Unary' }, frame({ payload: Buffer.alloc(64, 1) }));
    expect(r.trailers).toBeUndefined();
    expect(r.headers['grpc-status']).toBe(String(Status.RESOURCE_EXHAUSTED));
    expect(statusOf(r).message).toMatch(/larger than max/);
    expect(r.body.length).toBe(0);
  });
});
