import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, Server, Status, createClient } from '../src/index.js';
import { Observations, collect, expectGrpcError, probeImplementation, probeService, type Res } from './support/probe.js';
import { makeTestPki, type TestPki } from './support/test-ca.js';

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});

async function tlsServer(requestClientCert: boolean) {
  const server = new Server({ tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestClientCert } });
  const seen = new Observations();
  server.addService(probeService, probeImplementation(seen));
  const port = await server.listen('127.0.0.1:0');
  return { server, port, seen };
}

describe('TLS', () => {
  let s: Awaited<ReturnType<typeof tlsServer>>;
  beforeAll(async () => {
    s = await tlsServer(false);
  });
  afterAll(() => s.server.forceShutdown());

  it('serves all modes over TLS to a client that trusts the CA', async () => {
    const channel = new Channel(`localhost:${s.port}`, { tls: { ca: pki.ca } });
    const client = createClient(probeService, channel);
    const res: Res = await client.unary({ payload: Buffer.from('secure') });
    expect(Buffer.from(res.payload).toString()).toBe('secure');
    expect(await collect(client.serverStream({ count: 3 }))).toHaveLength(3);
    channel.close();
  });

  it('checks the certificate name, and honours serverNameOverride (sent as :authority)', async () => {
    const wrong = new Channel(`127.0.0.1:${s.port}`, { tls: { ca: pki.ca, serverNameOverride: 'wrong.example.org' } });
    const err = await expectGrpcError(createClient(probeService, wrong).unary({}), Status.UNAVAILABLE);
    expect(err.details).toMatch(/127\.0\.0\.1:\d+.*(altnames|Hostname)/);
    wrong.close();
    const right = new Channel(`127.0.0.1:${s.port}`, { tls: { ca: pki.ca, serverNameOverride: 'test.example.com' } });
    await createClient(probeService, right).unary({});
    expect(s.seen.contexts.at(-1)!.metadata.get('user-agent')).toMatch(/^tsgrpc/);
    right.close();
  });

  it('refuses a server whose CA the client does not trust', async () => {
    const channel = new Channel(`localhost:${s.port}`, { tls: {} });
    const err = await expectGrpcError(createClient(probeService, channel).unary({}), Status.UNAVAILABLE);
    expect(err.details).toMatch(/self.signed|unable to (get|verify)/i);
    channel.close();
  });
});

describe('mutual TLS', () => {
  let s: Awaited<ReturnType<typeof tlsServer>>;
  beforeAll(async () => {
    s = await tlsServer(true);
  });
  afterAll(() => s.server.forceShutdown());

  it('accepts a client certificate signed by the trusted CA', async () => {
    const channel = new Channel(`localhost:${s.port}`, { tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } });
    const res: Res = await createClient(probeService, channel).unary({ payload: Buffer.from('mtls') });
    expect(Buffer.from(res.payload).toString()).toBe('mtls');
    channel.close();
  });

  it('rejects clients without a certificate or with one from another CA', async () => {
    const none = new Channel(`localhost:${s.port}`, { tls: { ca: pki.ca } });
    const e1 = await expectGrpcError(createClient(probeService, none).unary({}), Status.UNAVAILABLE);
    expect(e1.details).toMatch(/certificate required/);
    none.close();
    const stranger = new Channel(`localhost:${s.port}`, { tls: { ca: pki.ca, cert: pki.strangerCert, key: pki.strangerKey } });
    const e2 = await expectGrpcError(createClient(probeService, stranger).unary({}), Status.UNAVAILABLE);
    expect(e2.details).toMatch(/closed the connection before sending its HTTP\/2 SETTINGS \(TLS servers do this when they reject the client certificate\)/);
    stranger.close();
  });
});

