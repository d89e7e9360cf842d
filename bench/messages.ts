// What message conversion costs the unary path: loadProto's default codec (strict
// input conversion + protobufjs encode; decode + toObject) against bare
// protobufjs encode/decode, the codec tsgrpc used before conversion options.
// Usage: npm run build && node dist/bench/messages.js [seconds per run, default 2]
// Client and server share one process, so every call pays four conversions on
// this process's CPU: the comparison is the worst case for the overhead. Each
// codec runs in its own child process, so protobufjs's generated encoder never
// sees both object shapes (that alone would slow whichever runs second).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { Channel, Server, createClient, fromRoot, type ServiceDefinition } from '../src/index.js';

const PROTO = `
syntax = "proto3";
package benchmsg;
enum Kind { KIND_UNSPECIFIED = 0; SMALL = 1; LARGE = 2; }
message Order {
  string customer = 1;
  int64 id = 2;
  Kind kind = 3;
  repeated string tags = 4;
  double amount = 5;
  bool paid = 6;
}
service Orders { rpc Place (Order) returns (Order); }
`;

const seconds = Number(process.argv[2] ?? 2);
const root = protobuf.parse(PROTO).root;
const pkg = fromRoot(root);
const Order = root.lookupType('benchmsg.Order');
const converted = pkg.codec('benchmsg.Order');
const bare = { serialize: (v: object) => Order.encode(v).finish(), deserialize: (b: Uint8Array) => Order.decode(b) };

// The same order in the form each codec is given: names and strings for ours, numbers for bare protobufjs.
const forConverted = { customer: 'Ada Lovelace', id: '1234567890123', kind: 'LARGE', tags: ['express', 'gift'], amount: 99.5, paid: true };
const forBare = { ...forConverted, id: 1234567890123, kind: 2 };

function codecNs(codec: typeof bare, value: object, n: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) codec.deserialize(codec.serialize(value));
  return Number(process.hrtime.bigint() - start) / n;
}

async function callsPerSecond(codec: typeof bare, value: object): Promise<{ rate: number; cpuUs: number }> {
  const method = pkg.services['benchmsg.Orders'].methods.Place;
  const service: ServiceDefinition = {
    name: 'benchmsg.Orders',
    methods: {
      Place: { ...method, serializeRequest: codec.serialize, deserializeRequest: codec.deserialize, serializeResponse: codec.serialize, deserializeResponse: codec.deserialize },
    },
  };
  const server = new Server().addService(service, { place: async (order: object) => order });
  const port = await server.listen('127.0.0.1:0');
  const channel = new Channel(`127.0.0.1:${port}`);
  const client = createClient(service, channel) as unknown as { place(v: object): Promise<object> };
  try {
    for (let i = 0; i < 2000; i++) await client.place(value); // warm-up
    const cpu = process.cpuUsage();
    const start = performance.now();
    let calls = 0;
    const until = start + seconds * 1000;
    // c=10: a few calls in flight, as a service under load would have.
    await Promise.all(Array.from({ length: 10 }, async () => {
      while (performance.now() < until) {
        await client.place(value);
        calls++;
      }
    }));
    const elapsed = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    return { rate: calls / elapsed, cpuUs: (used.user + used.system) / calls };
  } finally {
    channel.close();
    await server.shutdown(1000);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Sample { ns: number; rate: number; cpuUs: number; bytes: number }

/** One child run: the codec's ns per serialize+deserialize pair, then unary calls/s and CPU per call. */
async function measure(mode: 'bare' | 'converted'): Promise<Sample> {
  const codec = mode === 'bare' ? bare : converted;
  const value = mode === 'bare' ? forBare : forConverted;
  codecNs(codec, value, 200_000);
  const ns = Math.min(...Array.from({ length: 5 }, () => codecNs(codec, value, 200_000)));
  const { rate, cpuUs } = await callsPerSecond(codec, value);
  return { ns, rate, cpuUs, bytes: codec.serialize(value as never).length };
}

const mode = process.argv[3];
if (mode === 'bare' || mode === 'converted') {
  console.log(JSON.stringify(await measure(mode)));
} else {
  const self = fileURLToPath(import.meta.url);
  const runs = { bare: [] as Sample[], converted: [] as Sample[] };
  for (let round = 0; round < 3; round++) {
    for (const m of ['bare', 'converted'] as const) {
      runs[m].push(JSON.parse(execFileSync(process.execPath, [self, String(seconds), m], { encoding: 'utf8' })) as Sample);
    }
  }
  const pick = (m: 'bare' | 'converted', k: keyof Sample) => median(runs[m].map((r) => r[k]));
  const [bareNs, convNs] = [pick('bare', 'ns'), pick('converted', 'ns')];
  const [bareRate, convRate] = [pick('bare', 'rate'), pick('converted', 'rate')];
  const [bareCpu, convCpu] = [pick('bare', 'cpuUs'), pick('converted', 'cpuUs')];
  console.log(`| measure | bare protobufjs | default conversion | ratio |
|---|---:|---:|---:|
| serialize + deserialize, one ${runs.converted[0].bytes}-byte message (best of 5 × 200k) | ${(bareNs / 1000).toFixed(2)} µs | ${(convNs / 1000).toFixed(2)} µs | ${(convNs / bareNs).toFixed(2)}× |
| unary calls/s, c=10, client and server in one process (median of 3 runs × ${seconds} s) | ${bareRate.toFixed(0)} | ${convRate.toFixed(0)} | ${(convRate / bareRate).toFixed(3)}× |
| process CPU per call (both sides, 4 conversions) | ${bareCpu.toFixed(1)} µs | ${convCpu.toFixed(1)} µs | ${(convCpu / bareCpu).toFixed(3)}× |
| extra CPU of the two serialize + deserialize pairs a call makes, as a share of a call: 2 × (${(convNs / 1000).toFixed(2)} − ${(bareNs / 1000).toFixed(2)}) µs ÷ ${bareCpu.toFixed(1)} µs | | | ${(((2 * (convNs - bareNs)) / 1000 / bareCpu) * 100).toFixed(1)} % |`);
}
