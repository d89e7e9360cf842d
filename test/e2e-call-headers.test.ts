// The headers a channel fixes for its calls: the user-agent with the application's tokens
// around tsgrpc's, and the :authority (per channel and per call), as a server sees them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallCredentials, Channel, Metadata, Status, createClient, type CallCredentialsContext } from '../src/index.js';
import { expectGrpcError, probeService, startProbe, type ProbeSetup } from './support/probe.js';

let p: ProbeSetup;
beforeAll(async () => {
  p = await startProbe();
});
afterAll(() => p.close());

function lastCall() {
  return p.seen.contexts.at(-1)!;
}

describe('user-agent', () => {
  it('is tsgrpc/<version> alone by default', async () => {
    await p.client.unary({});
    expect(lastCall().metadata.getAll('user-agent')).toEqual([expect.stringMatching(/^tsgrpc\/\d+\.\d+\.\d+$/)]);
  });

  it('carries userAgent before and userAgentSuffix after tsgrpc\'s token', async () => {
    const channel = new Channel(`127.0.0.1:${p.port}`, { userAgent: 'my-app/1.2', userAgentSuffix: 'extra/3' });
    await createClient(probeService, channel).unary({});
    channel.close();
    const agent = lastCall().metadata.get('user-agent');
    expect(agent).toMatch(/^my-app\/1\.2 tsgrpc\/\S+ extra\/3$/);
  });

  it('refuses values that cannot be a header', () => {
    expect(() => new Channel('127.0.0.1:1', { userAgent: 'bad\nagent' })).toThrow(/userAgent must be a string of printable ASCII/);
    expect(() => new Channel('127.0.0.1:1', { userAgentSuffix: 7 as unknown as string })).toThrow(/userAgentSuffix/);
  });
});

describe(':authority', () => {
  it('is the target by default, the channel\'s authority option instead, and a call\'s own over both', async () => {
    await p.client.unary({});
    expect(lastCall().authority).toBe(`127.0.0.1:${p.port}`);

    const channel = new Channel(`127.0.0.1:${p.port}`, { authority: 'api.example.com' });
    const client = createClient(probeService, channel);
    await client.unary({});
    expect(lastCall().authority).toBe('api.example.com');
    await client.unary({}, { authority: 'other.example.com:8443' });
    expect(lastCall().authority).toBe('other.example.com:8443');
    // The next call is back to the channel's.
    await client.unary({});
    expect(lastCall().authority).toBe('api.example.com');
    channel.close();
  });

  it('stays the channel\'s, with its user-agent, for methods a service config applies to', async () => {
    const serviceConfig = { methodConfig: [{ name: [{ service: 'e2e.Probe' }], timeout: '30s' }] };
    const channel = new Channel(`127.0.0.1:${p.port}`, { authority: 'configured.example.com', userAgent: 'cfg/1', serviceConfig });
    await createClient(probeService, channel).unary({});
    channel.close();
    expect(lastCall().authority).toBe('configured.example.com');
    expect(lastCall().metadata.get('user-agent')).toMatch(/^cfg\/1 tsgrpc\//);
    expect(lastCall().deadline).toBeInstanceOf(Date);
  });

  it('is the audience call credentials see, per channel and per call', async () => {
    const urls: string[] = [];
    const creds = CallCredentials.fromMetadataGenerator((ctx: CallCredentialsContext) => {
      urls.push(ctx.serviceUrl);
      return new Metadata();
    });
    const channel = new Channel(`127.0.0.1:${p.port}`, { authority: 'api.example.com', callCredentials: creds, allowInsecureCallCredentials: true });
    const client = createClient(probeService, channel);
    await client.unary({});
    await client.unary({}, { authority: 'per-call.example.com' });
    channel.close();
    expect(urls).toEqual(['https://api.example.com/e2e.Probe', 'https://per-call.example.com/e2e.Probe']);
  });

  it('refuses an authority with spaces or a path: the channel at construction, a call with INTERNAL', async () => {
    expect(() => new Channel('127.0.0.1:1', { authority: 'a b' })).toThrow(/ChannelOptions.authority must be a non-empty authority/);
    expect(() => new Channel('127.0.0.1:1', { authority: '' })).toThrow(/ChannelOptions.authority/);
    const err = await expectGrpcError(createClient(probeService, p.channel).unary({}, { authority: 'host/path' }), Status.INTERNAL);
    expect(err.details).toMatch(/CallOptions.authority must be a non-empty authority/);
  });
});
