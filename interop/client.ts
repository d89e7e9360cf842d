// tsgrpc interop client: runs one test case of grpc's
// doc/interop-test-descriptions.md against a TestService server and exits
// non-zero with a message when an assertion fails. Flags mirror grpc-go's:
//   node dist/interop/client.js --server_port=8080 --test_case=large_unary
import fs from 'node:fs';
import path from 'node:path';
import { Channel, createClient, GrpcError, Metadata, Status, withWriteOptions } from '../src/index.js';
import type { ChannelOptions, ServiceDefinition } from '../src/index.js';
import { certDir, isTrue, loadTestProto, parseFlags, payload } from './common.js';
import { rawResponseFlags } from './raw.js';

const flags = parseFlags(
  process.argv.slice(2),
  {
    server_host: 'localhost', server_port: '10000', server_host_override: '', test_case: 'large_unary',
    use_tls: 'false', use_test_ca: 'false', ca_file: '',
    soak_iterations: '10', soak_max_failures: '0', soak_per_iteration_max_acceptable_latency_ms: '1000',
    soak_overall_timeout_seconds: '10', soak_min_time_ms_between_rpcs: '0',
    soak_request_size: '271828', soak_response_size: '314159',
  },
  ['use_tls', 'use_test_ca'],
);

const { services, root } = loadTestProto();
const testService = services['grpc.testing.TestService'];
const target = `${flags.server_host}:${flags.server_port}`;

function channelOptions(): ChannelOptions {
  if (!isTrue(flags.use_tls)) return {};
  const tls: NonNullable<ChannelOptions['tls']> = {};
  if (isTrue(flags.use_test_ca)) tls.ca = fs.readFileSync(flags.ca_file || path.join(certDir, 'ca.pem'));
  if (flags.server_host_override) tls.serverNameOverride = flags.server_host_override;
  return { tls };
}
const newChannel = () => new Channel(target, channelOptions());

// The stub is typed loosely: messages are plain protobufjs objects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Stub = any;
const stub = (ch: Channel, svc: ServiceDefinition = testService): Stub => createClient(svc, ch);

class Failure extends Error {}
function check(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Failure(msg);
}

/** Runs fn and asserts that it fails with the given status code (and message). */
async function expectStatus(what: string, fn: () => Promise<unknown>, code: Status, details?: string) {
  try {
    await fn();
  } catch (err) {
    check(err instanceof GrpcError, `${what}: expected GrpcError ${Status[code]}, got ${err}`);
    check(err.code === code, `${what}: expected status ${Status[code]} (${code}), got ${Status[err.code]} (${err.code}): ${err.details}`);
    if (details !== undefined) {
      check(err.details === details, `${what}: expected message ${JSON.stringify(details)}, got ${JSON.stringify(err.details)}`);
    }
    return;
  }
  throw new Failure(`${what}: expected status ${Status[code]}, but the call succeeded`);
}

function checkBody(what: string, res: { payload?: { type?: number; body?: Uint8Array } }, size: number) {
  const body = res?.payload?.body ?? new Uint8Array();
  check((res?.payload?.type ?? 0) === 0, `${what}: payload type ${res?.payload?.type}, want COMPRESSABLE`);
  check(body.length === size, `${what}: payload of ${body.length} bytes, want ${size}`);
  check(body.every((b) => b === 0), `${what}: payload is not all zeros`);
}

const largeRequest = (extra: object = {}) => ({ responseSize: 314159, payload: payload(271828), ...extra });
const reqSizes = [27182, 8, 1828, 45904];
const respSizes = [31415, 9, 2653, 58979];
const ECHO_INITIAL = 'x-grpc-test-echo-initial';
const ECHO_TRAILING = 'x-grpc-test-echo-trailing-bin';