describe('client TLS options', () => {
  let s: Awaited<ReturnType<typeof tlsServer>>;
  beforeAll(async () => {
    s = await tlsServer(false);
  });
  afterAll(() => s.server.forceShutdown());

  it('secureContext: a ready-made context stands in for ca, cert and key; giving both is refused', async () => {
    const secureContext = tls.createSecureContext({ ca: pki.ca });
    const channel = new Channel(`localhost:${s.port}`, { tls: { secureContext } });
    const res: Res = await createClient(probeService, channel).unary({ payload: Buffer.from('ctx') });
    expect(Buffer.from(res.payload).toString()).toBe('ctx');
    channel.close();
    // A context without the CA does not trust the server.
    const bare = new Channel(`localhost:${s.port}`, { tls: { secureContext: tls.createSecureContext({}) } });
    await expectGrpcError(createClient(probeService, bare).unary({}), Status.UNAVAILABLE);
    bare.close();
    expect(() => new Channel('localhost:1', { tls: { secureContext, ca: pki.ca } })).toThrow(/secureContext already holds/);
  });

  it('checkServerIdentity replaces the name check and can refuse a server', async () => {
    const seen: string[] = [];
    const accepting = new Channel(`127.0.0.1:${s.port}`, {
      tls: { ca: pki.ca, serverNameOverride: 'not-in-the-cert.example', checkServerIdentity: (host, cert) => void seen.push(`${host} ${cert.subject.CN}`) },
    });
    await createClient(probeService, accepting).unary({});
    accepting.close();
    expect(seen).toEqual(['not-in-the-cert.example server']);
    const refusing = new Channel(`localhost:${s.port}`, { tls: { ca: pki.ca, checkServerIdentity: () => new Error('pinned key mismatch') } });
    const err = await expectGrpcError(createClient(probeService, refusing).unary({}), Status.UNAVAILABLE);
    expect(err.details).toMatch(/pinned key mismatch/);
    refusing.close();
  });

  it('rejectUnauthorized false connects to a server it cannot verify; the default refuses it', async () => {
    const loose = new Channel(`localhost:${s.port}`, { tls: { rejectUnauthorized: false } });
    const res: Res = await createClient(probeService, loose).unary({ payload: Buffer.from('unverified') });
    expect(Buffer.from(res.payload).toString()).toBe('unverified');
    loose.close();
    expect(() => new Channel('localhost:1', { tls: { rejectUnauthorized: 'no' as unknown as boolean } })).toThrow(/rejectUnauthorized must be a boolean/);
  });
});

describe('several key/certificate pairs on one server', () => {
  it('serves an RSA and an ECDSA certificate: each client gets the kind it asks for', async () => {
    const server = new Server({ tls: { key: [pki.serverKey, pki.ecServerKey], cert: [pki.serverCert, pki.ecServerCert] } });
    server.addService(probeService, probeImplementation(new Observations()));
    const port = await server.listen('127.0.0.1:0');
    const servedTo = async (sigalgs: string) => {
      let subject = '';
      const secureContext = tls.createSecureContext({ ca: pki.ca, sigalgs });
      const channel = new Channel(`localhost:${port}`, {
        tls: {
          secureContext,
          checkServerIdentity: (host, cert) => {
            subject = String(cert.subject.CN);
            return tls.checkServerIdentity(host, cert);
          },
        },
      });
      await createClient(probeService, channel).unary({});
      channel.close();
      return subject;
    };
    expect(await servedTo('ecdsa_secp256r1_sha256')).toBe('ec-server');
    expect(await servedTo('rsa_pss_rsae_sha256:rsa_pkcs1_sha256')).toBe('server');
    server.forceShutdown();
  });

  it('keys and chains must pair up', () => {
    expect(() => new Server({ tls: { key: [pki.serverKey, pki.ecServerKey], cert: [pki.serverCert] } })).toThrow(/2 key\(s\) and 1 certificate chain/);
    expect(() => new Server({ tls: { key: [], cert: [] } })).toThrow(/must pair up/);
  });
});
