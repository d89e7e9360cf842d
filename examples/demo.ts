/**
 * Demo: a server and a client in one process, going through unary, server
 * streaming, client streaming and bidi streaming, plus an error and a deadline.
 */
import { fileURLToPath } from 'node:url';
import { Channel, GrpcError, Metadata, Server, Status, loadProto } from '../src/index.js';
// Typed stubs, generated from greeter.proto by `npm run gen:demo` (tsgrpc-gen).
import { createGreeterClient, greeterDefinition, type GreeterImplementation } from './generated/greeter.js';

const protoPath = fileURLToPath(new URL('../../examples/greeter.proto', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const greeter = greeterDefinition(await loadProto(protoPath));

  const implementation: GreeterImplementation = {
    async sayHello(req, ctx) {
      if (!req.name) throw new GrpcError(Status.INVALID_ARGUMENT, 'name must not be empty');
      if (req.name === 'slow') await sleep(500);
      ctx.trailers.set('served-by', 'tsgrpc-demo');
      return { message: `Hello, ${req.name}!` };
    },
    *countTo(req) {
      for (let i = 1; i <= req.limit; i++) yield { value: i };
    },
    async sum(numbers) {
      let total = 0;
      for await (const n of numbers) total += n.value;
      return { value: total };
    },
    async *chat(requests) {
      for await (const r of requests) yield { message: `echo: ${r.name}` };
    },
  };
  const server = new Server();
  server.addService(greeter, implementation);
  const port = await server.listen('127.0.0.1:0');
  console.log(`server listening on 127.0.0.1:${port}`);

  const channel = new Channel(`127.0.0.1:${port}`);
  const client = createGreeterClient(channel, greeter);

  const reply = await client.sayHello({ name: 'world' }, {
    metadata: new Metadata({ 'x-request-id': 'demo-1' }),
    onTrailer: (md) => console.log(`  trailers: served-by=${md.get('served-by')}`),
  });
  console.log(`unary            SayHello -> ${JSON.stringify(reply.message)}`);

  const counted: number[] = [];
  for await (const n of client.countTo({ limit: 5 })) counted.push(n.value);
  console.log(`server streaming CountTo(5) -> [${counted.join(', ')}]`);

  async function* numbers() {
    for (const value of [10, 20, 12]) yield { value };
  }
  const total = await client.sum(numbers());
  console.log(`client streaming Sum(10, 20, 12) -> ${total.value}`);

  const chat = client.chat();
  for (const name of ['alpha', 'beta', 'gamma']) await chat.write({ name });
  chat.end();
  const echoes: string[] = [];
  for await (const r of chat) echoes.push(r.message);
  console.log(`bidi streaming   Chat -> ${JSON.stringify(echoes)}`);

  try {
    await client.sayHello({ name: '' });
  } catch (err) {
    const e = err as GrpcError;
    console.log(`error status     SayHello('') -> ${Status[e.code]}: ${e.details}`);
  }
  try {
    await client.sayHello({ name: 'slow' }, { timeout: 100 });
  } catch (err) {
    const e = err as GrpcError;
    console.log(`deadline         SayHello('slow', 100 ms) -> ${Status[e.code]}: ${e.details}`);
  }

  channel.close();
  await server.shutdown(1000);
  console.log('done: all four call modes worked');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
