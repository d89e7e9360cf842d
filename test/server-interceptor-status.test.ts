// A server interceptor's sendStatus sees the status the client gets, including failures that
// happen while the response is sent (maxSendMessageSize).
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, Server, Status, createClient, type ServerInterceptor } from '../src/index.js';
import { Observations, collect, expectGrpcError, probeImplementation, probeService } from './support/probe.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function start(maxSendMessageSize: number) {
  const recorded: number[] = [];
  const recorder: ServerInterceptor = () => ({
    sendStatus(status, next) {
      recorded.push(status.error?.code ?? Status.OK);
      next(status);
    },
  });
  const server = new Server({ maxSendMessageSize, interceptors: [recorder] });
  server.addService(probeService, probeImplementation(new Observations()));
  const channel = new Channel(`127.0.0.1:${await server.listen('127.0.0.1:0')}`);
  cleanups.push(() => {
    channel.close();
    server.forceShutdown();
  });
  return { recorded, client: createClient(probeService, channel) };
}

describe('server interceptor status', () => {
  it('a response over maxSendMessageSize: the client and sendStatus both see RESOURCE_EXHAUSTED, in every mode', async () => {
    const { recorded, client } = await start(4);
    const big = { payload: Buffer.alloc(64, 1) };
    await expectGrpcError(client.unary(big), Status.RESOURCE_EXHAUSTED);
    await expectGrpcError(client.clientStream([{ responseSize: 64 }]), Status.RESOURCE_EXHAUSTED);
    await expectGrpcError(collect(client.serverStream({ ...big, count: 2 })), Status.RESOURCE_EXHAUSTED);
    expect(recorded).toEqual([Status.RESOURCE_EXHAUSTED, Status.RESOURCE_EXHAUSTED, Status.RESOURCE_EXHAUSTED]);
  });

  it('responses within the limit still end OK through the hooks', async () => {
    const { recorded, client } = await start(1024);
    await client.unary({ payload: Buffer.from('ok') });
    expect(await collect(client.serverStream({ payload: Buffer.from('ok'), count: 2 }))).toHaveLength(2);
    expect(recorded).toEqual([Status.OK, Status.OK]);
  });
});
