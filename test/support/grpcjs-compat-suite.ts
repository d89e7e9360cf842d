// The grpc-js compatibility suite: scenarios in the spirit of grpc-node's
// published examples (helloworld with dynamic and static code, route guide,
// metadata, error handling, deadline, cancellation, compression), written
// against the grpc-js API only. It runs once per pairing of server module and
// client module, each either @grpc/grpc-js or tsgrpc/grpc-js, so whatever
// passes on grpc-js must pass on ours and across the two.
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greeterGrpcPb, HelloReply, HelloRequest } from './greeter-grpc-pb.js';
import { byteCountingProxy, compressible } from './grpcjs-probe.js';

/** A grpc module under test: @grpc/grpc-js or tsgrpc/grpc-js, used only through grpc-js's API. */
export type GrpcModule = any;

const FIXTURES = path.join(import.meta.dirname, '../fixtures/compat');
const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
export const greeterDef = protoLoader.loadSync(path.join(FIXTURES, 'greeter.proto'), LOADER_OPTIONS);
export const routesDef = protoLoader.loadSync(path.join(FIXTURES, 'routes.proto'), LOADER_OPTIONS);
export const echoDef = protoLoader.loadSync(path.join(FIXTURES, 'echo.proto'), LOADER_OPTIONS);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function bind(grpc: GrpcModule, server: any, address = '127.0.0.1:0', creds = grpc.ServerCredentials.createInsecure()): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, creds, (err: Error | null, port: number) => (err ? reject(err) : resolve(port)));
  });
}

export function shutdown(server: any): Promise<void> {
  return new Promise((resolve) => server.tryShutdown(() => resolve()));
}

/** Resolves with the callback's (err, value), for unary and client-streaming calls. */
function settle<T>(start: (cb: (err: any, value?: T) => void) => unknown): Promise<{ err: any; value?: T }> {
  return new Promise((resolve) => {
    start((err, value) => resolve({ err, value }));
  });
}

/** Everything a response stream reports: data, the error (if any), the status, and whether it ended. */
function collect(call: any): Promise<{ data: any[]; error?: any; status: any; metadata?: any }> {
  return new Promise((resolve) => {
    const out: { data: any[]; error?: any; status?: any; metadata?: any; ended?: boolean } = { data: [] };
    call.on('metadata', (md: any) => (out.metadata = md));
    call.on('data', (d: any) => out.data.push(d));
    call.on('error', (e: any) => (out.error = e));
    call.on('status', (s: any) => {
      out.status = s;
      // 'status' may come before the buffered data is read; let it drain.
      setTimeout(() => resolve(out as any), 50);
    });
  });
}

// ---------- the echo service, with its behaviour knobs ----------

/** A google.rpc.Status {code: 3, message: "rich"}, as rich-error libraries put in grpc-status-details-bin. */
const RICH_DETAILS = Buffer.from([0x08, 0x03, 0x12, 0x04, 0x72, 0x69, 0x63, 0x68]);

