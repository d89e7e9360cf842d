import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { MeterProvider, MetricReader, type HistogramMetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import {
  Channel, Server, Status, createClient, defineService, encodeFrame, observe,
  type CallEvent, type CallMessageEvent, type Client, type ConnectionEvent, type Observer,
} from '../src/index.js';
import { clientCallProbe, serverCallProbe } from '../src/observability/events.js';
import { instrumentGrpcMetrics } from '../examples/opentelemetry.js';
import { collect, expectGrpcError, probeService, startProbe, type ProbeSetup, type Req } from './support/probe.js';
import { rawServer } from './support/raw-http2.js';

type Name = keyof Observer;
interface Entry { name: Name; event: Record<string, unknown> }

/** Subscribes to every event and keeps a snapshot of each as published (call events are mutated as the call goes on). */
function recordEvents() {
  const log: Entry[] = [];
  const names: Name[] = ['clientCallStart', 'clientCallHeaders', 'clientCallMessage', 'clientCallEnd', 'serverCallStart', 'serverCallMessage', 'serverCallEnd', 'connection'];
  const observer: Observer = {};
  for (const name of names) {
    (observer as Record<Name, (e: unknown) => void>)[name] = (e) => {
      const event = e as Record<string, unknown>;
      log.push({ name, event: 'call' in event ? { ...event, call: { ...(event.call as object) } } : { ...event } });
    };
  }
  const stop = observe(observer);
  return {
    log,
    stop,
    /** The events of one call (by side and method), in order. */
    call(side: 'client' | 'server', method: string): Entry[] {
      const ids = new Set(log.filter((e) => e.name === `${side}CallStart` && e.event.method === method).map((e) => e.event.id));
      return log.filter((e) => {
        const call = (e.name.endsWith('Message') ? e.event.call : e.event) as CallEvent;
        return e.name.startsWith(side) && ids.has(call.id);
      });
    },
    connections(): ConnectionEvent[] {
      return log.filter((e) => e.name === 'connection').map((e) => e.event as unknown as ConnectionEvent);
    },
  };
}

/** Resolves once `check` passes (server events can trail the client's view of the call by a turn). */
async function eventually(check: () => void | Promise<void>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const ended = (entries: Entry[]) => entries.find((e) => e.name.endsWith('CallEnd'))!.event as unknown as CallEvent;
const messages = (entries: Entry[], direction: 'sent' | 'received') =>
  entries.filter((e) => e.name.endsWith('Message') && e.event.direction === direction).map((e) => (e.event as unknown as CallMessageEvent).bytes);
const requestSize = (req: Req) => probeService.methods.Unary.serializeRequest(req).length;
const responseSize = (res: object) => probeService.methods.Unary.serializeResponse(res).length;

describe('call and connection events', () => {
  let cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setup(serverOptions = {}, channelOptions = {}): Promise<ProbeSetup & { events: ReturnType<typeof recordEvents> }> {
    const events = recordEvents();
    cleanup.push(events.stop);
    const probe = await startProbe(serverOptions, channelOptions);
    cleanup.push(() => probe.close());
    return { ...probe, events };
  }

  it('a unary call: start, message sent, headers, message received and status on the client; start, messages and status on the server', async () => {
    const { client, port, events } = await setup();
    const payload = Buffer.alloc(100, 1);
    await client.unary({ payload });
    const method = '/e2e.Probe/Unary';
    await eventually(() => expect(events.call('server', method).at(-1)?.name).toBe('serverCallEnd'));

    const clientSide = events.call('client', method);
    expect(clientSide.map((e) => [e.name, e.event.direction ?? ''])).toEqual([
      ['clientCallStart', ''], ['clientCallMessage', 'sent'], ['clientCallHeaders', ''], ['clientCallMessage', 'received'], ['clientCallEnd', ''],
    ]);
    const start = clientSide[0].event as unknown as CallEvent;
    expect(start).toMatchObject({ side: 'client', method, peer: `127.0.0.1:${port}`, messagesSent: 0, messagesReceived: 0 });
    expect(start.code).toBeUndefined();
    const end = ended(clientSide);
    expect(end).toMatchObject({ id: start.id, code: Status.OK, details: '', messagesSent: 1, messagesReceived: 1 });
    expect(end.bytesSent).toBe(requestSize({ payload }));
    expect(end.bytesReceived).toBe(responseSize({ payload, index: 0 }));
    expect(end.durationMs).toBeGreaterThanOrEqual(0);
    expect(messages(clientSide, 'sent')).toEqual([end.bytesSent]);
    expect(messages(clientSide, 'received')).toEqual([end.bytesReceived]);

    const serverSide = events.call('server', method);
    expect(serverSide.map((e) => e.name)).toEqual(['serverCallStart', 'serverCallMessage', 'serverCallMessage', 'serverCallEnd']);
    const serverEnd = ended(serverSide);
    expect(serverEnd.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(serverEnd.peer).not.toBe(`127.0.0.1:${port}`);
    expect(serverEnd).toMatchObject({ side: 'server', method, code: Status.OK, messagesReceived: 1, messagesSent: 1, bytesReceived: end.bytesSent, bytesSent: end.bytesReceived });
  });

  it('counts the messages and bytes of all four modes on both sides', async () => {
    const { client, events } = await setup();
    const req = (n: number): Req => ({ payload: Buffer.alloc(10 * n, n) });
    expect(await collect(client.serverStream({ payload: Buffer.alloc(33), count: 3 }))).toHaveLength(3);
    await client.clientStream([req(1), req(2), req(3), req(4)]);
    const bidi = client.bidi();
    for (const n of [1, 2, 3]) void bidi.write(req(n));
    bidi.end();
    expect(await collect(bidi)).toHaveLength(3);
    const expected = {
      '/e2e.Probe/ServerStream': [1, 3],
      '/e2e.Probe/ClientStream': [4, 1],
      '/e2e.Probe/Bidi': [3, 3],
    };
    await eventually(() => {
      for (const method of Object.keys(expected)) expect(events.call('server', method).at(-1)?.name).toBe('serverCallEnd');
    });
    for (const [method, [requests, responses]] of Object.entries(expected)) {
      const c = ended(events.call('client', method));
      const s = ended(events.call('server', method));
      expect(c, method).toMatchObject({ code: Status.OK, messagesSent: requests, messagesReceived: responses });
      expect(s, method).toMatchObject({ code: Status.OK, messagesSent: responses, messagesReceived: requests });
      expect(c.bytesSent, method).toBe(s.bytesReceived);
      expect(c.bytesReceived, method).toBe(s.bytesSent);
      expect(messages(events.call('client', method), 'sent').reduce((a, b) => a + b, 0)).toBe(c.bytesSent);
      expect(messages(events.call('server', method), 'sent')).toHaveLength(responses);
    }
    const clientStream = ended(events.call('client', '/e2e.Probe/ClientStream'));
    expect(clientStream.bytesSent).toBe([1, 2, 3, 4].reduce((sum, n) => sum + requestSize(req(n)), 0));
  });

  it('counts compressed messages at their size on the wire', async () => {
    const { client, events } = await setup({ compression: 'gzip' });
    const payload = Buffer.alloc(20_000); // zeros: gzip shrinks them a lot
    await client.unary({ payload, responseSize: 20_000 }, { compression: 'gzip' });
    await eventually(() => expect(events.call('server', '/e2e.Probe/Unary').at(-1)?.name).toBe('serverCallEnd'));
    const c = ended(events.call('client', '/e2e.Probe/Unary'));
    const s = ended(events.call('server', '/e2e.Probe/Unary'));
    expect(c.bytesSent).toBeGreaterThan(0);
    expect(c.bytesSent).toBeLessThan(1000);
    expect(c.bytesReceived).toBeLessThan(1000);
    expect(s.bytesReceived).toBe(c.bytesSent);
    expect(s.bytesSent).toBe(c.bytesReceived);
  });

  it('reports error statuses: from the handler, a deadline, a cancel and an unknown method', async () => {
    const { client, channel, events } = await setup();
    await expectGrpcError(client.unary({ failCode: Status.NOT_FOUND, failMessage: 'no such thing' }), Status.NOT_FOUND);
    await eventually(() => expect(events.call('server', '/e2e.Probe/Unary').at(-1)?.name).toBe('serverCallEnd'));
    expect(ended(events.call('client', '/e2e.Probe/Unary'))).toMatchObject({ code: Status.NOT_FOUND, details: 'no such thing', messagesReceived: 0 });
    expect(ended(events.call('server', '/e2e.Probe/Unary'))).toMatchObject({ code: Status.NOT_FOUND, details: 'no such thing', messagesSent: 0 });

    await expectGrpcError(collect(client.serverStream({ count: 5, sleepMs: 5000 }, { deadline: new Date(Date.now() + 200) })), Status.DEADLINE_EXCEEDED);
    await eventually(() => expect(events.call('server', '/e2e.Probe/ServerStream').at(-1)?.name).toBe('serverCallEnd'));
    expect(ended(events.call('client', '/e2e.Probe/ServerStream')).code).toBe(Status.DEADLINE_EXCEEDED);
    // The server's own timer or the client's reset, whichever comes first.
    expect([Status.DEADLINE_EXCEEDED, Status.CANCELLED]).toContain(ended(events.call('server', '/e2e.Probe/ServerStream')).code);

    const controller = new AbortController();
    const bidi = client.bidi({ signal: controller.signal });
    const iterator = bidi[Symbol.asyncIterator]();
    await bidi.write({ payload: Buffer.from('one') });
    await iterator.next();
    controller.abort();
    await expectGrpcError(iterator.next(), Status.CANCELLED);
    await eventually(() => expect(events.call('server', '/e2e.Probe/Bidi').at(-1)?.name).toBe('serverCallEnd'));
    expect(ended(events.call('client', '/e2e.Probe/Bidi'))).toMatchObject({ code: Status.CANCELLED, messagesSent: 1, messagesReceived: 1 });
    expect(ended(events.call('server', '/e2e.Probe/Bidi'))).toMatchObject({ code: Status.CANCELLED, messagesSent: 1, messagesReceived: 1 });

    const missing = defineService('e2e.Probe', { Missing: { request: bytesCodec, response: bytesCodec } });
    await expectGrpcError((createClient(missing, channel) as Client).missing(Buffer.from('x')), Status.UNIMPLEMENTED);
    await eventually(() => expect(events.call('server', '/e2e.Probe/Missing').at(-1)?.name).toBe('serverCallEnd'));
    expect(ended(events.call('server', '/e2e.Probe/Missing'))).toMatchObject({ code: Status.UNIMPLEMENTED, messagesReceived: 0 });
    expect(ended(events.call('client', '/e2e.Probe/Missing'))).toMatchObject({ code: Status.UNIMPLEMENTED, messagesSent: 1 });
  });

  it('connection events: connecting and ready on both sides, the GOAWAY of a shutdown, then closed', async () => {
    const { client, server, port, events } = await setup();
    await client.unary({});
    const clientPeer = `127.0.0.1:${port}`;
    // Only this test's connections (those that started while recording): an earlier test's may still be closing.
    const mine = () => {
      const started = new Set(events.connections().filter((e) => e.kind === 'connecting').map((e) => `${e.side} ${e.peer}`));
      return events.connections().filter((e) => started.has(`${e.side} ${e.peer}`));
    };
    await eventually(() => expect(mine().filter((e) => e.kind === 'ready')).toHaveLength(2));
    expect(mine().filter((e) => e.side === 'client')).toEqual([
      { side: 'client', kind: 'connecting', peer: clientPeer, detail: undefined },
      { side: 'client', kind: 'ready', peer: clientPeer, detail: undefined },
    ]);
    const serverPeer = mine().find((e) => e.side === 'server')!.peer;
    expect(serverPeer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(mine().filter((e) => e.side === 'server').map((e) => e.kind)).toEqual(['connecting', 'ready']);

    await server.shutdown();
    await eventually(() => {
      const kinds = mine().map((e) => `${e.side} ${e.kind}`);
      expect(kinds).toContain('client closed');
      expect(kinds).toContain('server closed');
    });
    const goaways = mine().filter((e) => e.kind === 'goaway');
    expect(goaways).toContainEqual({ side: 'server', kind: 'goaway', peer: serverPeer, detail: 'sent NO_ERROR (server shutdown)' });
    expect(goaways.find((e) => e.side === 'client')?.detail).toMatch(/^NO_ERROR, last stream \d+$/);
  });

  it('a server that is not there: the connection fails, and the attempt ends UNAVAILABLE', async () => {
    const events = recordEvents();
    cleanup.push(events.stop);
    const closed = new Server();
    const port = await closed.listen('127.0.0.1:0');
    await closed.shutdown();
    const channel = new Channel(`127.0.0.1:${port}`);
    cleanup.push(() => channel.close());
    await expectGrpcError((createClient(probeService, channel) as Client).unary({}), Status.UNAVAILABLE);
    const failed = events.connections().find((e) => e.kind === 'failed');
    expect(failed).toMatchObject({ side: 'client', peer: `127.0.0.1:${port}` });
    expect(failed!.detail).toContain('ECONNREFUSED');
    const end = ended(events.call('client', '/e2e.Probe/Unary'));
    expect(end).toMatchObject({ code: Status.UNAVAILABLE, messagesSent: 0 });
    expect(end.details).toContain('ECONNREFUSED');
  });

  it('a transparent retry is a second attempt with its own events', async () => {
    const events = recordEvents();
    cleanup.push(events.stop);
    let streams = 0;
    const server = await rawServer((stream) => {
      if (++streams === 1) return stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      stream.resume();
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.concat(encodeFrame(probeService.methods.Unary.serializeResponse({ index: 7 }))));
      });
    });
    const channel = new Channel(`127.0.0.1:${server.port}`);
    cleanup.push(() => server.close(), () => channel.close());
    expect(await (createClient(probeService, channel) as Client).unary({ payload: Buffer.from('again') })).toMatchObject({ index: 7 });
    const attempts = events.log.filter((e) => e.name === 'clientCallEnd').map((e) => e.event as unknown as CallEvent);
    expect(attempts).toHaveLength(2);
    expect(attempts[0].id).not.toBe(attempts[1].id);
    expect(attempts[0]).toMatchObject({ code: Status.UNAVAILABLE, messagesSent: 1, messagesReceived: 0 });
    expect(attempts[1]).toMatchObject({ code: Status.OK, messagesSent: 1, messagesReceived: 1 });
  });

  it('builds nothing while unobserved, and stops publishing once unsubscribed', async () => {
    expect(clientCallProbe('/a/b', 'x')).toBeUndefined();
    expect(serverCallProbe('/a/b', 'x', String)).toBeUndefined();
    const { client, events } = await setup();
    events.stop();
    await client.unary({});
    expect(events.log).toEqual([]);
    const onlyEnds = observe({ clientCallEnd: () => {} });
    cleanup.push(onlyEnds);
    expect(clientCallProbe('/a/b', 'x')).toBeDefined();
    expect(serverCallProbe('/a/b', 'x', String)).toBeUndefined();
  });
});

const bytesCodec = { serialize: (b: Uint8Array) => b, deserialize: (b: Uint8Array) => b };

describe('the OpenTelemetry example (examples/opentelemetry.ts)', () => {
  class TestReader extends MetricReader {
    protected override async onForceFlush(): Promise<void> {}
    protected override async onShutdown(): Promise<void> {}
  }

  it('records the gRFC A66 client attempt and server call metrics through @opentelemetry/sdk-metrics', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const stop = instrumentGrpcMetrics(provider);
    const probe = await startProbe();
    try {
      await probe.client.unary({ payload: Buffer.alloc(50) });
      await probe.client.unary({ payload: Buffer.alloc(50) });
      await expectGrpcError(probe.client.unary({ failCode: Status.ABORTED }), Status.ABORTED);
      const { resourceMetrics, errors } = await reader.collect();
      expect(errors).toEqual([]);
      const metrics = new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
      const target = `127.0.0.1:${probe.port}`;

      const started = metrics.get('grpc.client.attempt.started') as SumMetricData;
      expect(started.dataPoints).toEqual([expect.objectContaining({ value: 3, attributes: { 'grpc.method': 'e2e.Probe/Unary', 'grpc.target': target } })]);
      const duration = metrics.get('grpc.client.attempt.duration') as HistogramMetricData;
      expect(duration.descriptor.unit).toBe('s');
      const byStatus = new Map(duration.dataPoints.map((p) => [p.attributes['grpc.status'], p]));
      expect(byStatus.get('OK')!.value.count).toBe(2);
      expect(byStatus.get('ABORTED')!.value.count).toBe(1);
      expect(byStatus.get('OK')!.attributes).toEqual({ 'grpc.method': 'e2e.Probe/Unary', 'grpc.status': 'OK', 'grpc.target': target });
      const sent = metrics.get('grpc.client.attempt.sent_total_compressed_message_size') as HistogramMetricData;
      const okSent = sent.dataPoints.find((p) => p.attributes['grpc.status'] === 'OK')!;
      expect(okSent.value.sum).toBe(2 * requestSize({ payload: Buffer.alloc(50) }));

      await eventually(async () => {
        const server = new Map((await reader.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
        const serverDuration = server.get('grpc.server.call.duration') as HistogramMetricData;
        expect(serverDuration.dataPoints.reduce((n, p) => n + p.value.count, 0)).toBe(3);
      });
      const all = new Map((await reader.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
      expect((all.get('grpc.server.call.started') as SumMetricData).dataPoints).toEqual([expect.objectContaining({ value: 3, attributes: { 'grpc.method': 'e2e.Probe/Unary' } })]);
      const received = all.get('grpc.server.call.rcvd_total_compressed_message_size') as HistogramMetricData;
      expect(received.dataPoints.find((p) => p.attributes['grpc.status'] === 'OK')!.value.sum).toBe(2 * requestSize({ payload: Buffer.alloc(50) }));
      expect(all.has('grpc.server.call.sent_total_compressed_message_size')).toBe(true);
      expect(all.has('grpc.client.attempt.rcvd_total_compressed_message_size')).toBe(true);
    } finally {
      stop();
      await probe.close();
      await provider.shutdown();
    }
  });
});
