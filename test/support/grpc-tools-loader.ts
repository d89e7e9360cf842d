// Loads grpc-tools' generated CommonJS (`*_grpc_pb.js`) with its
// `require('@grpc/grpc-js')` answered by a chosen grpc module, the way a
// program that switched to tsgrpc/grpc-js (by an npm alias or a bundler alias)
// would see it. Every other require goes to Node's own, so the `*_pb.js`
// message classes are loaded once and shared by both sides of a test.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

const cache = new Map<object, Map<string, any>>();

/** `require(file)` with '@grpc/grpc-js' resolved to `grpc`; one evaluation per (file, grpc). */
export function requireGenerated(file: string, grpc: object): any {
  const filename = path.resolve(file);
  let perModule = cache.get(grpc);
  if (!perModule) cache.set(grpc, (perModule = new Map()));
  const cached = perModule.get(filename);
  if (cached) return cached.exports;

  const nodeRequire = createRequire(filename);
  const redirected = (id: string) => (id === '@grpc/grpc-js' ? grpc : nodeRequire(id));
  const module = { exports: {} as any };
  perModule.set(filename, module);
  const body = vm.compileFunction(fs.readFileSync(filename, 'utf8'), ['exports', 'require', 'module', '__filename', '__dirname'], { filename });
  body(module.exports, redirected, module, filename, path.dirname(filename));
  return module.exports;
}
