// A TestService on @grpc/grpc-js, a second reference server for our client.
// It uses protobufjs directly (no tsgrpc code) so it stays independent.
// grpc-js cannot compress responses or report per-message compression, so
// the compression cases do not run against it.
//   node dist/interop/grpcjs-server.js --port=8080
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import path from 'node:path';
import { isTrue, parseFlags, payload, protoDir } from './common.js';

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(protoDir, target);
root.loadSync('grpc/testing/test.proto');
root.resolveAll();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;

function codec(typeName: string) {
  const t = root.lookupType(`grpc.testing.${typeName}`);
  return {
    serialize: (v: object) => Buffer.from(t.encode(t.fromObject(v)).finish()),
    deserialize: (b: Buffer) => t.toObject(t.decode(b), { defaults: false }),
  };
}

/** The grpc-js service definition, built from the proto's method list. */
function definition(): grpc.ServiceDefinition {
  const svc = root.lookupService('grpc.testing.TestService');
  const def: Record<string, grpc.MethodDefinition<Msg, Msg>> = {};
  for (const m of Object.values(svc.methods)) {
    const req = codec(m.resolvedRequestType!.name);
    const res = codec(m.resolvedResponseType!.name);
    def[m.name] = {
      path: `/grpc.testing.TestService/${m.name}`,
      requestStream: !!m.requestStream,
      responseStream: !!m.responseStream,
      requestSerialize: req.serialize, requestDeserialize: req.deserialize,
      responseSerialize: res.serialize, responseDeserialize: res.deserialize,
      originalName: m.name,
    };
  }
  return def;
}

type Call = grpc.ServerUnaryCall<Msg, Msg> | grpc.ServerDuplexStream<Msg, Msg> | grpc.ServerReadableStream<Msg, Msg> | grpc.ServerWritableStream<Msg, Msg>;

/** Echo Metadata: returns the trailers to send. */
function echo(call: Call): grpc.Metadata {
  const initial = call.metadata.get('x-grpc-test-echo-initial');
  if (initial.length) {
    const md = new grpc.Metadata();
    md.set('x-grpc-test-echo-initial', initial[0]);
    call.sendMetadata(md);
  }
  const trailers = new grpc.Metadata();
  const trailing = call.metadata.get('x-grpc-test-echo-trailing-bin');
  if (trailing.length) trailers.set('x-grpc-test-echo-trailing-bin', trailing[0]);
  return trailers;
}

const failure = (s: Msg, metadata: grpc.Metadata) =>
  (s?.code ? { code: s.code, details: s.message ?? '', metadata } : null);

async function respond(call: grpc.ServerWritableStream<Msg, Msg> | grpc.ServerDuplexStream<Msg, Msg>, req: Msg) {
  for (const p of req.responseParameters ?? []) {
    if (p.intervalUs) await new Promise((r) => setTimeout(r, p.intervalUs / 1000));
    call.write({ payload: payload(p.size ?? 0) });
  }
}

const unary = (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
  const trailers = echo(call);
  const err = failure(call.request.responseStatus, trailers);
  if (err) return cb(err);
  cb(null, { payload: payload(call.request.responseSize ?? 0) }, trailers);
};

const impl: grpc.UntypedServiceImplementation = {
  EmptyCall: (_call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => cb(null, {}),
  UnaryCall: unary,
  CacheableUnaryCall: unary,
  StreamingOutputCall: async (call: grpc.ServerWritableStream<Msg, Msg>) => {
    const trailers = echo(call);
    const err = failure(call.request.responseStatus, trailers);
    if (err) return call.emit('error', err);
    await respond(call, call.request);
    call.end(trailers);
  },
  StreamingInputCall: (call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
    const trailers = echo(call);
    let sum = 0;
    call.on('data', (r: Msg) => (sum += r.payload?.body?.length ?? 0));
    call.on('end', () => cb(null, { aggregatedPayloadSize: sum }, trailers));
  },
  FullDuplexCall: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
    const trailers = echo(call);
    // Events, not for-await: the stream's async iterator destroys the call
    // when the client half-closes, and then the trailers could not be sent.
    let chain = Promise.resolve();
    let failed = false;
    call.on('data', (r: Msg) => {
      chain = chain.then(async () => {
        if (failed) return;
        const err = failure(r.responseStatus, trailers);
        if (err) {
          failed = true;
          call.emit('error', err);
          return;
        }
        await respond(call, r);
      });
    });
    call.on('end', () => chain.then(() => !failed && call.end(trailers)));
  },
  HalfDuplexCall: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
    const trailers = echo(call);
    const all: Msg[] = [];
    call.on('data', (r: Msg) => all.push(r));
    call.on('end', async () => {
      for (const r of all) await respond(call, r);
      call.end(trailers);
    });
  },
};

const flags = parseFlags(process.argv.slice(2), { port: '10000', use_tls: 'false', host: '0.0.0.0' }, ['use_tls']);
if (isTrue(flags.use_tls)) throw new Error('grpcjs-server: TLS is not wired up; run it in plaintext');
const server = new grpc.Server();
server.addService(definition(), impl);
server.bindAsync(`${flags.host}:${flags.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    console.error(`grpcjs-server: ${err.message}`);
    process.exit(1);
  }
  console.log(`grpc-js interop server listening on port ${port}`);
});
process.on('SIGTERM', () => server.forceShutdown());
