import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CallCredentials, Channel, GrpcError, Metadata, Server, Status, createClient,
  type AuthContext, type CallCredentialsContext, type ServerCallContext, type ServerInterceptor,
} from '../src/index.js';
import { Observations, collect, expectGrpcError, probeImplementation, probeService, type Res } from './support/probe.js';
import { makeTestPki, type TestPki } from './support/test-ca.js';

let pki: TestPki;
let plain: { server: Server; port: number; seen: Observations };
let secure: { server: Server; port: number; seen: Observations };
let mtls: { server: Server; port: number; seen: Observations; interceptorAuth: AuthContext[] };

async function serve(options: ConstructorParameters<typeof Server>[0]) {
  const seen = new Observations();
  const server = new Server(options);
  server.addService(probeService, probeImplementation(seen));
  const port = await server.listen('127.0.0.1:0');
  return { server, port, seen };
}

beforeAll(async () => {
  pki = makeTestPki();
  plain = await serve({});
  secure = await serve({ tls: { key: pki.serverKey, cert: pki.serverCert } });
  const interceptorAuth: AuthContext[] = [];
  const recordAuth: ServerInterceptor = (ctx) => {
    interceptorAuth.push(ctx.auth);
  };
  mtls = { ...(await serve({ tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestClientCert: true }, interceptors: [recordAuth] })), interceptorAuth };
});
afterAll(() => {
  for (const s of [plain, secure, mtls]) s?.server.forceShutdown();
});

const lastMetadata = (seen: Observations) => seen.contexts.at(-1)!.metadata;
const lastAuth = (seen: Observations) => seen.contexts.at(-1)!.auth;

