import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Channel, Server, loadProto, type ProtoPackage } from '../src/index.js';
import { generateTypeScript } from '../src/protobuf/codegen.js';
import { createGreeterClient, greeterDefinition, type GreeterImplementation } from '../examples/generated/greeter.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const greeterProto = path.join(repo, 'examples/greeter.proto');
const fixtures = path.join(repo, 'test/fixtures/codegen');

// Type checks run in a scratch folder outside the repo; they import the repo's src by relative path.
const scratch = mkdtempSync(path.join(tmpdir(), 'tsgrpc-codegen-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const srcIndex = path.relative(scratch, path.join(repo, 'src/index.js')).split(path.sep).join('/');

/** Runs the repo's tsc (v7, native: no compiler API) over `files` in the scratch folder under strict mode. */
function typeCheck(files: Record<string, string>): { code: number | null; output: string } {
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(scratch, name), text);
  writeFileSync(path.join(scratch, 'package.json'), '{ "type": "module" }\n');
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
      skipLibCheck: true, types: ['node'], typeRoots: [path.join(repo, 'node_modules/@types')],
    },
    files: Object.keys(files),
  };
  writeFileSync(path.join(scratch, 'tsconfig.json'), JSON.stringify(tsconfig));
  const tsc = path.join(repo, 'node_modules/typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', scratch], { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('generateTypeScript', () => {
  it('reproduces the checked-in examples/generated/greeter.ts (run `npm run gen:demo` if this fails)', () => {
    const code = generateTypeScript([greeterProto], { importFrom: '../../src/index.js' });
    expect(code).toBe(readFileSync(path.join(repo, 'examples/generated/greeter.ts'), 'utf8'));
  });

  it('emits code for every field shape that compiles under strict mode', () => {
    const code = generateTypeScript(['kitchen.proto'], { includeDirs: [fixtures], importFrom: srcIndex });
    expect(code).toContain('export interface Recipe_Step {');
    expect(code).toContain('  id: Int64;');
    expect(code).toContain('  photo: Uint8Array;');
    expect(code).toContain('  stepsByName: Record<string, Recipe_Step>;');
    expect(code).toContain('  originStep: Recipe_Step | null;');
    expect(code).toContain("  readonly sourceKind?: 'url' | 'originStep' | 'level';");
    expect(code).toContain('  servings: number | null;');
    // Item is in both packages and Promise is a name the module uses, so those get package prefixes.
    expect(code).toContain('export interface kitchen_Item {');
    expect(code).toContain('export interface other_v1_Item {');
    expect(code).toContain('export interface kitchen_Promise {');
    expect(code).toContain('  cook(options?: tsgrpc.CallOptions): tsgrpc.BidiStream<Recipe_StepInit, kitchen_Promise>;');
    const usage = `
import { Level, Recipe_Difficulty, createKitchenClient, type KitchenImplementation, type Recipe, type RecipeInit } from './kitchen.js';
import { Server, Channel } from '${srcIndex}';
// A decoded message must be usable as input again.
export const roundTrip = (r: Recipe): RecipeInit => r;
export const init: RecipeInit = {
  title: 't', id: '9007199254740993', views: 3, photo: new Uint8Array([1]), difficulty: Recipe_Difficulty.NIGHTMARE,
  steps: [{ text: 'boil' }], labels: { 1: 'one' }, itemsById: { a: { sku: 'x' } }, level: Level.LEVEL_HIGH, servings: null,
};
const impl: KitchenImplementation = {
  async get(item) { return { title: item.name }; },
  async *list() { yield init; },
  async upload(recipes) { for await (const r of recipes) r.steps.forEach((s) => s.seconds.toFixed()); return {}; },
  async *cook(steps) { for await (const s of steps) yield { value: s.text }; },
};
new Server().addService({ name: 'kitchen.Kitchen', methods: {} }, impl);
export async function use(channel: Channel): Promise<string> {
  const client = createKitchenClient(channel, { name: 'kitchen.Kitchen', methods: {} });
  const r = await client.get({ name: 'x' });
  const id: number = typeof r.id === 'number' ? r.id : r.id.toNumber();
  for await (const listed of client.list({})) listed.sourceKind?.toUpperCase();
  const call = client.cook();
  await call.write({ text: 'x' });
  for await (const p of call) return p.value + id;
  return r.title;
}
`;
    const result = typeCheck({ 'kitchen.ts': code, 'usage.ts': usage });
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });

  it('describes decoded messages the way protobufjs really decodes them', async () => {
    const { root } = await loadProto('kitchen.proto', { includeDirs: [fixtures] });
    const Recipe = root.lookupType('kitchen.Recipe');
    const decoded = Recipe.decode(Recipe.encode({ url: 'u', id: 7, steps: [{ text: 's' }] }).finish()) as any;
    expect(decoded.title).toBe(''); // unset scalars are present
    expect(decoded.tags).toEqual([]);
    expect(decoded.labels).toEqual({});
    expect(decoded.localItem).toBeNull(); // unset message fields are null
    expect(decoded.originStep).toBeNull(); // so are unset oneof members...
    expect(decoded.servings).toBeNull(); // ...and proto3 optionals
    expect(decoded.sourceKind).toBe('url');
    expect(decoded.id.toNumber()).toBe(7); // a Long, since `long` is installed
  });

  it('reports parse errors as file:line', () => {
    const bad = path.join(scratch, 'broken.proto');
    writeFileSync(bad, 'syntax = "proto3";\nmessage A {\n  string x = 1 oops;\n}\n');
    expect(() => generateTypeScript([bad])).toThrow(`${bad}:3: illegal token 'oops'`);
  });

  it('makes tsc reject a wrong field type on the typed client', () => {
    const greeter = generateTypeScript([greeterProto], { importFrom: srcIndex });
    const bad = `
import { createGreeterClient } from './greeter.js';
import { Channel } from '${srcIndex}';
const client = createGreeterClient(new Channel('127.0.0.1:1'), { name: 'demo.Greeter', methods: {} });
void client.sayHello({ name: 42 });
`;
    const result = typeCheck({ 'greeter.ts': greeter, 'bad.ts': bad });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/bad\.ts\(5,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
  });
});

describe('generated greeter types end to end', () => {
  it('serves and calls all four modes through GreeterImplementation and GreeterClient', async () => {
    const definition = greeterDefinition(await loadProto(greeterProto));
    const impl: GreeterImplementation = {
      async sayHello(req) {
        return { message: `Hello, ${req.name}!` };
      },
      async *countTo(req) {
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
    const server = new Server().addService(definition, impl);
    const port = await server.listen('127.0.0.1:0');
    const channel = new Channel(`127.0.0.1:${port}`);
    try {
      const client = createGreeterClient(channel, definition);
      expect((await client.sayHello({ name: 'typed' })).message).toBe('Hello, typed!');

      const counted: number[] = [];
      for await (const n of client.countTo({ limit: 4 })) counted.push(n.value);
      expect(counted).toEqual([1, 2, 3, 4]);

      expect((await client.sum([{ value: 10 }, { value: 20 }, { value: 12 }])).value).toBe(42);

      const chat = client.chat();
      for (const name of ['a', 'b']) await chat.write({ name });
      chat.end();
      const echoes: string[] = [];
      for await (const r of chat) echoes.push(r.message);
      expect(echoes).toEqual(['echo: a', 'echo: b']);
    } finally {
      channel.close();
      await server.shutdown(1000);
    }
  });

  it('names the missing service clearly', () => {
    expect(() => greeterDefinition({ services: {} } as unknown as ProtoPackage)).toThrow('service demo.Greeter is not in the loaded package');
  });
});
