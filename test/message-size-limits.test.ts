// Message size limits: values that are not byte counts are refused loudly; "unlimited" works,
// compressed messages included.
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, Server, createClient } from '../src/index.js';
import { Observations, probeImplementation, probeService, type Res } from './support/probe.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('message size options', () => {
  const bad = [NaN, -1, 1.5, -Infinity, '1024' as unknown as number];
  for (const name of ['maxReceiveMessageSize', 'maxSendMessageSize'] as const) {
    for (const value of bad) {
      it(`Channel and Server reject ${name}: ${String(value)} with a RangeError naming it`, () => {
        expect(() => new Channel('127.0.0.1:1', { [name]: value })).toThrow(RangeError);
        expect(() => new Channel('127.0.0.1:1', { [name]: value })).toThrow(`ChannelOptions.${name}`);
        expect(() => new Server({ [name]: value })).toThrow(RangeError);
        expect(() => new Server({ [name]: value })).toThrow(`ServerOptions.${name}`);
      });
    }
  }

  it('accept 0, integers and Infinity', () => {
    for (const value of [0, 4096, Number.MAX_SAFE_INTEGER, Infinity]) {
      new Channel('127.0.0.1:1', { maxReceiveMessageSize: value, maxSendMessageSize: value }).close();
      new Server({ maxReceiveMessageSize: value, maxSendMessageSize: value });
    }
  });

  for (const limit of [Infinity, Number.MAX_SAFE_INTEGER]) {
    it(`a receive limit of ${limit} takes large compressed messages both ways`, async () => {
      const server = new Server({ compression: 'gzip', maxReceiveMessageSize: limit });
      cleanups.push(() => server.forceShutdown());
      server.addService(probeService, probeImplementation(new Observations()));
      const port = await server.listen('127.0.0.1:0');
      const channel = new Channel(`127.0.0.1:${port}`, { maxReceiveMessageSize: limit });
      cleanups.push(() => channel.close());
      const client = createClient(probeService, channel);
      const payload = Buffer.alloc(5 * 1024 * 1024, 7);
      const res = (await client.unary({ payload }, { compression: 'gzip' })) as Res;
      expect(Buffer.compare(Buffer.from(res.payload), payload)).toBe(0);
    });
  }
});