describe('call credentials', () => {
  it('are refused on a plaintext channel by default, with a clear error', async () => {
    expect(() => new Channel(`127.0.0.1:${plain.port}`, { callCredentials: CallCredentials.bearerToken('t') }))
      .toThrow(/call credentials need a TLS channel.*plaintext.*allowInsecureCallCredentials/);
    const channel = new Channel(`127.0.0.1:${plain.port}`);
    const before = plain.seen.contexts.length;
    const e = await expectGrpcError(createClient(probeService, channel).unary({}, { callCredentials: CallCredentials.bearerToken('t') }), Status.UNAUTHENTICATED);
    expect(e.details).toMatch(/call credentials need a TLS channel: they would go to 127\.0\.0\.1:\d+ in plaintext/);
    expect(plain.seen.contexts.length).toBe(before);
    channel.close();
  });

  it('"loopback" allows them to loopback targets only; true allows them anywhere', async () => {
    const channel = new Channel(`127.0.0.1:${plain.port}`, { callCredentials: CallCredentials.bearerToken('abc'), allowInsecureCallCredentials: 'loopback' });
    await createClient(probeService, channel).unary({});
    expect(lastMetadata(plain.seen).get('authorization')).toBe('Bearer abc');
    channel.close();
    // Constructing a channel does not connect, so these send nothing anywhere.
    expect(() => new Channel('grpc.example.com:50051', { callCredentials: CallCredentials.bearerToken('t'), allowInsecureCallCredentials: 'loopback' }))
      .toThrow(/not loopback|is not\)/);
    new Channel('grpc.example.com:50051', { callCredentials: CallCredentials.bearerToken('t'), allowInsecureCallCredentials: true }).close();
    expect(() => new Channel('127.0.0.1:1', { allowInsecureCallCredentials: 'yes' as never })).toThrow(/allowInsecureCallCredentials must be/);
  });

  it('bearer tokens and basic auth go out as authorization metadata over TLS, in all four modes', async () => {
    let fetches = 0;
    const channel = new Channel(`localhost:${secure.port}`, {
      tls: { ca: pki.ca },
      callCredentials: CallCredentials.bearerToken(async () => `token-${++fetches}`),
    });
    const client = createClient(probeService, channel);
    await client.unary({});
    expect(lastMetadata(secure.seen).get('authorization')).toBe('Bearer token-1');
    await collect(client.serverStream({ count: 1 }));
    await client.clientStream([{}]);
    const bidi = client.bidi();
    bidi.end();
    await collect(bidi);
    expect(secure.seen.contexts.slice(-4).map((c) => c.metadata.get('authorization'))).toEqual(['Bearer token-1', 'Bearer token-2', 'Bearer token-3', 'Bearer token-4']);
    channel.close();

    const basic = new Channel(`localhost:${secure.port}`, { tls: { ca: pki.ca }, callCredentials: CallCredentials.basicAuth('aladdin', 'open sesame') });
    await createClient(probeService, basic).unary({});
    expect(lastMetadata(secure.seen).get('authorization')).toBe('Basic YWxhZGRpbjpvcGVuIHNlc2FtZQ==');
    basic.close();
    expect(() => CallCredentials.basicAuth('a:b', 'c')).toThrow(/cannot contain ":"/);
  });

  it('per-call credentials compose with the channel credentials; generators learn the service URL and method', async () => {
    const contexts: CallCredentialsContext[] = [];
    const tenant = CallCredentials.fromMetadataGenerator((ctx) => {
      contexts.push(ctx);
      return new Metadata({ 'x-tenant': 'blue' });
    });
    const channel = new Channel(`localhost:${secure.port}`, { tls: { ca: pki.ca }, callCredentials: tenant });
    const client = createClient(probeService, channel);
    await client.unary({}, { callCredentials: CallCredentials.bearerToken('per-call') });
    const md = lastMetadata(secure.seen);
    expect(md.get('x-tenant')).toBe('blue');
    expect(md.get('authorization')).toBe('Bearer per-call');
    expect(contexts[0]).toEqual({ serviceUrl: `https://localhost:${secure.port}/e2e.Probe`, method: '/e2e.Probe/Unary' });
    channel.close();
  });

  it('a failing generator fails the call: its status, UNAVAILABLE for a plain error, INTERNAL for codes reserved to applications', async () => {
    const channel = new Channel(`localhost:${secure.port}`, { tls: { ca: pki.ca } });
    const client = createClient(probeService, channel);
    const failing = (err: unknown) => CallCredentials.fromMetadataGenerator(async () => {
      throw err;
    });
    const before = secure.seen.contexts.length;
    const e1 = await expectGrpcError(client.unary({}, { callCredentials: failing(new GrpcError(Status.UNAUTHENTICATED, 'token expired')) }), Status.UNAUTHENTICATED);
    expect(e1.details).toBe('token expired');
    const e2 = await expectGrpcError(collect(client.serverStream({}, { callCredentials: failing(new Error('token service unreachable')) })), Status.UNAVAILABLE);
    expect(e2.details).toBe('call credentials failed: token service unreachable');
    const e3 = await expectGrpcError(client.unary({}, { callCredentials: failing(new GrpcError(Status.NOT_FOUND, 'no key')) }), Status.INTERNAL);
    expect(e3.details).toMatch(/illegal status 5: no key/);
    expect(secure.seen.contexts.length).toBe(before);
    channel.close();
  });

  it('a generator slower than the deadline ends the call with DEADLINE_EXCEEDED', async () => {
    const channel = new Channel(`localhost:${secure.port}`, { tls: { ca: pki.ca } });
    const slow = CallCredentials.fromMetadataGenerator(() => new Promise<Metadata>(() => {}));
    await expectGrpcError(createClient(probeService, channel).unary({}, { callCredentials: slow, timeout: 100 }), Status.DEADLINE_EXCEEDED);
    channel.close();
  });
});

