// tsgrpc/grpc-js behaviour beyond the shared suite: options and features it
// cannot honour yet fail loudly, objects from other grpc copies are accepted
// by shape, server-side compression and parent propagation, and the package
// export itself.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import * as grpcJs from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '../src/grpc-js/index.js';
import { bind, echoDef, greeterDef } from './support/grpcjs-compat-suite.js';
import { byteCountingProxy, compressible } from './support/grpcjs-probe.js';
import { makeTestPki } from './support/test-ca.js';

const ROOT = path.join(import.meta.dirname, '..');
const Echo = (grpc.loadPackageDefinition(echoDef).echo as any).Echo;
const Greeter = (grpc.loadPackageDefinition(greeterDef).hello as any).Greeter;
const insecure = grpc.credentials.createInsecure();

function unary(client: any, request: object, ...rest: unknown[]): Promise<{ err: any; value?: any }> {
  return new Promise((resolve) => client.unaryEcho(request, ...rest, (err: any, value: any) => resolve({ err, value })));
}

describe('options and features that cannot be honoured yet are rejected by name', () => {
  it.each([
    ['grpc.max_connection_age_ms', 10_000],
    ['grpc.max_connection_idle_ms', 1000],
  ])('client option %s', (key, value) => {
    expect(() => new Echo('127.0.0.1:1', insecure, { [key]: value })).toThrow(grpc.UnsupportedOptionError);
    expect(() => new Echo('127.0.0.1:1', insecure, { [key]: value })).toThrow(key);
  });

  it('server options it has no equivalent for', () => {
    expect(() => new grpc.Server({ 'grpc-node.max_session_memory': 10 })).toThrow('grpc-node.max_session_memory');
    expect(() => new grpc.Server({ 'grpc.max_receive_message_length': 'big' })).toThrow('must be an integer');
  });

  it('service config, load-balancing policy, retry and DNS options reach the native channel', () => {
    const config = JSON.stringify({ methodConfig: [{ name: [{}], retryPolicy: { maxAttempts: 2, initialBackoff: '0.1s', maxBackoff: '1s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] } }] });
    const options = {
      'grpc.service_config': config, 'grpc.lb_policy_name': 'round_robin', 'grpc.enable_retries': 1,
      'grpc.dns_min_time_between_resolutions_ms': 1000, 'grpc.retry_buffer_size': 1 << 20, 'grpc.per_rpc_retry_buffer_size': 1 << 16,
      'grpc.service_config_disable_resolution': 1,
    };
    expect(() => new Echo('127.0.0.1:1', insecure, options).close()).not.toThrow();
    expect(() => new Echo('127.0.0.1:1', insecure, { 'grpc.service_config': '{"methodConfig": 3}' })).toThrow(/invalid service config: methodConfig/);
    expect(() => new Echo('127.0.0.1:1', insecure, { 'grpc.service_config': '{nope' })).toThrow(/not valid JSON/);
    expect(() => new Echo('127.0.0.1:1', insecure, { 'grpc.service_config_disable_resolution': 2 })).toThrow('must be 0 or 1');
  });

  it('grpc.lb_policy_name round_robin spreads calls over the addresses (grpc-js ignores the option)', async () => {
    const counts = [0, 0];
    const servers = counts.map((_, i) => {
      const s = new grpc.Server();
      s.addService(Greeter.service, { SayHello: (_call: any, cb: any) => cb(null, { message: String(++counts[i]) }) });
      return s;
    });
    const ports = await Promise.all(servers.map((s) => bind(grpc, s)));
    const client = new Greeter(`ipv4:${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, insecure, { 'grpc.lb_policy_name': 'round_robin' });
    await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10_000, (e: Error | undefined) => (e ? reject(e) : resolve())));
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 10; i++) await new Promise((resolve) => client.sayHello({ name: 'lb' }, resolve));
    client.close();
    for (const s of servers) s.forceShutdown();
    expect(counts[0] + counts[1]).toBe(10);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(4);
  });

  it('options that turn off what tsgrpc does not have are accepted; turning them on is not', () => {
    expect(() => new Echo('127.0.0.1:1', insecure, { 'grpc.enable_retries': 0, 'grpc.enable_channelz': 0 }).close()).not.toThrow();
    expect(() => new Echo('127.0.0.1:1', insecure, { 'grpc.enable_channelz': 1 })).toThrow('grpc.enable_channelz');
  });

  it('a channel and call features it has no equivalent for', () => {
    expect(() => grpc.CallCredentials.createFromGoogleCredential({})).toThrow('needs a google-auth-library client');
    const client = new Echo('127.0.0.1:1', insecure);
    const cb = () => {};
    expect(() => client.unaryEcho({}, { credentials: {} }, cb)).toThrow('call credentials must be made by tsgrpc/grpc-js');
    expect(client.getChannel().getTarget()).toBe('127.0.0.1:1');
    client.close();
    const foreign = () => new grpcJs.Channel('127.0.0.1:1', grpcJs.credentials.createInsecure(), {});
    expect(() => new Echo('127.0.0.1:1', insecure, { channelFactoryOverride: foreign })).toThrow('channelFactoryOverride that makes a channel other than a tsgrpc/grpc-js Channel');
    expect(() => new Echo('127.0.0.1:1', insecure, { callInvocationTransformer: (p: unknown) => p })).toThrow('callInvocationTransformer');
  });

  it('TLS settings that cannot be mapped', () => {
    const pair = { private_key: Buffer.from('k'), cert_chain: Buffer.from('c') };
    expect(() => grpc.ServerCredentials.createSsl(null, [pair], true)).toThrow('checkClientCertificate without rootCerts');
    expect(() => new Echo('127.0.0.1:1', insecure, { 'grpc.ssl_target_name_override': 'x' })).toThrow('needs TLS credentials');
    const composed = grpcJs.credentials.combineChannelCredentials(
      grpcJs.credentials.createSsl(),
      grpcJs.credentials.createFromMetadataGenerator((_o, cb) => cb(null, new grpcJs.Metadata())),
    );
    expect(() => new Echo('127.0.0.1:1', composed)).toThrow('composed with call credentials');
  });

  it('option values of the wrong type', () => {
    expect(() => new Echo('127.0.0.1:1', insecure, { 'grpc.primary_user_agent': 7 })).toThrow('"grpc.primary_user_agent" must be a string');
    expect(() => new Echo('127.0.0.1:1', insecure, { 'grpc.secondary_user_agent': 'bad\nvalue' })).toThrow('userAgentSuffix must be a string of printable ASCII');
    expect(() => new Echo('127.0.0.1:1', insecure, { 'grpc.default_authority': 'has space' })).toThrow('authority must be a non-empty authority');
    expect(() => grpc.credentials.createSsl(null, null, null, { checkServerIdentity: 'no' as any })).toThrow('checkServerIdentity must be a function');
  });
});

describe('with a tsgrpc/grpc-js server', () => {
  let server: grpc.Server;
  let port: number;
  const seen: { metadata?: grpc.Metadata; cancelled: string[]; childStatus?: any } = { cancelled: [] };

  beforeAll(async () => {
    server = new grpc.Server({ 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip });
    server.addService(Echo.service, {
      UnaryEcho(call: any, callback: any) {
        seen.metadata = call.metadata;
        call.on('cancelled', () => seen.cancelled.push(call.request.message));
        if (call.request.message === 'parent') {
          // A child call inheriting this call's deadline and cancellation.
          const child = new Echo(`127.0.0.1:${port}`, insecure);
          child.unaryEcho({ message: 'child', sleep_ms: 5000 }, { parent: call }, (err: any) => {
            seen.childStatus = err;
            child.close();
          });
          return;
        }
        if (call.request.message === 'fail') return callback({ code: grpc.status.ABORTED, details: 'no' });
        if (call.request.message === 'throw') throw new Error('boom in handler');
        setTimeout(() => callback(null, { message: call.request.message, payload: call.request.payload }), call.request.sleep_ms);
      },
    });
    port = await bind(grpc, server);
  });
  afterAll(() => server.forceShutdown());

  it('grpc.service_config applies: its methodConfig timeout ends a slow call with DEADLINE_EXCEEDED', async () => {
    const config = JSON.stringify({ methodConfig: [{ name: [{ service: 'echo.Echo' }], timeout: '0.2s' }] });
    const echo = new Echo(`127.0.0.1:${port}`, insecure, { 'grpc.service_config': config, 'grpc.lb_policy_name': 'round_robin' });
    const { err } = await unary(echo, { message: 'slow', sleep_ms: 3000 });
    echo.close();
    expect(err?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
  });

  it('compresses responses with grpc.default_compression_algorithm (grpc-js servers ignore it)', async () => {
    const proxy = await byteCountingProxy(port);
    const payload = compressible(256 * 1024);
    const EchoJs = (grpcJs.loadPackageDefinition(echoDef).echo as any).Echo;
    const echo = new EchoJs(`127.0.0.1:${proxy.port}`, grpcJs.credentials.createInsecure());
    const { err, value } = await unary(echo, { message: 'z', payload });
    echo.close();
    proxy.close();
    expect(err).toBeNull();
    expect(Buffer.compare(value.payload, payload)).toBe(0);
    expect(proxy.down).toBeLessThan(payload.length / 10);
  });

  it('accepts Metadata and credentials made by @grpc/grpc-js (by shape, not instanceof)', async () => {
    const echo = new Echo(`127.0.0.1:${port}`, grpcJs.credentials.createInsecure());
    const md = new grpcJs.Metadata();
    md.set('x-from', 'grpc-js');
    const { err } = await unary(echo, { message: 'shape' }, md);
    echo.close();
    expect(err).toBeNull();
    expect(seen.metadata!.get('x-from')).toEqual(['grpc-js']);

    const other = new grpc.Server();
    other.addService(Echo.service, { UnaryEcho: (_c: any, cb: any) => cb(null, { message: 'ok' }) });
    const otherPort = await bind(grpc, other, '127.0.0.1:0', grpcJs.ServerCredentials.createInsecure());
    const client = new Echo(`127.0.0.1:${otherPort}`, insecure);
    expect((await unary(client, {})).value.message).toBe('ok');
    client.close();
    other.forceShutdown();
  });

  it('a handler that answered with an error is not reported as cancelled', async () => {
    const echo = new Echo(`127.0.0.1:${port}`, insecure);
    const { err } = await unary(echo, { message: 'fail' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    echo.close();
    expect(err.code).toBe(grpc.status.ABORTED);
    expect(seen.cancelled).not.toContain('fail');
  });

  it('CallOptions.parent: a child call inherits the deadline and the cancellation of its server call', async () => {
    const echo = new Echo(`127.0.0.1:${port}`, insecure);
    const { err } = await unary(echo, { message: 'parent' }, { deadline: Date.now() + 300 });
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    for (let i = 0; i < 100 && !seen.childStatus; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    // The child ends when the parent's deadline passes (its own deadline or the propagated cancellation).
    expect([grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED]).toContain(seen.childStatus.code);

    seen.childStatus = undefined;
    const call = echo.unaryEcho({ message: 'parent' }, () => {});
    setTimeout(() => call.cancel(), 200);
    for (let i = 0; i < 150 && !seen.childStatus; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    echo.close();
    expect(seen.childStatus.code).toBe(grpc.status.CANCELLED);
  });

  it('a throwing handler: UNKNOWN to the client, the exception to setLogger unless the verbosity is NONE', async () => {
    const lines: string[] = [];
    grpc.setLogger({ error: (msg: string) => lines.push(msg) });
    const echo = new Echo(`127.0.0.1:${port}`, insecure);
    try {
      const { err } = await unary(echo, { message: 'throw' });
      expect(err.code).toBe(grpc.status.UNKNOWN);
      expect(lines.join('\n')).toContain('boom in handler');
      grpc.setLogVerbosity(grpc.logVerbosity.NONE);
      lines.length = 0;
      await unary(echo, { message: 'throw' });
      expect(lines).toEqual([]);
    } finally {
      echo.close();
      grpc.setLogVerbosity(grpc.logVerbosity.ERROR);
      grpc.setLogger(console);
    }
  });

  it('start() warns that it is deprecated', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const s = new grpc.Server();
    await bind(grpc, s);
    s.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.off('warning', onWarning);
    s.forceShutdown();
    expect(warnings.some((m) => m.includes('start() is no longer necessary'))).toBe(true);
  });

  it('answers a greeter call from a real grpc-js client using the other module copy', async () => {
    const s = new grpc.Server();
    s.addService(Greeter.service, { sayHello: (call: any, cb: any) => cb(null, { message: `hi ${call.request.name}` }) });
    const p = await bind(grpc, s);
    const GreeterJs = (grpcJs.loadPackageDefinition(greeterDef).hello as any).Greeter;
    const client = new GreeterJs(`127.0.0.1:${p}`, grpcJs.credentials.createInsecure());
    const value = await new Promise<any>((resolve, reject) => client.sayHello({ name: 'js' }, (e: any, v: any) => (e ? reject(e) : resolve(v))));
    client.close();
    s.forceShutdown();
    expect(value).toEqual({ message: 'hi js' });
  });
});

describe('package export', () => {
  it('"tsgrpc/grpc-js" resolves through package.json exports to the built module, which serves and calls', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgrpc-export-'));
    try {
      // The package's own build (scripts/build-package.mjs), in a copy of the repo's sources.
      for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'scripts']) cpSync(path.join(ROOT, file), path.join(dir, file), { recursive: true });
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
      execFileSync(process.execPath, [path.join(dir, 'scripts/build-package.mjs')], { cwd: dir, stdio: 'pipe', timeout: 120_000 });
      // Our own proto, described by hand as grpc-js service objects, so the script needs no loader.
      writeFileSync(path.join(dir, 'check.mjs'), `
        import * as grpc from 'tsgrpc/grpc-js';
        const id = (b) => b;
        const service = { ping: { path: '/t.T/Ping', requestStream: false, responseStream: false,
          requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } };
        const server = new grpc.Server();
        server.addService(service, { ping: (call, cb) => cb(null, Buffer.concat([call.request, Buffer.from('!')])) });
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
          const Client = grpc.makeGenericClientConstructor(service, 'T');
          const client = new Client('127.0.0.1:' + port, grpc.credentials.createInsecure());
          client.ping(Buffer.from('pong'), (e, v) => { console.log(e ? e.message : v.toString()); client.close(); server.forceShutdown(); });
        });
      `);
      const out = execFileSync(process.execPath, ['check.mjs'], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
      expect(out.trim()).toBe('pong!');
      // And through require(), to the same classes the ES module entry re-exports.
      writeFileSync(path.join(dir, 'check.cjs'), `
        const viaRequire = require('tsgrpc/grpc-js');
        import('tsgrpc/grpc-js').then((viaImport) => console.log(viaImport.Server === viaRequire.Server && typeof viaRequire.Server));
      `);
      expect(execFileSync(process.execPath, ['check.cjs'], { cwd: dir, encoding: 'utf8', timeout: 20_000 }).trim()).toBe('function');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Server', () => {
  it('a path removed and added again with another call shape is refused by name', async () => {
    const server = new grpc.Server();
    const unaryService = { M: { ...Echo.service.UnaryEcho, path: '/x.Y/M' } };
    const streamService = { M: { ...Echo.service.ServerStreamingEcho, path: '/x.Y/M' } };
    server.addService(unaryService, { M: (_c: any, cb: any) => cb(null, {}) });
    await bind(grpc, server);
    server.removeService(unaryService);
    expect(() => server.addService(streamService, { M: (call: any) => call.end() })).toThrow('/x.Y/M was served as a unary method');
    server.forceShutdown();
  });
});

describe('interceptors', () => {
  it('an interceptor that changes the deadline it passes to nextCall fails the call loudly', async () => {
    const server = new grpc.Server();
    server.addService(Echo.service, { UnaryEcho: (call: any, cb: any) => cb(null, { message: call.request.message }) });
    const port = await bind(grpc, server);
    const shorten = (options: any, nextCall: any) => nextCall({ ...options, deadline: Date.now() + 1000 });
    const echo = new Echo(`127.0.0.1:${port}`, insecure, { interceptors: [shorten] });
    const { err } = await unary(echo, { message: 'x' });
    const keep = new Echo(`127.0.0.1:${port}`, insecure, { interceptors: [(options: any, nextCall: any) => nextCall({ ...options })] });
    const ok = await unary(keep, { message: 'kept' });
    echo.close();
    keep.close();
    server.forceShutdown();
    expect(err.code).toBe(grpc.status.INTERNAL);
    expect(err.details).toContain('changed CallOptions.deadline');
    expect(ok.value.message).toBe('kept');
  });
});

describe('TLS across implementations', () => {
  const pki = makeTestPki();
  const modules = { ours: grpc as any, grpcJs: grpcJs as any };
  for (const [serverName, serverMod] of Object.entries(modules)) {
    for (const [clientName, clientMod] of Object.entries(modules)) {
      if (serverName === clientName) continue;
      it(`mutual TLS: ${serverName} server, ${clientName} client`, async () => {
        const server = new serverMod.Server();
        server.addService(serverMod.loadPackageDefinition(greeterDef).hello.Greeter.service, {
          sayHello: (call: any, cb: any) => cb(null, { message: `${call.getAuthContext().sslPeerCertificate?.subject?.CN}` }),
        });
        const creds = serverMod.ServerCredentials.createSsl(pki.ca, [{ private_key: pki.serverKey, cert_chain: pki.serverCert }], true);
        const port = await bind(serverMod, server, '127.0.0.1:0', creds);
        const GreeterClient = clientMod.loadPackageDefinition(greeterDef).hello.Greeter;
        const client = new GreeterClient(`localhost:${port}`, clientMod.credentials.createSsl(pki.ca, pki.clientKey, pki.clientCert));
        const reply = await new Promise<any>((resolve) => client.sayHello({ name: 'x' }, (err: any, v: any) => resolve(err ?? v)));
        client.close();
        server.forceShutdown();
        expect(reply).toEqual({ message: 'client' });
      });
    }
  }

  it('TLS credentials made by @grpc/grpc-js (createSsl, createFromSecureContext, server createSsl) work in tsgrpc/grpc-js', async () => {
    const server = new grpc.Server();
    server.addService(Greeter.service, {
      sayHello: (call: any, cb: any) => cb(null, { message: `${call.getAuthContext().sslPeerCertificate?.subject?.CN}` }),
    });
    const serverCreds = grpcJs.ServerCredentials.createSsl(pki.ca, [{ private_key: pki.serverKey, cert_chain: pki.serverCert }], true);
    const port = await bind(grpc, server, '127.0.0.1:0', serverCreds);
    const hello = async (creds: unknown) => {
      const client = new Greeter(`localhost:${port}`, creds);
      const reply = await new Promise<any>((resolve) => client.sayHello({ name: 'x' }, (err: any, v: any) => resolve(err ?? v)));
      client.close();
      return reply;
    };
    expect(await hello(grpcJs.credentials.createSsl(pki.ca, pki.clientKey, pki.clientCert))).toEqual({ message: 'client' });
    const context = tls.createSecureContext({ ca: pki.ca, key: pki.clientKey, cert: pki.clientCert });
    const checked: string[] = [];
    const fromContext = grpcJs.credentials.createFromSecureContext(context, { checkServerIdentity: (host) => void checked.push(host) });
    expect(await hello(fromContext)).toEqual({ message: 'client' });
    expect(checked).toEqual(['localhost']);
    // Without a client certificate the server (requiring one) refuses.
    expect((await hello(grpcJs.credentials.createSsl(pki.ca))).code).toBe(grpc.status.UNAVAILABLE);
    server.forceShutdown();
  });
});
