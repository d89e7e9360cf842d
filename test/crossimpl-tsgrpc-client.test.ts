// Cross-implementation: tsgrpc client → grpc-js server, over loopback.
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { Channel, GrpcError, Metadata, Status, createClient, type CallOptions } from '../src/index.js';
import {
  CallLog, HEADER_MD, TRAILER_MD, grpcJsProbeDefinition, plain, probeService, sleepUnlessAborted, toGrpcJsMetadata, toTsMetadata, within,
  type CallSpec, type Outcome, type ProbeClient, type ProbeReply, type ProbeRequest, type ProbeServer, type SeenCall,
} from './support/grpcjs-probe.js';
import { crossImplSuite } from './support/grpcjs-suite.js';

/** An AbortSignal that fires when grpc-js reports the call cancelled (client cancel or deadline). */
function watchCancel(call: { on(event: 'cancelled', listener: () => void): unknown }, seen: SeenCall): AbortSignal {
  const controller = new AbortController();
  call.on('cancelled', () => {
    seen.cancelled('cancelled');
    controller.abort();
  });
  return controller.signal;
}

/** protobufjs leaves unset bytes fields as an empty array. */
const bytes = (b: Uint8Array | undefined) => Buffer.from(b ?? []);

function failure(req: ProbeRequest): grpc.ServerErrorResponse {
  return Object.assign(new Error(req.failMessage), { code: req.failCode, details: req.failMessage, metadata: toGrpcJsMetadata(TRAILER_MD) });
}

