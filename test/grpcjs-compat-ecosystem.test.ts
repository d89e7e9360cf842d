// The grpc-js ecosystem packages on a tsgrpc/grpc-js server: grpc-health-check's
// HealthImplementation and @grpc/reflection's ReflectionService register through
// Server.addService unchanged. Run with either module as the server and as the
// client; the @grpc/grpc-js server rows are the reference.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpcJs from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ours from '../src/grpc-js/index.js';
import { bind, greeterDef, type GrpcModule } from './support/grpcjs-compat-suite.js';

const MODULES: Record<string, GrpcModule> = { '@grpc/grpc-js': grpcJs, 'tsgrpc/grpc-js': ours };
const reflectionDir = path.join(path.dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '../proto');
const healthDef = protoLoader.loadSync(healthProtoPath, { keepCase: true, longs: String, enums: String, defaults: true });
const reflectionDef = protoLoader.loadSync(path.join(reflectionDir, 'grpc/reflection/v1/reflection.proto'), { keepCase: true, defaults: true, oneofs: true });

for (const [serverName, serverGrpc] of Object.entries(MODULES)) {
  for (const [clientName, clientGrpc] of Object.entries(MODULES)) {
    describe(`${serverName} server, ${clientName} client`, () => {
      let server: any;
      let address: string;
      const health = new HealthImplementation({ '': 'SERVING', 'hello.Greeter': 'SERVING' });
      const clients: any[] = [];
      const make = (def: protoLoader.PackageDefinition, pick: (pkg: any) => any) => {
        const client = new (pick(clientGrpc.loadPackageDefinition(def)))(address, clientGrpc.credentials.createInsecure());
        clients.push(client);
        return client;
      };

      beforeAll(async () => {
        server = new serverGrpc.Server();
        server.addService(serverGrpc.loadPackageDefinition(greeterDef).hello.Greeter.service, {
          sayHello: (call: any, cb: any) => cb(null, { message: `Hello ${call.request.name}` }),
        });
        health.addToServer(server);
        new ReflectionService(greeterDef).addToServer(server);
        address = `127.0.0.1:${await bind(serverGrpc, server)}`;
      });
      afterAll(() => {
        for (const c of clients) c.close();
        server?.forceShutdown();
      });

      it('grpc-health-check: Check, an unknown service, and Watch following setStatus', async () => {
        const client = make(healthDef, (p) => p.grpc.health.v1.Health);
        const check = (service: string) => new Promise<any>((resolve) => client.check({ service }, (err: any, res: any) => resolve(err ?? res)));
        expect(await check('hello.Greeter')).toEqual({ status: 'SERVING' });
        expect((await check('no.Such')).code).toBe(clientGrpc.status.NOT_FOUND);

        const watch = client.watch({ service: 'hello.Greeter' });
        const seen: string[] = [];
        const twoUpdates = new Promise<void>((resolve) => {
          watch.on('data', (res: any) => {
            seen.push(res.status);
            if (seen.length === 1) health.setStatus('hello.Greeter', 'NOT_SERVING');
            if (seen.length === 2) resolve();
          });
        });
        watch.on('error', () => {});
        await twoUpdates;
        watch.cancel();
        health.setStatus('hello.Greeter', 'SERVING');
        expect(seen).toEqual(['SERVING', 'NOT_SERVING']);
      });

      it('@grpc/reflection: list services and the file that defines a symbol', async () => {
        const client = make(reflectionDef, (p) => p.grpc.reflection.v1.ServerReflection);
        const call = client.serverReflectionInfo();
        const responses: any[] = [];
        const done = new Promise<void>((resolve, reject) => {
          call.on('data', (r: any) => responses.push(r));
          call.on('end', resolve);
          call.on('error', reject);
        });
        call.write({ list_services: '' });
        call.write({ file_containing_symbol: 'hello.Greeter' });
        call.end();
        await done;
        expect(responses).toHaveLength(2);
        expect(responses[0].list_services_response.service.map((s: any) => s.name)).toContain('hello.Greeter');
        const files = responses[1].file_descriptor_response.file_descriptor_proto;
        expect(files.length).toBeGreaterThan(0);
        expect(Buffer.from(files[0]).toString('latin1')).toContain('hello.Greeter'.split('.')[1]);
      });
    });
  }
}
