#!/usr/bin/env node
/** tsgrpc-gen: writes one TypeScript module of message types and typed stubs for .proto files. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateTypeScript } from '../protobuf/codegen.js';

const USAGE = `usage: tsgrpc-gen [--out file.ts] [-I dir]... [--import-from module] [message options] a.proto [b.proto ...]
  -o, --out file        write the module here (default: stdout)
  -I, --include dir     look for the .proto files and their imports in dir (repeatable)
  --import-from module  where the generated code imports tsgrpc from (default: tsgrpc)
message options (the loadProto options the types describe; give loadProto the same):
  --keep-case           field names as in the .proto files (default: lowerCamelCase)
  --longs String|Number|BigInt   --enums String|Number   --bytes Buffer|String|Array
  --no-defaults         unset fields are absent      --arrays  --objects  --no-oneofs`;

interface Args {
  out?: string;
  includeDirs: string[];
  importFrom?: string;
  files: string[];
  message: Record<string, unknown>;
}

const CHOICES: Record<string, Record<string, unknown>> = {
  longs: { String, Number, BigInt },
  enums: { String, Number },
  bytes: { Buffer, String, Array },
};

class UsageError extends Error {}

function parseArgs(argv: string[]): Args {
  const args: Args = { includeDirs: [], files: [], message: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '-h' || arg === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg === '-o' || arg === '--out') args.out = value();
    else if (arg === '-I' || arg === '--include') args.includeDirs.push(value());
    else if (arg.startsWith('-I') && arg.length > 2) args.includeDirs.push(arg.slice(2));
    else if (arg === '--import-from') args.importFrom = value();
    else if (arg === '--keep-case') args.message.keepCase = true;
    else if (arg === '--no-defaults') args.message.defaults = false;
    else if (arg === '--arrays') args.message.arrays = true;
    else if (arg === '--objects') args.message.objects = true;
    else if (arg === '--no-oneofs') args.message.oneofs = false;
    else if (arg.replace(/^--/, '') in CHOICES) {
      const option = arg.slice(2);
      const choice = value();
      if (!(choice in CHOICES[option])) throw new UsageError(`${arg} must be one of ${Object.keys(CHOICES[option]).join(', ')}`);
      args.message[option] = CHOICES[option][choice];
    }
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else args.files.push(arg);
  }
  if (args.files.length === 0) throw new UsageError('no .proto files given');
  return args;
}

/** Parse errors already read "file:line: ..."; a missing import needs a hint. */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const missing = /^ENOENT: no such file or directory, open '(.+)'$/.exec(message);
  if (missing) return `cannot read ${missing[1]} (an import not found under any -I folder?)`;
  return message;
}

function main(): void {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`tsgrpc-gen: ${err.message}\n${USAGE}`);
    process.exit(2);
  }
  // Checked up front so a typo gets a plain message instead of protobufjs's ENOENT.
  for (const file of args.files) {
    const found = existsSync(file) || args.includeDirs.some((dir) => existsSync(path.join(dir, file)));
    if (!found) {
      const where = args.includeDirs.length ? ` (also looked under ${args.includeDirs.join(', ')})` : '';
      console.error(`tsgrpc-gen: ${file}: no such file${where}`);
      process.exit(1);
    }
  }
  let code: string;
  try {
    code = generateTypeScript(args.files, { ...args.message, includeDirs: args.includeDirs, importFrom: args.importFrom });
  } catch (err) {
    console.error(`tsgrpc-gen: ${describe(err)}`);
    process.exit(1);
  }
  if (!args.out) {
    process.stdout.write(code);
    return;
  }
  mkdirSync(path.dirname(args.out), { recursive: true });
  writeFileSync(args.out, code);
}

main();