describe('server auth context', () => {
  it('plaintext: the peer address, no TLS, no certificate', async () => {
    const channel = new Channel(`127.0.0.1:${plain.port}`);
    await createClient(probeService, channel).unary({});
    const auth = lastAuth(plain.seen);
    expect(auth.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(auth.secure).toBe(false);
    expect(auth.peerCertificate).toBeUndefined();
    channel.close();
  });

  it('TLS without a client certificate: secure, no certificate', async () => {
    const channel = new Channel(`localhost:${secure.port}`, { tls: { ca: pki.ca } });
    await createClient(probeService, channel).unary({});
    const auth = lastAuth(secure.seen);
    expect(auth.secure).toBe(true);
    expect(auth.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
    expect(auth.peerCertificate).toBeUndefined();
    channel.close();
  });

  it('mTLS: handlers and interceptors see the verified client certificate', async () => {
    const channel = new Channel(`localhost:${mtls.port}`, { tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } });
    await createClient(probeService, channel).unary({});
    const ctx: ServerCallContext = mtls.seen.contexts.at(-1)!;
    const cert = ctx.auth.peerCertificate!;
    expect(ctx.auth.secure).toBe(true);
    expect(ctx.auth.peer).toBe(ctx.peer);
    expect(cert.subject).toBe('CN=client');
    expect(cert.issuer).toBe('CN=ca');
    expect(cert.subjectAltNames).toEqual(['DNS:client.test', 'URI:spiffe://tsgrpc.test/client']);
    expect(cert.raw.equals(new X509Certificate(pki.clientCert).raw)).toBe(true);
    expect(cert.fingerprint256).toBe(new X509Certificate(pki.clientCert).fingerprint256);
    expect(mtls.interceptorAuth.at(-1)!.peerCertificate!.subject).toBe('CN=client');
    channel.close();
  });
  it('a handler that reads peer and auth after the connection is gone gets "unknown", not an exception', async () => {
    let report: (v: unknown) => void = () => {};
    const read = new Promise((resolve) => (report = resolve));
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => (started = resolve));
    const server = new Server();
    server.addService(probeService, {
      async *serverStream(_req: unknown, ctx: ServerCallContext) {
        started();
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        await new Promise((resolve) => setTimeout(resolve, 300)); // the client closes its channel meanwhile
        try {
          report({ peer: ctx.peer, auth: ctx.auth });
        } catch (err) {
          report(err);
        }
      },
    });
    const port = await server.listen('127.0.0.1:0');
    const channel = new Channel(`127.0.0.1:${port}`);
    const stream = createClient(probeService, channel).serverStream({});
    await running;
    stream.cancel();
    await collect(stream).catch(() => {});
    channel.close();
    expect(await read).toEqual({ peer: 'unknown', auth: { peer: 'unknown', secure: false, tlsProtocol: undefined, peerCertificate: undefined } });
    server.forceShutdown();
  });
});

describe('client TLS options', () => {
  it('checkServerIdentity replaces the host name check and can refuse a server', async () => {
    const checked: string[] = [];
    const accepting = new Channel(`127.0.0.1:${secure.port}`, {
      tls: {
        ca: pki.ca,
        serverNameOverride: 'pinned.internal',
        checkServerIdentity: (host, cert) => {
          checked.push(`${host} ${cert.subject.CN}`);
          return undefined;
        },
      },
    });
    const res: Res = await createClient(probeService, accepting).unary({ payload: Buffer.from('ok') });
    expect(Buffer.from(res.payload).toString()).toBe('ok');
    expect(checked).toEqual(['pinned.internal server']);
    accepting.close();

    const refusing = new Channel(`localhost:${secure.port}`, {
      tls: { ca: pki.ca, checkServerIdentity: () => new Error('certificate is not the pinned one') },
    });
    const e = await expectGrpcError(createClient(probeService, refusing).unary({}), Status.UNAVAILABLE);
    expect(e.details).toMatch(/certificate is not the pinned one/);
    refusing.close();
  });

  it.each([
    ['without ALPN', undefined, /did not negotiate HTTP\/2 via ALPN \(it chose no protocol\)/],
    ['with ALPN but not h2', ['http/1.1'], /refused ALPN "h2" \(no_application_protocol alert\)/],
  ])('a TLS server %s is refused with a clear error', async (_name, alpn, message) => {
    const server = tls.createServer({ key: pki.serverKey, cert: pki.serverCert, ALPNProtocols: alpn }, (socket) => socket.on('error', () => {}));
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const channel = new Channel(`localhost:${port}`, { tls: { ca: pki.ca } });
    const e = await expectGrpcError(createClient(probeService, channel).unary({}, { timeout: 10_000 }), Status.UNAVAILABLE);
    expect(e.details).toMatch(message);
    channel.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
