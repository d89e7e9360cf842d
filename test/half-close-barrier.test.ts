// The server confirms a client-streaming or bidi half-close with a PING round trip (src/server/half-close.ts)
// only for clients that may cancel with END_STREAM then RST_STREAM. Clients whose user-agent names tsgrpc or
// grpc-go cancel with RST_STREAM alone (test/cancel-storm.test.ts storms both), so their calls skip it.
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Status, encodeFrame } from '../src/index.js';
import { probeService, startProbe, type ProbeSetup } from './support/probe.js';
import { rawRequest, statusOf } from './support/raw-http2.js';

const frame = (msg: object) => Buffer.concat(encodeFrame(probeService.methods.ClientStream.serializeRequest(msg)));

describe('half-close barrier: a PING round trip only for clients that may cancel with END_STREAM first', () => {
  let p: ProbeSetup;
  beforeAll(async () => {
    p = await startProbe();
  });
  afterAll(() => p.close());

  /** One client-streaming call of one message on a fresh session; the PINGs the server sent it. */
  async function callAs(userAgent: string | undefined): Promise<{ code: number; pings: number }> {
    const session = http2.connect(`http://127.0.0.1:${p.port}`);
    let pings = 0;
    session.on('ping', () => pings++);
    try {
      const headers: http2.OutgoingHttpHeaders = { ':path': '/e2e.Probe/ClientStream' };
      if (userAgent !== undefined) headers['user-agent'] = userAgent;
      const r = await rawRequest(session, headers, frame({ payload: Buffer.from('abc') }));
      return { code: statusOf(r).code, pings };
    } finally {
      session.close();
    }
  }

  for (const ua of ['grpc-go/1.71.0', 'tsgrpc/0.1.0', 'my-app/2.0 tsgrpc/0.1.0 (linux)']) {
    it(`user-agent "${ua}": answered without a PING`, async () => {
      expect(await callAs(ua)).toEqual({ code: Status.OK, pings: 0 });
    });
  }

  for (const ua of ['grpc-node-js/1.14.0', 'h2load nghttp2/1.52.0', 'not-tsgrpc/1.0', undefined]) {
    it(`user-agent ${JSON.stringify(ua)}: the half-close is confirmed with a PING first`, async () => {
      expect(await callAs(ua)).toEqual({ code: Status.OK, pings: 1 });
    });
  }
});
