// The grpc-js API surface outside calls (Metadata, credentials, constants, the
// server's lifecycle), checked the same way on @grpc/grpc-js and on tsgrpc/grpc-js.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpcJs from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import * as ours from '../src/grpc-js/index.js';
import { bind, echoDef, greeterDef, shutdown, type GrpcModule } from './support/grpcjs-compat-suite.js';
import { makeTestPki } from './support/test-ca.js';

const MODULES: Record<string, GrpcModule> = { '@grpc/grpc-js': grpcJs, 'tsgrpc/grpc-js': ours };
const pki = makeTestPki();
const tmp = mkdtempSync(path.join(tmpdir(), 'tsgrpc-compat-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sayHello(grpc: GrpcModule, address: string, name = 'x'): Promise<{ err: any; value?: any }> {
  const Greeter = grpc.loadPackageDefinition(greeterDef).hello.Greeter;
  const client = new Greeter(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.sayHello({ name }, (err: any, value: any) => {
      client.close();
      resolve({ err, value });
    });
  });
}

const greeterImpl = { sayHello: (call: any, cb: any) => cb(null, { message: `Hello ${call.request.name}` }) };

for (const [name, grpc] of Object.entries(MODULES)) {
  describe(name, () => {
    describe('Metadata', () => {
      it('set, add, get, getMap, remove, clone and merge', () => {
        const md = new grpc.Metadata();
        md.set('Key-One', 'a');
        md.add('key-one', 'b');
        md.set('data-bin', Buffer.from([1, 2]));
        expect(md.get('KEY-ONE')).toEqual(['a', 'b']);
        expect(md.getMap()).toEqual({ 'key-one': 'a', 'data-bin': Buffer.from([1, 2]) });
        const copy = md.clone();
        copy.add('key-one', 'c');
        expect(md.get('key-one')).toEqual(['a', 'b']);
        const other = new grpc.Metadata();
        other.add('key-one', 'z');
        other.add('extra', 'e');
        md.merge(other);
        expect(md.get('key-one')).toEqual(['a', 'b', 'z']);
        expect(md.get('extra')).toEqual(['e']);
        md.remove('Key-One');
        expect(md.get('key-one')).toEqual([]);
        expect(md.toJSON()).toEqual({ 'data-bin': [Buffer.from([1, 2])], extra: ['e'] });
      });

      it('validates keys and values with grpc-js messages', () => {
        const md = new grpc.Metadata();
        expect(() => md.set('bad key', 'v')).toThrow('Metadata key "bad key" contains illegal characters');
        expect(() => md.set('x-bin', 'text')).toThrow("keys that end with '-bin' must have Buffer values");
        expect(() => md.set('x', Buffer.from('b'))).toThrow("keys that don't end with '-bin' must have String values");
        expect(() => md.set('x', 'caf\u00e9')).toThrow('Metadata string value "caf\u00e9" contains illegal characters');
      });

      it('options: setOptions and getOptions', () => {
        const md = new grpc.Metadata({ idempotentRequest: true });
        expect(md.getOptions()).toEqual({ idempotentRequest: true });
        md.setOptions({ waitForReady: true });
        expect(md.getOptions()).toEqual({ waitForReady: true });
      });
    });

    it('constants have grpc-js names and numbers', () => {
      expect(grpc.status.UNAVAILABLE).toBe(14);
      expect(grpc.status[16]).toBe('UNAUTHENTICATED');
      expect(grpc.propagate.DEFAULTS).toBe(65535);
      expect(grpc.propagate.CANCELLATION).toBe(8);
      expect(grpc.compressionAlgorithms.gzip).toBe(2);
      expect(grpc.connectivityState.TRANSIENT_FAILURE).toBe(3);
      expect(grpc.logVerbosity.ERROR).toBe(2);
      expect(typeof grpc.setLogger).toBe('function');
      expect(typeof grpc.setLogVerbosity).toBe('function');
    });

    describe('credentials', () => {
      it('ServerCredentials.createSsl checks its arguments like grpc-js', () => {
        const sc = grpc.ServerCredentials;
        const pair = { private_key: pki.serverKey, cert_chain: pki.serverCert };
        expect(() => sc.createSsl('x' as any, [pair])).toThrow('rootCerts must be null or a Buffer');
        expect(() => sc.createSsl(null, {} as any)).toThrow('keyCertPairs must be an array');
        expect(() => sc.createSsl(null, [pair], 'yes' as any)).toThrow('checkClientCertificate must be a boolean');
        expect(() => sc.createSsl(null, [null as any])).toThrow('keyCertPair[0] must be an object');
        expect(() => sc.createSsl(null, [{ cert_chain: pair.cert_chain } as any])).toThrow('keyCertPair[0].private_key must be a Buffer');
        expect(() => sc.createSsl(null, [{ private_key: pair.private_key } as any])).toThrow('keyCertPair[0].cert_chain must be a Buffer');
        expect(sc.createSsl(null, [pair])._isSecure()).toBe(true);
        expect(sc.createInsecure()._isSecure()).toBe(false);
      });

      it('credentials.createSsl checks its arguments like grpc-js', () => {
        const c = grpc.credentials;
        expect(() => c.createSsl('x' as any)).toThrow('Root certificate, if provided, must be a Buffer.');
        expect(() => c.createSsl(null, Buffer.from('k'))).toThrow('Private key must be given with accompanying certificate chain');
        expect(() => c.createSsl(null, null, Buffer.from('c'))).toThrow('Certificate chain must be given with accompanying private key');
        expect(() => c.createInsecure().compose({} as any)).toThrow('Cannot compose insecure credentials');
      });
    });

    it('TLS: createSsl on both sides, with mutual authentication; getAuthContext shows the client certificate', async () => {
      const server = new grpc.Server();
      const auth: any[] = [];
      server.addService(grpc.loadPackageDefinition(greeterDef).hello.Greeter.service, {
        sayHello: (call: any, cb: any) => {
          auth.push(call.getAuthContext());
          greeterImpl.sayHello(call, cb);
        },
      });
      const creds = grpc.ServerCredentials.createSsl(pki.ca, [{ private_key: pki.serverKey, cert_chain: pki.serverCert }], true);
      const port = await bind(grpc, server, '127.0.0.1:0', creds);
      const Greeter = grpc.loadPackageDefinition(greeterDef).hello.Greeter;
      const call = (c: any) => new Promise<any>((resolve) => {
        const client = new Greeter(`localhost:${port}`, c);
        client.sayHello({ name: 'tls' }, (err: any, value: any) => {
          client.close();
          resolve({ err, value });
        });
      });
      const ok = await call(grpc.credentials.createSsl(pki.ca, pki.clientKey, pki.clientCert));
      expect(ok.err).toBeNull();
      expect(ok.value).toEqual({ message: 'Hello tls' });
      expect(auth[0].transportSecurityType).toBe('ssl');
      expect(auth[0].sslPeerCertificate.subject.CN).toBe('client');
      expect(Buffer.isBuffer(auth[0].sslPeerCertificate.raw)).toBe(true);
      const noClientCert = await call(grpc.credentials.createSsl(pki.ca));
      expect(noClientCert.err.code).toBe(grpc.status.UNAVAILABLE);
      server.forceShutdown();
    });

    describe('call credentials', () => {
      const authImpl = { sayHello: (call: any, cb: any) => cb(null, { message: String(call.metadata.get('authorization')[0] ?? 'none') }) };
      const bearer = (token: string) => grpc.credentials.createFromMetadataGenerator((params: any, callback: any) => {
        const md = new grpc.Metadata();
        md.set('authorization', `Bearer ${token} for ${params.service_url}`);
        callback(null, md);
      });

      it('composed into TLS channel credentials, per call, and a failing generator', async () => {
        const server = new grpc.Server();
        server.addService(grpc.loadPackageDefinition(greeterDef).hello.Greeter.service, authImpl);
        const creds = grpc.ServerCredentials.createSsl(null, [{ private_key: pki.serverKey, cert_chain: pki.serverCert }]);
        const port = await bind(grpc, server, '127.0.0.1:0', creds);
        const Greeter = grpc.loadPackageDefinition(greeterDef).hello.Greeter;
        const call = (client: any, options: object = {}) => new Promise<any>((resolve) => client.sayHello({ name: 'c' }, options, (err: any, v: any) => resolve(err ?? v)));
        const composed = grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(pki.ca), bearer('chan'));
        const client = new Greeter(`localhost:${port}`, composed);
        expect(await call(client)).toEqual({ message: 'Bearer chan for https://localhost/hello.Greeter' });
        const plainTls = new Greeter(`localhost:${port}`, grpc.credentials.createSsl(pki.ca));
        expect(await call(plainTls, { credentials: bearer('call') })).toEqual({ message: 'Bearer call for https://localhost/hello.Greeter' });
        const failing = grpc.credentials.createFromMetadataGenerator((_p: any, callback: any) => callback(new Error('no token today')));
        const err = await call(plainTls, { credentials: failing });
        expect(err.code).toBe(grpc.status.UNKNOWN);
        expect(err.details).toBe('Getting metadata from plugin failed with error: no token today');
        client.close();
        plainTls.close();
        server.forceShutdown();
        expect(() => grpc.credentials.createInsecure().compose(bearer('x'))).toThrow('Cannot compose insecure credentials');
      });
    });

    it('call credentials per call on a plaintext channel are sent, as grpc-js does', async () => {
      const server = new grpc.Server();
      server.addService(grpc.loadPackageDefinition(greeterDef).hello.Greeter.service, {
        sayHello: (call: any, cb: any) => cb(null, { message: `${call.metadata.get('authorization')[0]} ${JSON.stringify(call.getAuthContext())}` }),
      });
      const port = await bind(grpc, server);
      const Greeter = grpc.loadPackageDefinition(greeterDef).hello.Greeter;
      const client = new Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      const credentials = grpc.credentials.createFromMetadataGenerator((_p: any, callback: any) => {
        const md = new grpc.Metadata();
        md.set('authorization', 'Bearer plain');
        callback(null, md);
      });
      const reply = await new Promise<any>((resolve) => client.sayHello({}, { credentials }, (err: any, v: any) => resolve(err ?? v)));
      client.close();
      server.forceShutdown();
      expect(reply).toEqual({ message: 'Bearer plain {}' });
    });

    describe('connectivity', () => {
      const Greeter = () => grpc.loadPackageDefinition(greeterDef).hello.Greeter;
      async function freePort(): Promise<number> {
        const s = new grpc.Server();
        const port = await bind(grpc, s);
        s.forceShutdown();
        return port;
      }
      function startGreeter(port: number): Promise<any> {
        const server = new grpc.Server();
        server.addService(Greeter().service, greeterImpl);
        return bind(grpc, server, `127.0.0.1:${port}`).then(() => server);
      }

      it('waitForReady in Metadata options: a call waits for a server that comes up later; without it, it fails fast', async () => {
        const port = await freePort();
        const client = new (Greeter())(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 200 });
        const hello = (md: any) => new Promise<any>((resolve) => client.sayHello({ name: 'late' }, md, { deadline: Date.now() + 10_000 }, (err: any, v: any) => resolve(err ?? v)));
        const failFast = await hello(new grpc.Metadata());
        expect(failFast.code).toBe(grpc.status.UNAVAILABLE);
        const waiting = hello(new grpc.Metadata({ waitForReady: true }));
        await new Promise((resolve) => setTimeout(resolve, 300));
        const server = await startGreeter(port);
        expect(await waiting).toEqual({ message: 'Hello late' });
        client.close();
        server.forceShutdown();
      });

      it('Client.waitForReady, channel state and its watch', async () => {
        const port = await freePort();
        const client = new (Greeter())(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 200 });
        const channel = grpc.getClientChannel(client);
        expect(channel).toBe(client.getChannel());
        expect(channel.getConnectivityState(false)).toBe(grpc.connectivityState.IDLE);
        const early = await new Promise<any>((resolve) => client.waitForReady(Date.now() + 300, resolve));
        expect(early).toBeInstanceOf(Error);
        expect(early.message).toBe('Failed to connect before the deadline');
        const server = await startGreeter(port);
        const ready = await new Promise<any>((resolve) => grpc.waitForClientReady(client, Date.now() + 10_000, resolve));
        expect(ready).toBeUndefined();
        expect(channel.getConnectivityState(false)).toBe(grpc.connectivityState.READY);
        const unchanged = await new Promise<any>((resolve) => channel.watchConnectivityState(grpc.connectivityState.READY, Date.now() + 200, resolve));
        expect(unchanged.message).toBe('Deadline passed without connectivity state change');
        const changed = new Promise<any>((resolve) => channel.watchConnectivityState(grpc.connectivityState.READY, Date.now() + 10_000, resolve));
        grpc.closeClient(client);
        expect(await changed).toBeUndefined();
        expect(channel.getConnectivityState(false)).toBe(grpc.connectivityState.SHUTDOWN);
        expect(() => client.sayHello({ name: 'closed' }, () => {})).toThrow('Channel has been shut down');
        expect(() => channel.watchConnectivityState(grpc.connectivityState.SHUTDOWN, Date.now() + 100, () => {})).toThrow('Channel has been shut down');
        server.forceShutdown();
      });

      it('grpc.client_idle_timeout_ms: an unused channel goes back to IDLE', async () => {
        const server = new grpc.Server();
        server.addService(Greeter().service, greeterImpl);
        const port = await bind(grpc, server);
        const client = new (Greeter())(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.client_idle_timeout_ms': 1000 });
        await new Promise<any>((resolve) => client.sayHello({ name: 'idle' }, resolve));
        const channel = client.getChannel();
        expect(channel.getConnectivityState(false)).toBe(grpc.connectivityState.READY);
        let state = channel.getConnectivityState(false);
        for (let i = 0; i < 100 && state !== grpc.connectivityState.IDLE; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          state = channel.getConnectivityState(false);
        }
        client.close();
        server.forceShutdown();
        expect(state).toBe(grpc.connectivityState.IDLE);
      });

      it('grpc.max_connection_age_ms and grpc.max_connection_idle_ms on the server recycle connections; calls go on', async () => {
        for (const option of ['grpc.max_connection_age_ms', 'grpc.max_connection_idle_ms']) {
          const server = new grpc.Server({ [option]: 500 });
          server.addService(Greeter().service, greeterImpl);
          const port = await bind(grpc, server);
          const client = new (Greeter())(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
          const hello = () => new Promise<any>((resolve) => client.sayHello({ name: 'age' }, (err: any, v: any) => resolve(err ?? v)));
          expect(await hello()).toEqual({ message: 'Hello age' });
          const channel = client.getChannel();
          let state = channel.getConnectivityState(false);
          for (let i = 0; i < 100 && state === grpc.connectivityState.READY; i++) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            state = channel.getConnectivityState(false);
          }
          expect(state, option).not.toBe(grpc.connectivityState.READY);
          expect(await hello()).toEqual({ message: 'Hello age' });
          client.close();
          server.forceShutdown();
        }
      });

      it('keepalive options: calls work with client and server pings configured', async () => {
        const server = new grpc.Server({ 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000 });
        server.addService(Greeter().service, greeterImpl);
        const port = await bind(grpc, server);
        const client = new (Greeter())(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
          'grpc.keepalive_time_ms': 60_000, 'grpc.keepalive_timeout_ms': 5_000, 'grpc.keepalive_permit_without_calls': 0,
        });
        const reply = await new Promise<any>((resolve) => client.sayHello({ name: 'ka' }, (err: any, v: any) => resolve(err ?? v)));
        client.close();
        server.forceShutdown();
        expect(reply).toEqual({ message: 'Hello ka' });
      });
    });

    describe('Server', () => {
      it('bindAsync: port 0 gets a port, the same address again gets the same port, TCP and unix sockets', async () => {
        const server = new grpc.Server();
        server.addService(grpc.loadPackageDefinition(greeterDef).hello.Greeter.service, greeterImpl);
        const port = await bind(grpc, server, '127.0.0.1:0');
        expect(port).toBeGreaterThan(0);
        expect(await bind(grpc, server, `127.0.0.1:${port}`)).toBe(port);
        const socket = path.join(tmp, `${name.replace(/\W/g, '')}.sock`);
        await bind(grpc, server, `unix:${socket}`);
        expect((await sayHello(grpc, `127.0.0.1:${port}`, 'tcp')).value).toEqual({ message: 'Hello tcp' });
        expect((await sayHello(grpc, `unix:${socket}`, 'unix')).value).toEqual({ message: 'Hello unix' });
        await shutdown(server);
      });

      it('bindAsync: argument errors throw, a bad or busy port fails through the callback', async () => {
        const server = new grpc.Server();
        const creds = grpc.ServerCredentials.createInsecure();
        expect(() => server.bindAsync(50051 as any, creds, () => {})).toThrow('port must be a string');
        expect(() => server.bindAsync('127.0.0.1:0', {} as any, () => {})).toThrow('creds must be a ServerCredentials object');
        expect(() => server.bindAsync('127.0.0.1:0', creds, undefined as any)).toThrow('callback must be a function');
        await expect(bind(grpc, server, '127.0.0.1:99999')).rejects.toThrow();
        const busy = new grpc.Server();
        const port = await bind(grpc, busy, '127.0.0.1:0');
        await expect(bind(grpc, server, `127.0.0.1:${port}`)).rejects.toThrow();
        busy.forceShutdown();
        server.forceShutdown();
        expect(() => server.bindAsync('127.0.0.1:0', creds, () => {})).toThrow('bindAsync called after shutdown');
      });

      it('addService and removeService: argument checks, duplicates, and removed methods answer UNIMPLEMENTED', async () => {
        const server = new grpc.Server();
        const service = grpc.loadPackageDefinition(greeterDef).hello.Greeter.service;
        expect(() => server.addService(null as any, {})).toThrow('addService() requires two objects as arguments');
        expect(() => server.addService({}, {})).toThrow('Cannot add an empty service to a server');
        server.addService(service, greeterImpl);
        expect(() => server.addService(service, greeterImpl)).toThrow('Method handler for /hello.Greeter/SayHello already provided.');
        const port = await bind(grpc, server);
        expect((await sayHello(grpc, `127.0.0.1:${port}`)).err).toBeNull();
        server.removeService(service);
        expect((await sayHello(grpc, `127.0.0.1:${port}`)).err.code).toBe(grpc.status.UNIMPLEMENTED);
        server.addService(service, { sayHello: (_c: any, cb: any) => cb(null, { message: 'again' }) });
        expect((await sayHello(grpc, `127.0.0.1:${port}`)).value).toEqual({ message: 'again' });
        server.forceShutdown();
      });

      it('clients share a Channel through channelOverride', async () => {
        const server = new grpc.Server();
        server.addService(grpc.loadPackageDefinition(greeterDef).hello.Greeter.service, greeterImpl);
        const port = await bind(grpc, server);
        const channel = new grpc.Channel(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {});
        expect(channel.getTarget()).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}$`));
        const Greeter = grpc.loadPackageDefinition(greeterDef).hello.Greeter;
        const a = new Greeter('ignored:1', grpc.credentials.createInsecure(), { channelOverride: channel });
        const b = new Greeter('ignored:1', grpc.credentials.createInsecure(), { channelOverride: channel });
        expect(a.getChannel()).toBe(channel);
        const hello = (c: any, n: string) => new Promise<any>((resolve) => c.sayHello({ name: n }, (err: any, v: any) => resolve(err ?? v)));
        expect(await Promise.all([hello(a, 'a'), hello(b, 'b')])).toEqual([{ message: 'Hello a' }, { message: 'Hello b' }]);
        channel.close();
        server.forceShutdown();
      });

      it('start(): throws before any bind, is a harmless no-op after', async () => {
        const server = new grpc.Server();
        expect(() => server.start()).toThrow('server must be bound in order to start');
        server.addService(grpc.loadPackageDefinition(greeterDef).hello.Greeter.service, greeterImpl);
        const port = await bind(grpc, server);
        server.start();
        expect((await sayHello(grpc, `127.0.0.1:${port}`, 'started')).value).toEqual({ message: 'Hello started' });
        server.forceShutdown();
      });

      it('unbind stops accepting connections on that port; port 0 cannot be unbound or drained', async () => {
        const server = new grpc.Server();
        server.addService(grpc.loadPackageDefinition(greeterDef).hello.Greeter.service, greeterImpl);
        const port = await bind(grpc, server);
        expect(() => server.unbind('127.0.0.1:0')).toThrow('Cannot unbind port 0');
        expect(() => server.drain('127.0.0.1:0', 10)).toThrow('Cannot drain port 0');
        server.unbind(`127.0.0.1:${port}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        const { err } = await sayHello(grpc, `127.0.0.1:${port}`);
        expect(err.code).toBe(grpc.status.UNAVAILABLE);
        server.forceShutdown();
      });

      it('tryShutdown lets an in-flight call finish; forceShutdown cancels one', async () => {
        const echoService = grpc.loadPackageDefinition(echoDef).echo.Echo.service;
        const slow = { UnaryEcho: (call: any, cb: any) => setTimeout(() => cb(null, { message: call.request.message }), 300) };
        for (const mode of ['try', 'force'] as const) {
          const server = new grpc.Server();
          server.addService(echoService, slow);
          const port = await bind(grpc, server);
          const Echo = grpc.loadPackageDefinition(echoDef).echo.Echo;
          const client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
          const result = new Promise<any>((resolve) => client.unaryEcho({ message: mode }, (err: any, value: any) => resolve({ err, value })));
          await new Promise((resolve) => setTimeout(resolve, 100));
          let shutDown = false;
          if (mode === 'try') server.tryShutdown(() => (shutDown = true));
          else server.forceShutdown();
          const { err, value } = await result;
          client.close();
          if (mode === 'try') {
            expect(err).toBeNull();
            expect(value).toMatchObject({ message: 'try' });
            for (let i = 0; i < 100 && !shutDown; i++) await new Promise((resolve) => setTimeout(resolve, 20));
            expect(shutDown).toBe(true);
          } else {
            // grpc-js's client reports CANCELLED (the server's GOAWAY says CANCEL), tsgrpc's UNAVAILABLE
            // (the connection is gone); see docs/migrating-from-grpc-js.md.
            expect([grpc.status.CANCELLED, grpc.status.UNAVAILABLE]).toContain(err.code);
          }
        }
      });
    });
  });
}
