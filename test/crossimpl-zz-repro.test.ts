import * as grpc from '@grpc/grpc-js';
import { it, expect } from 'vitest';
import { Server, loadProtoSync } from '/work/main/src/index.js';

it('grpc-js client cancels a client stream; tsgrpc handler should see ctx.signal abort', async () => {
  const { services } = loadProtoSync('/work/main/examples/greeter.proto');
  const greeter = services['demo.Greeter'];
  const server = new Server();
  const log: string[] = [];
  let aborted!: () => void;
  const sawAbort = new Promise<void>((r) => (aborted = r));
  server.addService(greeter, {
    async sum(numbers: AsyncIterable<{ value: number }>, ctx: any) {
      ctx.signal.addEventListener('abort', () => { log.push('ctx.signal abort'); aborted(); });
      let total = 0;
      try { for await (const n of numbers) { log.push(`got ${n.value}`); total += n.value; } log.push('requests ended normally'); }
      catch (e) { log.push(`requests threw ${(e as Error).message}`); throw e; }
      return { value: total };
    },
  });
  const port = await server.listen('127.0.0.1:0');
  (server as any).listeners[0].on('stream', (s: any) => { for (const ev of ['end', 'aborted', 'close']) s.on(ev, () => log.push(`stream ${ev} (aborted=${s.aborted}, rstCode=${s.rstCode})`)); });
  const m = greeter.methods.Sum;
  const Ctor = grpc.makeGenericClientConstructor({ Sum: { path: m.path, requestStream: true, responseStream: false,
    requestSerialize: (v: any) => Buffer.from(m.serializeRequest(v)), requestDeserialize: (b: Buffer) => m.deserializeRequest(b),
    responseSerialize: (v: any) => Buffer.from(m.serializeResponse(v)), responseDeserialize: (b: Buffer) => m.deserializeResponse(b) } }, 'G');
  const client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as any;
  const call = client.Sum(() => {});
  call.write({ value: 1 });
  await new Promise((r) => setTimeout(r, 100));
  call.cancel();
  await Promise.race([sawAbort, new Promise((r) => setTimeout(r, 1000))]);
  console.log(log.join('\n'));
  client.close();
  server.forceShutdown();
  expect(log).toContain('ctx.signal abort');
}, 5000);