function echoImplementation(grpc: GrpcModule, seen: { cancelled: string[]; metadata: any[]; deadlines: unknown[] }) {
  const fail = (req: any) => ({ code: req.fail_code, details: `failed: ${req.message}`, metadata: trailerMd(grpc, 'x-err', 'why') });
  const watch = (call: any, name: string) => call.on('cancelled', () => seen.cancelled.push(name));
  return {
    UnaryEcho(call: any, callback: any) {
      seen.metadata.push(call.metadata);
      seen.deadlines.push(call.getDeadline());
      watch(call, 'unary');
      const req = call.request;
      if (req.message === 'throw') throw new Error('handler blew up');
      if (req.message === 'plain-error') return callback(new Error('plain error text'));
      if (req.message === 'rich') {
        const md = new grpc.Metadata();
        md.set('grpc-status-details-bin', RICH_DETAILS);
        md.set('x-why', 'rich');
        return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'rich error', metadata: md });
      }
      const header = new grpc.Metadata();
      header.set('x-hdr', 'h');
      call.sendMetadata(header);
      setTimeout(() => {
        if (req.fail_code) return callback(fail(req));
        callback(null, { message: req.message, payload: req.payload }, trailerMd(grpc, 'x-trl', 't'));
      }, req.sleep_ms);
    },
    ServerStreamingEcho(call: any) {
      seen.metadata.push(call.metadata);
      watch(call, 'serverStream');
      const req = call.request;
      const header = new grpc.Metadata();
      header.set('x-hdr', 'h');
      call.sendMetadata(header);
      let i = 0;
      const next = () => {
        if (call.cancelled) return;
        if (i < req.repeat) {
          call.write({ message: `${req.message}#${i++}`, payload: req.payload });
          setTimeout(next, req.sleep_ms);
        } else if (req.fail_code) {
          call.emit('error', fail(req));
        } else {
          call.end(trailerMd(grpc, 'x-trl', 't'));
        }
      };
      next();
    },
    ClientStreamingEcho(call: any, callback: any) {
      seen.metadata.push(call.metadata);
      watch(call, 'clientStream');
      const messages: string[] = [];
      let failing: any;
      call.on('data', (req: any) => {
        messages.push(req.message);
        if (req.fail_code) failing = req;
      });
      call.on('end', () => {
        if (failing) callback(fail(failing));
        else callback(null, { message: messages.join(',') }, trailerMd(grpc, 'x-trl', 't'));
      });
    },
    BidirectionalStreamingEcho(call: any) {
      seen.metadata.push(call.metadata);
      watch(call, 'bidi');
      call.on('data', (req: any) => {
        if (req.fail_code) return call.emit('error', fail(req));
        call.write({ message: `echo:${req.message}`, payload: req.payload });
      });
      call.on('end', () => call.end(trailerMd(grpc, 'x-trl', 't')));
    },
  };
}

function trailerMd(grpc: GrpcModule, key: string, value: string): any {
  const md = new grpc.Metadata();
  md.set(key, value);
  md.set(`${key}-bin`, Buffer.from([0, 1, 2, 255]));
  return md;
}

// ---------- route guide ----------

const FEATURES = [
  { name: 'Harbour', location: { latitude: 10, longitude: 10 } },
  { name: 'Lighthouse', location: { latitude: 20, longitude: 30 } },
  { name: 'Old mill', location: { latitude: 35, longitude: 5 } },
];

function routeGuideImplementation() {
  const notes = new Map<string, any[]>();
  const key = (p: any) => `${p.latitude},${p.longitude}`;
  const find = (p: any) => FEATURES.find((f) => key(f.location) === key(p));
  return {
    getFeature(call: any, callback: any) {
      callback(null, find(call.request) ?? { name: '', location: call.request });
    },
    listFeatures(call: any) {
      const { lo, hi } = call.request;
      for (const f of FEATURES) {
        const { latitude: la, longitude: lo2 } = f.location;
        if (la >= lo.latitude && la <= hi.latitude && lo2 >= lo.longitude && lo2 <= hi.longitude) call.write(f);
      }
      call.end();
    },
    recordRoute(call: any, callback: any) {
      let points = 0;
      let features = 0;
      let distance = 0;
      let last: any;
      call.on('data', (p: any) => {
        points++;
        if (find(p)) features++;
        if (last) distance += Math.abs(p.latitude - last.latitude) + Math.abs(p.longitude - last.longitude);
        last = p;
      });
      call.on('end', () => callback(null, { point_count: points, feature_count: features, distance, elapsed_time: 0 }));
    },
    routeChat(call: any) {
      call.on('data', (note: any) => {
        const k = key(note.location);
        for (const earlier of notes.get(k) ?? []) call.write(earlier);
        notes.set(k, [...(notes.get(k) ?? []), note]);
      });
      call.on('end', () => call.end());
    },
  };
}

// ---------- the suite ----------