async function pingPong(client: Stub) {
  const call = client.fullDuplexCall();
  const it = call[Symbol.asyncIterator]();
  for (let i = 0; i < reqSizes.length; i++) {
    await call.write({ responseParameters: [{ size: respSizes[i] }], payload: payload(reqSizes[i]) });
    const r = await it.next();
    check(!r.done, `ping_pong: stream ended after ${i} responses, want 4`);
    checkBody(`ping_pong response ${i}`, r.value, respSizes[i]);
  }
  call.end();
  const last = await it.next();
  check(last.done, 'ping_pong: got a 5th response, want exactly 4');
}

async function soak(newStub: () => { client: Stub; close(): void }) {
  const iterations = Number(flags.soak_iterations);
  const maxFailures = Number(flags.soak_max_failures);
  const maxLatency = Number(flags.soak_per_iteration_max_acceptable_latency_ms);
  const overallMs = Number(flags.soak_overall_timeout_seconds) * 1000;
  const minGap = Number(flags.soak_min_time_ms_between_rpcs);
  const reqSize = Number(flags.soak_request_size);
  const respSize = Number(flags.soak_response_size);
  const start = Date.now();
  let failures = 0;
  let done = 0;
  for (; done < iterations && Date.now() - start < overallMs; done++) {
    const t0 = Date.now();
    const { client, close } = newStub();
    try {
      const res = await client.unaryCall({ responseSize: respSize, payload: payload(reqSize) });
      checkBody('soak iteration', res, respSize);
      const ms = Date.now() - t0;
      if (ms > maxLatency) throw new Failure(`took ${ms} ms, max ${maxLatency} ms`);
    } catch (err) {
      failures++;
      console.error(`soak iteration ${done} failed: ${err instanceof Error ? err.message : err}`);
    } finally {
      close();
    }
    const wait = minGap - (Date.now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  check(done === iterations, `soak: only ${done} of ${iterations} iterations within ${overallMs / 1000}s`);
  check(failures <= maxFailures, `soak: ${failures} failed iterations, at most ${maxFailures} allowed`);
}

/** Never yields; ends when the signal fires, so nothing leaks after a cancel. */
async function* idleUntil(signal: AbortSignal): AsyncGenerator<never> {
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

const cases: Record<string, (ch: Channel) => Promise<void>> = {
  async empty_unary(ch) {
    const res = await stub(ch).emptyCall({});
    check(res != null, 'empty_unary: null response');
  },

  async large_unary(ch) {
    checkBody('large_unary', await stub(ch).unaryCall(largeRequest()), 314159);
  },

  async client_streaming(ch) {
    async function* reqs() {
      for (const size of reqSizes) yield { payload: payload(size) };
    }
    const res = await stub(ch).streamingInputCall(reqs());
    check(res.aggregatedPayloadSize === 74922, `client_streaming: aggregated_payload_size ${res.aggregatedPayloadSize}, want 74922`);
  },

  async server_streaming(ch) {
    const sizes: number[] = [];
    const req = { responseParameters: respSizes.map((size) => ({ size })) };
    for await (const r of stub(ch).streamingOutputCall(req)) {
      checkBody(`server_streaming response ${sizes.length}`, r, respSizes[sizes.length] ?? -1);
      sizes.push(r.payload.body.length);
    }
    check(sizes.length === 4, `server_streaming: ${sizes.length} responses, want 4`);
  },

  ping_pong: (ch) => pingPong(stub(ch)),

  async empty_stream(ch) {
    const call = stub(ch).fullDuplexCall();
    call.end();
    let n = 0;
    for await (const _ of call) n++;
    check(n === 0, `empty_stream: ${n} responses, want 0`);
  },

  async timeout_on_sleeping_server(ch) {
    await expectStatus('timeout_on_sleeping_server', async () => {
      const call = stub(ch).fullDuplexCall({ timeout: 1 });
      // The write may already fail because the deadline passed; the status is what counts.
      await call.write({ payload: payload(27182) }).catch(() => {});
      for await (const _ of call) { /* the server never answers */ }
    }, Status.DEADLINE_EXCEEDED);
  },

  async cancel_after_begin(ch) {
    const ac = new AbortController();
    const pending = stub(ch).streamingInputCall(idleUntil(ac.signal), { signal: ac.signal });
    // Let the call start (headers out) before cancelling it.
    await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await expectStatus('cancel_after_begin', () => pending, Status.CANCELLED);
  },

  async cancel_after_first_response(ch) {
    const call = stub(ch).fullDuplexCall();
    const it = call[Symbol.asyncIterator]();
    await call.write({ responseParameters: [{ size: 31415 }], payload: payload(27182) });
    const first = await it.next();
    check(!first.done, 'cancel_after_first_response: no first response');
    checkBody('cancel_after_first_response', first.value, 31415);
    call.cancel();
    await expectStatus('cancel_after_first_response', () => it.next(), Status.CANCELLED);
  },

  async custom_metadata(ch) {
    const trailingValue = Buffer.from([0xab, 0xab, 0xab]);
    const md = new Metadata().set(ECHO_INITIAL, 'test_initial_metadata_value').set(ECHO_TRAILING, trailingValue);
    const verify = (what: string, headers: Metadata | undefined, trailers: Metadata | undefined) => {
      const h = headers?.getAll(ECHO_INITIAL) ?? [];
      check(h.length === 1 && h[0] === 'test_initial_metadata_value', `${what}: initial metadata ${ECHO_INITIAL}=${JSON.stringify(h)}`);
      const t = trailers?.getAll(ECHO_TRAILING) ?? [];
      check(t.length === 1 && Buffer.isBuffer(t[0]) && t[0].equals(trailingValue),
        `${what}: trailing metadata ${ECHO_TRAILING}=${t.map((v) => Buffer.from(v).toString('hex'))}, want ababab`);
    };
    let headers: Metadata | undefined;
    let trailers: Metadata | undefined;
    const res = await stub(ch).unaryCall(largeRequest(), {
      metadata: md, onHeader: (m: Metadata) => (headers = m), onTrailer: (m: Metadata) => (trailers = m),
    });
    checkBody('custom_metadata unary', res, 314159);
    verify('custom_metadata unary', headers, trailers);

    const call = stub(ch).fullDuplexCall({ metadata: md });
    await call.write({ responseParameters: [{ size: 314159 }], payload: payload(271828) });
    call.end();
    let n = 0;
    for await (const r of call) checkBody(`custom_metadata stream response ${n++}`, r, 314159);
    check(n === 1, `custom_metadata stream: ${n} responses, want 1`);
    verify('custom_metadata stream', await call.headers, await call.trailers);
  },

  async status_code_and_message(ch) {
    const responseStatus = { code: 2, message: 'test status message' };
    await expectStatus('status_code_and_message unary', () => stub(ch).unaryCall({ responseStatus }), Status.UNKNOWN, responseStatus.message);
    await expectStatus('status_code_and_message stream', async () => {
      const call = stub(ch).fullDuplexCall();
      await call.write({ responseStatus });
      call.end();
      for await (const _ of call) { /* no responses expected */ }
    }, Status.UNKNOWN, responseStatus.message);
  },

  async special_status_message(ch) {
    const message = '\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \u{1f608}\t\n';
    await expectStatus('special_status_message', () => stub(ch).unaryCall({ responseStatus: { code: 2, message } }), Status.UNKNOWN, message);
  },

  async unimplemented_method(ch) {
    await expectStatus('unimplemented_method', () => stub(ch).unimplementedCall({}), Status.UNIMPLEMENTED);
  },

  async unimplemented_service(ch) {
    const client = stub(ch, services['grpc.testing.UnimplementedService']);
    await expectStatus('unimplemented_service', () => client.unimplementedCall({}), Status.UNIMPLEMENTED);
  },

  rpc_soak: (ch) => soak(() => ({ client: stub(ch), close() {} })),

  channel_soak: () => soak(() => {
    const ch = newChannel();
    return { client: stub(ch), close: () => ch.close() };
  }),

  async client_compressed_unary(ch) {
    const client = stub(ch);
    await expectStatus('client_compressed_unary probe (uncompressed, expect_compressed=true)',
      () => client.unaryCall(largeRequest({ expectCompressed: { value: true } })), Status.INVALID_ARGUMENT);
    const res1 = await client.unaryCall(largeRequest({ expectCompressed: { value: true } }), { compression: 'gzip' });
    checkBody('client_compressed_unary compressed', res1, 314159);
    const res2 = await client.unaryCall(largeRequest({ expectCompressed: { value: false } }));
    checkBody('client_compressed_unary uncompressed', res2, 314159);
  },

  async server_compressed_unary(ch) {
    const client = stub(ch);
    for (const compressed of [true, false]) {
      const req = largeRequest({ responseCompressed: { value: compressed } });
      checkBody(`server_compressed_unary (${compressed})`, await client.unaryCall(req), 314159);
      // The stub hides the per-message compressed flag, so read it off the wire.
      const flagsSeen = await rawResponseFlags(target, channelOptions(), '/grpc.testing.TestService/UnaryCall', encode('SimpleRequest', req));
      check(flagsSeen.length === 1 && flagsSeen[0] === compressed,
        `server_compressed_unary: response_compressed=${compressed} but wire flags were ${JSON.stringify(flagsSeen)}`);
    }
  },

  async client_compressed_streaming(ch) {
    const client = stub(ch);
    async function* one(req: object) {
      yield req;
    }
    await expectStatus('client_compressed_streaming probe (uncompressed, expect_compressed=true)',
      () => client.streamingInputCall(one({ expectCompressed: { value: true }, payload: payload(27182) })), Status.INVALID_ARGUMENT);
    // The call compresses with gzip; the second message opts out, as the spec asks.
    async function* two() {
      yield { expectCompressed: { value: true }, payload: payload(27182) };
      yield withWriteOptions({ expectCompressed: { value: false }, payload: payload(45904) }, { compress: false });
    }
    const res = await client.streamingInputCall(two(), { compression: 'gzip' });
    check(res.aggregatedPayloadSize === 73086, `client_compressed_streaming: aggregated_payload_size ${res.aggregatedPayloadSize}, want 73086`);
  },

  async server_compressed_streaming(ch) {
    const req = { responseParameters: [{ compressed: { value: true }, size: 31415 }, { compressed: { value: false }, size: 92653 }] };
    const want = [31415, 92653];
    let n = 0;
    for await (const r of stub(ch).streamingOutputCall(req)) {
      checkBody(`server_compressed_streaming response ${n}`, r, want[n] ?? -1);
      n++;
    }
    check(n === 2, `server_compressed_streaming: ${n} responses, want 2`);
    const flagsSeen = await rawResponseFlags(target, channelOptions(), '/grpc.testing.TestService/StreamingOutputCall', encode('StreamingOutputCallRequest', req));
    check(JSON.stringify(flagsSeen) === '[true,false]', `server_compressed_streaming: wire compressed flags ${JSON.stringify(flagsSeen)}, want [true,false]`);
  },
};

function encode(type: string, obj: object): Uint8Array {
  const t = root.lookupType(`grpc.testing.${type}`);
  return t.encode(t.fromObject(obj)).finish();
}

async function main(): Promise<number> {
  const run = cases[flags.test_case];
  if (!run) {
    console.error(`unknown --test_case ${flags.test_case}; known: ${Object.keys(cases).join(', ')}`);
    return 2;
  }
  const ch = newChannel();
  try {
    await run(ch);
    console.log(`${flags.test_case}: PASS`);
    return 0;
  } catch (err) {
    const why = err instanceof Failure ? err.message : err instanceof Error ? err.stack : String(err);
    console.error(`${flags.test_case}: FAIL: ${why}`);
    return 1;
  } finally {
    ch.close();
  }
}

// Exit explicitly: a stuck call must not keep the process alive.
main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(1);
});
