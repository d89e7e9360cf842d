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
const messagesFixtures = path.join(repo, 'test/fixtures/messages');

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
    expect(code).toContain('  id: string;'); // longs: String, loadProto's default
    expect(code).toContain('  photo: Buffer;');
    expect(code).toContain('  stepsByName: Record<string, Recipe_Step>;');
    expect(code).toContain('  originStep?: Recipe_Step;');
    expect(code).toContain("  sourceKind?: 'url' | 'originStep' | 'level';");
    expect(code).toContain('  servings?: number;');
    expect(code).toContain('  localItem: kitchen_Item | null;');
    expect(code).toContain('export type Recipe_Difficulty = (keyof typeof Recipe_Difficulty);');
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
  title: 't', id: '9007199254740993', views: 3n, photo: new Uint8Array([1]), difficulty: Recipe_Difficulty.NIGHTMARE,
  steps: [{ text: 'boil' }], labels: { 1: 'one' }, itemsById: { 42: { sku: 'x' } }, level: 'LEVEL_HIGH', servings: null,
  checksum: { low: 1, high: 0 }, rating: 'NaN', levels: [Level.LEVEL_HIGH, 'LEVEL_UNSPECIFIED'],
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
  const id: bigint = BigInt(r.id);
  const hard: boolean = r.difficulty === 'HARD';
  for await (const listed of client.list({})) listed.sourceKind?.toUpperCase();
  const call = client.cook();
  await call.write({ text: 'x' });
  for await (const p of call) return p.value + id + hard;
  return r.title + r.photo.toString('hex');
}
`;
    const result = typeCheck({ 'kitchen.ts': code, 'usage.ts': usage });
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });

  it('types proto2 (required, defaults, groups, extensions), editions and every well-known type, under other options', () => {
    const files = ['sink.proto', 'legacy.proto', 'editions.proto'];
    const dirs = [messagesFixtures];
    const bigints = generateTypeScript(files, { includeDirs: dirs, importFrom: srcIndex, longs: BigInt, enums: Number, keepCase: true, defaults: false });
    expect(bigints).toContain('  f_int64?: bigint;');
    expect(bigints).toContain("  '.legacy.ext_note'?: string;");
    expect(bigints).toContain('  extra?: Legacy_Extra;');
    expect(bigints).toContain('export type Color = (typeof Color)[keyof typeof Color];');
    expect(bigints).toContain('  type_url?: string;'); // Any, with keepCase
    const strings = generateTypeScript(files, { includeDirs: dirs, importFrom: srcIndex });
    expect(strings).toContain("  '.legacy.extNote': string;");
    expect(strings).toContain('  id: string;');
    expect(strings).toContain('  typeUrl: string;');
    expect(strings).toContain('  createdAt: Timestamp | null;');
    const usage = `
import * as big from './bigints.js';
import * as str from './strings.js';
export const a: bigint | undefined = ({} as big.Sink).scalars?.f_int64;
export const b: number | undefined = ({} as big.Scalars).color;
export const c: string = ({} as str.Legacy)['.legacy.extNote'];
export const d: 'SAD' | 'HAPPY' = ({} as str.Legacy).mood;
export const e: str.LegacyInit = { id: 'x', extra: { info: 'i' }, '.legacy.extNote': 'n', big: 5n };
export const f: string | undefined = ({} as str.Sink).createdAt?.seconds;
export const g: str.BoxInit = { inner: { size: 'SIZE_LARGE', weight: 1 } };
export const h: str.SinkInit = { createdAt: new Date(), ttl: { seconds: 1 } };
`;
    const result = typeCheck({ 'bigints.ts': bigints, 'strings.ts': strings, 'usage.ts': usage });
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });

  it('keeps .proto comments of every style as doc comments', () => {
    const code = generateTypeScript([greeterProto], { importFrom: srcIndex });
    expect(code).toContain('/** A small service that exercises all four gRPC call modes. */\nexport interface GreeterClient {');
    const kitchen = generateTypeScript(['kitchen.proto'], { includeDirs: [fixtures], importFrom: srcIndex });
    expect(kitchen).toContain('/** Names that would clash with what the generated module uses itself. */\nexport interface kitchen_Promise {');
    const tricky = path.join(scratch, 'comments.proto');
    writeFileSync(tricky, 'syntax = "proto3";\n// Ends */ early?\nmessage C {\n  /* block */\n  string a = 1;\n  string b = 2; // trailing\n}\n');
    const out = generateTypeScript([tricky], { importFrom: srcIndex });
    expect(out).toContain('/** Ends *\\/ early? */');
    expect(out).toContain('  /** block */\n  a: string;');
    expect(out).toContain('  /** trailing */\n  b: string;');
  });

  it('refuses options it cannot honour', () => {
    expect(() => generateTypeScript([greeterProto], { json: true } as never)).toThrow('option json is not supported by tsgrpc-gen');
    expect(() => generateTypeScript([greeterProto], { longs: Object } as never)).toThrow('option longs must be one of');
  });

  it('describes decoded messages the way loadProto really decodes them', async () => {
    const pkg = await loadProto('kitchen.proto', { includeDirs: [fixtures] });
    const Recipe = pkg.codec('kitchen.Recipe');
    const decoded = Recipe.deserialize(Recipe.serialize({ url: 'u', id: 7, steps: [{ text: 's' }], difficulty: 'HARD' }));
    expect(decoded.title).toBe(''); // unset scalars are present
    expect(decoded.tags).toEqual([]);
    expect(decoded.labels).toEqual({});
    expect(decoded.photo).toEqual(Buffer.alloc(0));
    expect(decoded.localItem).toBeNull(); // unset message fields are null
    expect('originStep' in decoded).toBe(false); // unset oneof members are absent...
    expect('servings' in decoded).toBe(false); // ...and so are proto3 optionals
    expect(decoded.sourceKind).toBe('url');
    expect(decoded.id).toBe('7');
    expect(decoded.difficulty).toBe('HARD');
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