export function compatSuite(serverGrpc: GrpcModule, clientGrpc: GrpcModule): void {
  const serverPkg = {
    hello: serverGrpc.loadPackageDefinition(greeterDef).hello,
    routes: serverGrpc.loadPackageDefinition(routesDef).routes,
    echo: serverGrpc.loadPackageDefinition(echoDef).echo,
  };
  const clientPkg = {
    hello: clientGrpc.loadPackageDefinition(greeterDef).hello,
    routes: clientGrpc.loadPackageDefinition(routesDef).routes,
    echo: clientGrpc.loadPackageDefinition(echoDef).echo,
  };
  const serverStatic = greeterGrpcPb(serverGrpc);
  const clientStatic = greeterGrpcPb(clientGrpc);
  const status = clientGrpc.status;
  const seen = { cancelled: [] as string[], metadata: [] as any[], deadlines: [] as unknown[] };
  let server: any;
  let port: number;
  let address: string;
  const clients: any[] = [];
  const client = (Ctor: any, options?: object) => {
    const c = new Ctor(address, clientGrpc.credentials.createInsecure(), options);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = new serverGrpc.Server();
    server.addService(serverPkg.hello.Greeter.service, {
      SayHello: (call: any, callback: any) => callback(null, { message: `Hello ${call.request.name}` }),
    });
    server.addService(serverPkg.routes.RouteGuide.service, routeGuideImplementation());
    server.addService(serverPkg.echo.Echo.service, echoImplementation(serverGrpc, seen));
    port = await bind(serverGrpc, server);
    address = `127.0.0.1:${port}`;
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    server?.forceShutdown();
  });

  describe('helloworld', () => {
    it('dynamic codegen: proto-loader + loadPackageDefinition, with every argument overload', async () => {
      const greeter = client(clientPkg.hello.Greeter);
      expect(clientPkg.hello.Greeter.serviceName).toBe('Greeter');
      const md = new clientGrpc.Metadata();
      const deadline = Date.now() + 10_000;
      const results = await Promise.all([
        settle((cb) => greeter.sayHello({ name: 'a' }, cb)),
        settle((cb) => greeter.SayHello({ name: 'b' }, md, cb)),
        settle((cb) => greeter.sayHello({ name: 'c' }, { deadline }, cb)),
        settle((cb) => greeter.sayHello({ name: 'd' }, md, { deadline: new Date(deadline) }, cb)),
      ]);
      expect(results.map((r) => r.err)).toEqual([null, null, null, null]);
      expect(results.map((r) => r.value)).toEqual(['a', 'b', 'c', 'd'].map((n) => ({ message: `Hello ${n}` })));
      expect(() => greeter.sayHello({ name: 'x' }, md, {})).toThrow('Incorrect arguments passed');
    });

    it('static codegen: a grpc-tools style service object and generic client, message classes on both sides', async () => {
      const s = new serverGrpc.Server();
      s.addService(serverStatic.GreeterService, {
        sayHello: (call: any, callback: any) => callback(null, new HelloReply().setMessage(`Hello ${call.request.getName()}`)),
      });
      const p = await bind(serverGrpc, s);
      const greeter = new clientStatic.GreeterClient(`127.0.0.1:${p}`, clientGrpc.credentials.createInsecure());
      const { err, value } = await settle<HelloReply>((cb) => greeter.sayHello(new HelloRequest().setName('static'), cb));
      greeter.close();
      await shutdown(s);
      expect(err).toBeNull();
      expect(value).toBeInstanceOf(HelloReply);
      expect(value!.getMessage()).toBe('Hello static');
    });
  });

  describe('route guide', () => {
    it('unary: GetFeature finds a feature, or answers an empty one', async () => {
      const guide = client(clientPkg.routes.RouteGuide);
      const found = await settle((cb) => guide.getFeature({ latitude: 20, longitude: 30 }, cb));
      const missing = await settle((cb) => guide.getFeature({ latitude: 1, longitude: 1 }, cb));
      expect(found.value).toEqual(FEATURES[1]);
      expect(missing.value).toEqual({ name: '', location: { latitude: 1, longitude: 1 } });
    });

    it('server streaming: ListFeatures as a Readable with data, end and status', async () => {
      const guide = client(clientPkg.routes.RouteGuide);
      const call = guide.listFeatures({ lo: { latitude: 0, longitude: 0 }, hi: { latitude: 25, longitude: 40 } });
      const ended = new Promise<void>((resolve) => call.on('end', resolve));
      const out = await collect(call);
      await ended;
      expect(out.data).toEqual([FEATURES[0], FEATURES[1]]);
      expect(out.error).toBeUndefined();
      expect(out.status.code).toBe(status.OK);
    });

    it('client streaming: RecordRoute as a Writable, int64 as string per the loader options', async () => {
      const guide = client(clientPkg.routes.RouteGuide);
      const result = settle<any>((cb) => {
        const call = guide.recordRoute(cb);
        for (const p of [{ latitude: 10, longitude: 10 }, { latitude: 12, longitude: 10 }, { latitude: 20, longitude: 30 }]) call.write(p);
        call.end();
      });
      const { err, value } = await result;
      expect(err).toBeNull();
      expect(value).toEqual({ point_count: 3, feature_count: 2, distance: '30', elapsed_time: 0 });
    });

    it('bidi streaming: RouteChat as a Duplex', async () => {
      const guide = client(clientPkg.routes.RouteGuide);
      const call = guide.routeChat();
      const out = collect(call);
      const here = { latitude: 1, longitude: 2 };
      for (const message of ['first', 'second', 'third']) call.write({ location: here, message });
      call.end();
      const { data, status: st } = await out;
      expect(st.code).toBe(status.OK);
      expect(data.map((n: any) => n.message)).toEqual(['first', 'first', 'second']);
    });
  });

  describe('metadata', () => {
    const requestMd = () => {
      const md = new clientGrpc.Metadata();
      md.add('x-ascii', 'a1');
      md.add('x-ascii', 'a2');
      md.set('x-data-bin', Buffer.from([0xde, 0xad, 0, 0xff]));
      return md;
    };
    const checkSent = () => {
      const md = seen.metadata.at(-1);
      // grpc-js's server joins repeated headers into one value; tsgrpc keeps them apart.
      expect(md.get('x-ascii').join(', ')).toBe('a1, a2');
      expect(md.get('x-data-bin')).toEqual([Buffer.from([0xde, 0xad, 0, 0xff])]);
    };
    const checkTrailers = (md: any) => {
      expect(md.get('x-trl')).toEqual(['t']);
      expect(md.get('x-trl-bin')).toEqual([Buffer.from([0, 1, 2, 255])]);
    };

    it('unary: request metadata, header metadata event, trailers on the status', async () => {
      const echo = client(clientPkg.echo.Echo);
      let header: any;
      let st: any;
      const { err, value } = await settle<any>((cb) => {
        const call = echo.unaryEcho({ message: 'md' }, requestMd(), cb);
        call.on('metadata', (md: any) => (header = md));
        call.on('status', (s: any) => (st = s));
      });
      await sleep(20);
      expect(err).toBeNull();
      expect(value.message).toBe('md');
      checkSent();
      expect(header.get('x-hdr')).toEqual(['h']);
      expect(st.code).toBe(status.OK);
      checkTrailers(st.metadata);
    });

    it('server streaming: headers from sendMetadata, trailers from end(metadata)', async () => {
      const echo = client(clientPkg.echo.Echo);
      const out = await collect(echo.serverStreamingEcho({ message: 's', repeat: 2 }, requestMd()));
      checkSent();
      expect(out.data.map((d: any) => d.message)).toEqual(['s#0', 's#1']);
      expect(out.metadata.get('x-hdr')).toEqual(['h']);
      checkTrailers(out.status.metadata);
    });

    it('client streaming and bidi: trailers from the callback and from end(metadata)', async () => {
      const echo = client(clientPkg.echo.Echo);
      let st: any;
      const { value } = await settle<any>((cb) => {
        const call = echo.clientStreamingEcho(requestMd(), cb);
        call.on('status', (s: any) => (st = s));
        call.write({ message: 'x' });
        call.write({ message: 'y' });
        call.end();
      });
      await sleep(20);
      checkSent();
      expect(value.message).toBe('x,y');
      checkTrailers(st.metadata);

      const bidi = echo.bidirectionalStreamingEcho(requestMd());
      const out = collect(bidi);
      bidi.write({ message: 'q' });
      bidi.end();
      const { data, status: bst } = await out;
      checkSent();
      expect(data.map((d: any) => d.message)).toEqual(['echo:q']);
      checkTrailers(bst.metadata);
    });
  });

  describe('error handling', () => {
    it('unary: a {code, details, metadata} object becomes a ServiceError with grpc-js message text', async () => {
      const echo = client(clientPkg.echo.Echo);
      const { err } = await settle((cb) => echo.unaryEcho({ message: 'no', fail_code: status.INVALID_ARGUMENT }, cb));
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toBe('failed: no');
      expect(err.message).toBe('3 INVALID_ARGUMENT: failed: no');
      expect(err.metadata.get('x-err')).toEqual(['why']);
      expect(err.metadata.get('x-err-bin')).toEqual([Buffer.from([0, 1, 2, 255])]);
    });

    it('unary: a plain Error is UNKNOWN with its message; a throwing handler is UNKNOWN', async () => {
      const echo = client(clientPkg.echo.Echo);
      const plainErr = await settle((cb) => echo.unaryEcho({ message: 'plain-error' }, cb));
      expect(plainErr.err.code).toBe(status.UNKNOWN);
      expect(plainErr.err.details).toBe('plain error text');
      const thrown = await settle((cb) => echo.unaryEcho({ message: 'throw' }, cb));
      expect(thrown.err.code).toBe(status.UNKNOWN);
    });

    it('rich error details: grpc-status-details-bin set by the handler reaches the client in err.metadata', async () => {
      const echo = client(clientPkg.echo.Echo);
      const { err } = await settle((cb) => echo.unaryEcho({ message: 'rich' }, cb));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.metadata.get('x-why')).toEqual(['rich']);
      expect(err.metadata.get('grpc-status-details-bin')).toEqual([RICH_DETAILS]);
    });

    it('streams: messages before the error arrive, then error, then status', async () => {
      const echo = client(clientPkg.echo.Echo);
      const out = await collect(echo.serverStreamingEcho({ message: 'e', repeat: 2, fail_code: status.NOT_FOUND }));
      expect(out.data.map((d: any) => d.message)).toEqual(['e#0', 'e#1']);
      expect(out.error.code).toBe(status.NOT_FOUND);
      expect(out.error.message).toBe('5 NOT_FOUND: failed: e');
      expect(out.status.code).toBe(status.NOT_FOUND);
      expect(out.status.metadata.get('x-err')).toEqual(['why']);

      const bidi = echo.bidirectionalStreamingEcho();
      const result = collect(bidi);
      bidi.write({ message: 'a' });
      bidi.write({ message: 'b', fail_code: status.ABORTED });
      const b = await result;
      expect(b.data.map((d: any) => d.message)).toEqual(['echo:a']);
      expect(b.error.code).toBe(status.ABORTED);
      bidi.end();
    });

    it('client streaming: the error from the callback', async () => {
      const echo = client(clientPkg.echo.Echo);
      const { err } = await settle((cb) => {
        const call = echo.clientStreamingEcho(cb);
        call.write({ message: 'a' });
        call.write({ message: 'b', fail_code: status.OUT_OF_RANGE });
        call.end();
      });
      expect(err.code).toBe(status.OUT_OF_RANGE);
      expect(err.details).toBe('failed: b');
    });

    it('a method the implementation leaves out answers UNIMPLEMENTED', async () => {
      const s = new serverGrpc.Server();
      s.addService(serverPkg.routes.RouteGuide.service, { getFeature: (_c: any, cb: any) => cb(null, {}) });
      const p = await bind(serverGrpc, s);
      const guide = new clientPkg.routes.RouteGuide(`127.0.0.1:${p}`, clientGrpc.credentials.createInsecure());
      const unary = await settle((cb) => guide.recordRoute(cb).end());
      const stream = await collect(guide.listFeatures({ lo: {}, hi: {} }));
      guide.close();
      s.forceShutdown();
      expect(unary.err.code).toBe(status.UNIMPLEMENTED);
      expect(stream.error.code).toBe(status.UNIMPLEMENTED);
    });
  });

  describe('deadline', () => {
    it('a call past its deadline fails DEADLINE_EXCEEDED "Deadline exceeded"; the server saw the deadline', async () => {
      const echo = client(clientPkg.echo.Echo);
      const before = seen.deadlines.length;
      const deadline = new Date(Date.now() + 300);
      const { err } = await settle((cb) => echo.unaryEcho({ message: 'slow', sleep_ms: 3000 }, { deadline }, cb));
      expect(err.code).toBe(status.DEADLINE_EXCEEDED);
      expect(err.details).toMatch(/^Deadline exceeded/);
      expect(err.message).toMatch(/^4 DEADLINE_EXCEEDED: Deadline exceeded/);
      // grpc-js hands the server its deadline as milliseconds since the epoch.
      const serverDeadline = seen.deadlines[before];
      expect(typeof serverDeadline).toBe('number');
      expect(Math.abs((serverDeadline as number) - deadline.getTime())).toBeLessThan(2000);
    });

    it('a call without a deadline shows Infinity on the server', async () => {
      const echo = client(clientPkg.echo.Echo);
      const before = seen.deadlines.length;
      await settle((cb) => echo.unaryEcho({ message: 'x' }, cb));
      expect(seen.deadlines[before]).toBe(Infinity);
    });
  });

  describe('cancellation', () => {
    it('cancel() on a server stream: CANCELLED "Cancelled on client" and the handler sees "cancelled"', async () => {
      const echo = client(clientPkg.echo.Echo);
      const call = echo.serverStreamingEcho({ message: 'c', repeat: 1000, sleep_ms: 20 });
      call.once('data', () => call.cancel());
      const out = await collect(call);
      expect(out.error.code).toBe(status.CANCELLED);
      expect(out.error.details).toBe('Cancelled on client');
      expect(out.status.code).toBe(status.CANCELLED);
      for (let i = 0; i < 100 && !seen.cancelled.includes('serverStream'); i++) await sleep(20);
      expect(seen.cancelled).toContain('serverStream');
    });

    it('cancel() on a unary call and on a bidi call', async () => {
      const echo = client(clientPkg.echo.Echo);
      const unary = settle((cb) => {
        const call = echo.unaryEcho({ message: 'slow', sleep_ms: 3000 }, cb);
        setTimeout(() => call.cancel(), 100);
      });
      const { err } = await unary;
      expect(err.code).toBe(status.CANCELLED);
      expect(err.details).toBe('Cancelled on client');

      const bidi = echo.bidirectionalStreamingEcho();
      const out = collect(bidi);
      bidi.write({ message: 'one' });
      bidi.once('data', () => bidi.cancel());
      const b = await out;
      expect(b.data.map((d: any) => d.message)).toEqual(['echo:one']);
      expect(b.error.code).toBe(status.CANCELLED);
      for (let i = 0; i < 100 && !seen.cancelled.includes('bidi'); i++) await sleep(20);
      expect(seen.cancelled).toContain('bidi');
    });
  });

  describe('compression', () => {
    it('grpc.default_compression_algorithm = gzip on the client compresses requests on the wire', async () => {
      const proxy = await byteCountingProxy(port);
      const payload = compressible(256 * 1024);
      const echo = new clientPkg.echo.Echo(`127.0.0.1:${proxy.port}`, clientGrpc.credentials.createInsecure(), {
        'grpc.default_compression_algorithm': clientGrpc.compressionAlgorithms.gzip,
      });
      const { err, value } = await settle<any>((cb) => echo.unaryEcho({ message: 'z', payload }, cb));
      echo.close();
      proxy.close();
      expect(err).toBeNull();
      expect(Buffer.compare(value.payload, payload)).toBe(0);
      expect(proxy.up).toBeLessThan(payload.length / 10);
    });

    // grpc-js's server accepts this option but never compresses responses; tsgrpc's does
    // (checked on the wire in grpcjs-compat-only.test.ts). Here: the messages arrive intact.
    it('grpc.default_compression_algorithm on the server: responses arrive intact', async () => {
      const s = new serverGrpc.Server({ 'grpc.default_compression_algorithm': serverGrpc.compressionAlgorithms.gzip });
      s.addService(serverPkg.echo.Echo.service, echoImplementation(serverGrpc, { cancelled: [], metadata: [], deadlines: [] }));
      const p = await bind(serverGrpc, s);
      const proxy = await byteCountingProxy(p);
      const payload = compressible(256 * 1024);
      const echo = new clientPkg.echo.Echo(`127.0.0.1:${proxy.port}`, clientGrpc.credentials.createInsecure());
      const out = await collect(echo.serverStreamingEcho({ message: 'z', repeat: 2, payload }));
      echo.close();
      proxy.close();
      s.forceShutdown();
      expect(out.status.code).toBe(status.OK);
      expect(out.data.map((d: any) => Buffer.compare(d.payload, payload))).toEqual([0, 0]);
    });
  });

  describe('interceptors', () => {
    const TOKEN = 'Bearer s3cret';
    // Server side: an auth check that refuses calls without the token, and one that tags every response.
    const authInterceptor = (_method: any, call: any) => new serverGrpc.ServerInterceptingCall(call, new serverGrpc.ResponderBuilder()
      .withStart((next: any) => next(new serverGrpc.ServerListenerBuilder()
        .withOnReceiveMetadata((md: any, nextMd: any) => {
          if (md.get('authorization')[0] === TOKEN) nextMd(md);
          else call.sendStatus({ code: serverGrpc.status.UNAUTHENTICATED, details: 'Auth token is invalid' });
        })
        .build()))
      .build());
    const tagInterceptor = (_method: any, call: any) => new serverGrpc.ServerInterceptingCall(call, {
      sendMetadata(md: any, next: any) {
        md.set('x-tagged', 'yes');
        next(md);
      },
      sendMessage(message: any, next: any) {
        next({ ...message, message: `${message.message}!` });
      },
    });
    // Client side: one adds the token, one records what comes back.
    const seenByClient: string[] = [];
    const tokenInterceptor = (options: any, nextCall: any) => new clientGrpc.InterceptingCall(nextCall(options), new clientGrpc.RequesterBuilder()
      .withStart((md: any, listener: any, next: any) => {
        md.set('authorization', TOKEN);
        next(md, listener);
      })
      .build());
    const recordInterceptor = (options: any, nextCall: any) => new clientGrpc.InterceptingCall(nextCall(options), {
      start(md: any, listener: any, next: any) {
        next(md, new clientGrpc.ListenerBuilder()
          .withOnReceiveMetadata((m: any, n: any) => {
            seenByClient.push(`metadata:${m.get('x-tagged')[0]}`);
            n(m);
          })
          .withOnReceiveMessage((m: any, n: any) => {
            seenByClient.push(`message:${m?.message}`);
            n(m);
          })
          .withOnReceiveStatus((st: any, n: any) => {
            seenByClient.push(`status:${st.code}`);
            n(st);
          })
          .build());
      },
    });
    let guarded: any;
    let guardedAddress: string;
    beforeAll(async () => {
      guarded = new serverGrpc.Server({ interceptors: [authInterceptor, tagInterceptor] });
      guarded.addService(serverPkg.echo.Echo.service, echoImplementation(serverGrpc, { cancelled: [], metadata: [], deadlines: [] }));
      guardedAddress = `127.0.0.1:${await bind(serverGrpc, guarded)}`;
    });
    afterAll(() => guarded?.forceShutdown());

    it('a server interceptor refuses a call without credentials; client interceptors add them and see the response', async () => {
      const bare = new clientPkg.echo.Echo(guardedAddress, clientGrpc.credentials.createInsecure());
      const refused = await settle((cb) => bare.unaryEcho({ message: 'x' }, cb));
      bare.close();
      expect(refused.err.code).toBe(status.UNAUTHENTICATED);
      expect(refused.err.details).toBe('Auth token is invalid');

      const echo = new clientPkg.echo.Echo(guardedAddress, clientGrpc.credentials.createInsecure(), { interceptors: [tokenInterceptor, recordInterceptor] });
      seenByClient.length = 0;
      const { err, value } = await settle<any>((cb) => echo.unaryEcho({ message: 'in' }, cb));
      expect(err).toBeNull();
      expect(value.message).toBe('in!');
      expect(seenByClient).toEqual(['metadata:yes', 'message:in!', `status:${status.OK}`]);

      // Interceptors given on the call replace the client's.
      const perCall = await settle<any>((cb) => echo.unaryEcho({ message: 'call' }, { interceptors: [recordInterceptor] }, cb));
      expect(perCall.err.code).toBe(status.UNAUTHENTICATED);
      echo.close();
    });

    it('interceptors on streams: every message passes through them', async () => {
      const echo = new clientPkg.echo.Echo(guardedAddress, clientGrpc.credentials.createInsecure(), { interceptors: [tokenInterceptor] });
      const call = echo.bidirectionalStreamingEcho();
      const out = collect(call);
      call.write({ message: 'a' });
      call.write({ message: 'b' });
      call.end();
      const { data, status: st } = await out;
      echo.close();
      expect(st.code).toBe(status.OK);
      expect(data.map((d: any) => d.message)).toEqual(['echo:a!', 'echo:b!']);
    });
  });

  describe('message size limits', () => {
    it('grpc.max_receive_message_length on the client fails a large response RESOURCE_EXHAUSTED', async () => {
      const echo = client(clientPkg.echo.Echo, { 'grpc.max_receive_message_length': 1024 });
      const { err } = await settle((cb) => echo.unaryEcho({ message: 'big', payload: Buffer.alloc(4096, 1) }, cb));
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    });

    it('grpc.max_send_message_length on the client refuses a large request RESOURCE_EXHAUSTED', async () => {
      const echo = client(clientPkg.echo.Echo, { 'grpc.max_send_message_length': 1024 });
      const { err } = await settle((cb) => echo.unaryEcho({ message: 'big', payload: Buffer.alloc(4096, 1) }, cb));
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    });
  });
}
