// tsgrpc interop server: grpc.testing.TestService as described in grpc's
// doc/interop-test-descriptions.md. Flags mirror the grpc-go interop server.
//   node dist/interop/server.js --port=8080 [--use_tls] [--tls_cert_file=F --tls_key_file=F]
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GrpcError, Metadata, Server, Status } from '../src/index.js';
import type { ServerCallContext } from '../src/index.js';
import { certDir, isTrue, loadTestProto, parseFlags, payload, COMPRESSABLE } from './common.js';

const ECHO_INITIAL = 'x-grpc-test-echo-initial';
const ECHO_TRAILING = 'x-grpc-test-echo-trailing-bin';

// Loose shapes of the decoded protobufjs messages we read.
interface BoolValue { value?: boolean }
interface EchoStatus { code?: number; message?: string }
interface ResponseParameters { size?: number; intervalUs?: number; compressed?: BoolValue }
interface SimpleRequest {
  responseType?: number; responseSize?: number; payload?: { body?: Uint8Array };
  responseCompressed?: BoolValue; responseStatus?: EchoStatus; expectCompressed?: BoolValue;
}
interface StreamingOutputCallRequest {
  responseType?: number; responseParameters?: ResponseParameters[]; responseStatus?: EchoStatus;
}
interface StreamingInputCallRequest { payload?: { body?: Uint8Array }; expectCompressed?: BoolValue }

/** Echo Metadata feature: copy the two magic keys back to the client. */
function echoMetadata(ctx: ServerCallContext): void {
  const initial = ctx.metadata.get(ECHO_INITIAL);
  if (initial !== undefined) ctx.sendHeader(new Metadata().set(ECHO_INITIAL, initial));
  const trailing = ctx.metadata.get(ECHO_TRAILING);
  if (trailing !== undefined) ctx.trailers.set(ECHO_TRAILING, trailing);
}

/** Echo Status feature: a non-zero response_status ends the call with it. */
function maybeFail(status: EchoStatus | undefined | null): void {
  if (status && status.code) throw new GrpcError(status.code, status.message ?? '');
}

function makePayload(type: number | undefined, size: number | undefined) {
  if ((type ?? COMPRESSABLE) !== COMPRESSABLE) {
    throw new GrpcError(Status.INVALID_ARGUMENT, `unsupported response_type ${type}`);
  }
  return payload(size ?? 0);
}

/**
 * CompressedRequest feature: expect_compressed=true on a plain message is an error. In a request
 * stream, ctx.requestCompressed is the flag of the message the handler took last.
 */
function checkCompressed(ctx: ServerCallContext, expect: BoolValue | undefined | null): void {
  if (expect?.value && !ctx.requestCompressed) {
    throw new GrpcError(Status.INVALID_ARGUMENT, 'expected a compressed request message');
  }
}

/**
 * CompressedResponse feature. The encoding must be picked before headers go
 * out (echoMetadata may send them), then each message turns it on or off.
 */
function pickCompression(ctx: ServerCallContext, params: ResponseParameters[] | undefined): void {
  if (params?.some((p) => p.compressed?.value)) ctx.setResponseCompression('gzip');
}

const sleep = (us: number) => new Promise((r) => setTimeout(r, us / 1000));

async function* respond(ctx: ServerCallContext, req: StreamingOutputCallRequest) {
  for (const p of req.responseParameters ?? []) {
    if (p.intervalUs) await sleep(p.intervalUs);
    ctx.setMessageCompression(p.compressed?.value ?? false);
    yield { payload: makePayload(req.responseType, p.size) };
  }
}

async function unaryCall(req: SimpleRequest, ctx: ServerCallContext) {
  if (req.responseCompressed?.value) ctx.setResponseCompression('gzip');
  echoMetadata(ctx);
  checkCompressed(ctx, req.expectCompressed);
  maybeFail(req.responseStatus);
  return { payload: makePayload(req.responseType, req.responseSize) };
}

export const testServiceImpl = {
  EmptyCall: async () => ({}),
  UnaryCall: unaryCall,
  CacheableUnaryCall: unaryCall,

  async *StreamingOutputCall(req: StreamingOutputCallRequest, ctx: ServerCallContext) {
    pickCompression(ctx, req.responseParameters);
    echoMetadata(ctx);
    maybeFail(req.responseStatus);
    yield* respond(ctx, req);
  },

  async StreamingInputCall(reqs: AsyncIterable<StreamingInputCallRequest>, ctx: ServerCallContext) {
    echoMetadata(ctx);
    let sum = 0;
    for await (const r of reqs) {
      checkCompressed(ctx, r.expectCompressed);
      sum += r.payload?.body?.length ?? 0;
    }
    return { aggregatedPayloadSize: sum };
  },

  async *FullDuplexCall(reqs: AsyncIterable<StreamingOutputCallRequest>, ctx: ServerCallContext) {
    echoMetadata(ctx);
    for await (const r of reqs) {
      maybeFail(r.responseStatus);
      yield* respond(ctx, r);
    }
  },

  // Like FullDuplexCall, but nothing is answered before the client half-closes.
  async *HalfDuplexCall(reqs: AsyncIterable<StreamingOutputCallRequest>, ctx: ServerCallContext) {
    echoMetadata(ctx);
    const all: StreamingOutputCallRequest[] = [];
    for await (const r of reqs) all.push(r);
    for (const r of all) {
      maybeFail(r.responseStatus);
      yield* respond(ctx, r);
    }
  },
  // UnimplementedCall is left out on purpose: the client tests expect UNIMPLEMENTED.
};

async function main(): Promise<void> {
  const flags = parseFlags(
    process.argv.slice(2),
    { port: '10000', use_tls: 'false', tls_cert_file: '', tls_key_file: '', host: '0.0.0.0' },
    ['use_tls'],
  );
  let tls: { key: Buffer; cert: Buffer } | undefined;
  if (isTrue(flags.use_tls)) {
    tls = {
      cert: fs.readFileSync(flags.tls_cert_file || path.join(certDir, 'server1.pem')),
      key: fs.readFileSync(flags.tls_key_file || path.join(certDir, 'server1.key')),
    };
  }
  const { services } = loadTestProto();
  const server = new Server({ tls });
  server.addService(services['grpc.testing.TestService'], testServiceImpl);
  const port = await server.listen(`${flags.host}:${flags.port}`);
  // The runner waits for this line before starting a client.
  console.log(`tsgrpc interop server listening on port ${port}${tls ? ' (TLS)' : ''}`);
  const stop = () => {
    server.forceShutdown();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// Run as a program; tests import testServiceImpl without starting a server.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err) => {
    console.error(`interop server failed: ${err instanceof Error ? err.stack : err}`);
    process.exit(1);
  });
}