async function startGrpcJsServer(): Promise<ProbeServer> {
  const log = new CallLog();
  const server = new grpc.Server();
  server.addService(grpcJsProbeDefinition, {
    Unary(call: grpc.ServerUnaryCall<ProbeRequest, ProbeReply>, callback: grpc.sendUnaryData<ProbeReply>) {
      const seen = log.open('unary', call.metadata);
      const signal = watchCancel(call, seen);
      const req = call.request;
      seen.request(req);
      void sleepUnlessAborted(req.sleepMs, signal).then((goOn) => {
        if (!goOn) return;
        if (req.failCode) return callback(failure(req));
        call.sendMetadata(toGrpcJsMetadata(HEADER_MD));
        callback(null, { text: `unary:${req.text}`, payload: bytes(req.payload), index: 0 }, toGrpcJsMetadata(TRAILER_MD));
      });
    },
    ServerStream(call: grpc.ServerWritableStream<ProbeRequest, ProbeReply>) {
      const seen = log.open('serverStream', call.metadata);
      const signal = watchCancel(call, seen);
      const req = call.request;
      seen.request(req);
      for (let i = 0; i < (req.count ?? 0); i++) {
        if (i === 0) call.sendMetadata(toGrpcJsMetadata(HEADER_MD));
        call.write({ text: `${req.text}#${i}`, payload: bytes(req.payload), index: i });
      }
      void sleepUnlessAborted(req.sleepMs, signal).then((goOn) => {
        if (!goOn) return;
        if (req.failCode) call.emit('error', failure(req));
        else call.end(toGrpcJsMetadata(TRAILER_MD));
      });
    },
    ClientStream(call: grpc.ServerReadableStream<ProbeRequest, ProbeReply>, callback: grpc.sendUnaryData<ProbeReply>) {
      const seen = log.open('clientStream', call.metadata);
      const signal = watchCancel(call, seen);
      call.on('data', (r: ProbeRequest) => seen.request(r));
      call.on('end', async () => {
        const reqs = seen.requests;
        if (!(await sleepUnlessAborted(Math.max(0, ...reqs.map((r) => r.sleepMs ?? 0)), signal))) return;
        const failing = reqs.find((r) => r.failCode);
        if (failing) return callback(failure(failing));
        call.sendMetadata(toGrpcJsMetadata(HEADER_MD));
        const reply = { text: reqs.map((r) => r.text).join(','), payload: Buffer.concat(reqs.map((r) => bytes(r.payload))), index: reqs.length };
        callback(null, reply, toGrpcJsMetadata(TRAILER_MD));
      });
    },
    Bidi(call: grpc.ServerDuplexStream<ProbeRequest, ProbeReply>) {
      const seen = log.open('bidi', call.metadata);
      const signal = watchCancel(call, seen);
      let going = Promise.resolve(true);
      call.on('data', (r: ProbeRequest) => {
        seen.request(r);
        const index = seen.requests.length - 1;
        going = going.then(async (goOn) => {
          if (!goOn || !(await sleepUnlessAborted(r.sleepMs, signal))) return false;
          if (r.failCode) {
            call.emit('error', failure(r));
            return false;
          }
          if (index === 0) call.sendMetadata(toGrpcJsMetadata(HEADER_MD));
          call.write({ text: `echo:${r.text}`, payload: bytes(r.payload), index });
          return true;
        });
      });
      call.on('end', () => void going.then((goOn) => goOn && call.end(toGrpcJsMetadata(TRAILER_MD))));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, log, compressesResponses: false, close: async () => server.forceShutdown() };
}

/** Runs one call with the tsgrpc client; cancels with the AbortSignal (unary, client stream) or stream.cancel() (the others). */
function tsgrpcClient(port: number): ProbeClient {
  const channel = new Channel(`127.0.0.1:${port}`);
  const stub = createClient(probeService, channel);
  return {
    close: () => channel.close(),
    async call(spec: CallSpec): Promise<Outcome> {
      const abort = new AbortController();
      let cancel = () => abort.abort();
      void spec.cancelWhen?.then(() => cancel());
      const keepOpen = spec.cancelWhen !== undefined;
      let headers = new Metadata();
      let trailers = new Metadata();
      const options: CallOptions = {
        metadata: spec.metadata && toTsMetadata(spec.metadata),
        timeout: spec.timeoutMs,
        compression: spec.compress ? 'gzip' : undefined,
        signal: abort.signal,
        onHeader: (md) => (headers = md),
        onTrailer: (md) => (trailers = md),
      };
      async function* requestStream() {
        yield* spec.requests;
        if (keepOpen) await new Promise((resolve) => abort.signal.addEventListener('abort', resolve));
      }
      const replies: ProbeReply[] = [];
      let error: Outcome['error'];
      try {
        if (spec.mode === 'unary') replies.push(await stub.unary(spec.requests[0], options));
        if (spec.mode === 'clientStream') replies.push(await stub.clientStream(requestStream(), options));
        if (spec.mode === 'serverStream' || spec.mode === 'bidi') {
          const stream = spec.mode === 'bidi' ? stub.bidi(options) : stub.serverStream(spec.requests[0], options);
          cancel = () => stream.cancel();
          if (spec.mode === 'bidi') {
            void (async () => {
              for (const r of spec.requests) await stream.write(r);
              if (!keepOpen) stream.end();
            })();
          }
          for await (const r of stream) replies.push(r);
        }
      } catch (err) {
        if (!(err instanceof GrpcError)) throw err;
        error = { code: err.code, details: err.details };
      }
      return { replies, headers: plain(headers), trailers: plain(trailers), error };
    },
  };
}

describe('tsgrpc client → grpc-js server', () => {
  crossImplSuite({ startServer: startGrpcJsServer, connect: tsgrpcClient });

  it('cancels a server stream the client stops reading (break), and grpc-js sees it', async () => {
    const server = await startGrpcJsServer();
    const channel = new Channel(`127.0.0.1:${server.port}`);
    try {
      const seen = server.log.next();
      const stream = createClient(probeService, channel).serverStream({ text: 'b', count: 1, sleepMs: 5000 });
      for await (const r of stream) {
        expect(r.text).toBe('b#0');
        break;
      }
      await within(2000, (await seen).sawCancel, 'the grpc-js handler to see the cancellation');
      await expect(stream.status).rejects.toMatchObject({ code: Status.CANCELLED });
    } finally {
      channel.close();
      await server.close();
    }
  });
});
