// grpc-tools' static codegen path through tsgrpc/grpc-js: `*_pb.js` message
// classes on the real google-protobuf runtime and a `*_grpc_pb.js` service
// object + makeGenericClientConstructor client, exactly as grpc-tools emits them
// (test/fixtures/grpc-tools/, hand-written in that format: the generator can't
// be installed here). Each side is tsgrpc/grpc-js or real @grpc/grpc-js.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpcJs from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ours from '../src/grpc-js/index.js';
import { requireGenerated } from './support/grpc-tools-loader.js';
import { bind, shutdown } from './support/grpcjs-compat-suite.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures/grpc-tools');
const GRPC_PB = path.join(FIXTURES, 'trip_guide_grpc_pb.js');
const pb = createRequire(import.meta.url)(path.join(FIXTURES, 'trip_guide_pb.js'));

/** The generated service module as a program using `grpc` would load it. */
const generatedFor = (grpc: object) =>
  grpc === grpcJs ? createRequire(import.meta.url)(GRPC_PB) : requireGenerated(GRPC_PB, grpc);

const MAX_SAFE = Number.MAX_SAFE_INTEGER; // int64 as a JS number: exact up to 2^53 - 1
const MIN_INT64 = '-9223372036854775808'; // int64 with jstype = JS_STRING: all 64 bits

function tripFor(req: any) {
  const trip = new pb.Trip()
    .setId(`trip-of-${req.getTraveller()}`)
    .setMode(req.getMode())
    .setDistanceM(-MAX_SAFE)
    .setTicket(MIN_INT64);
  req.getWaypointsList().forEach((name: string, i: number) => trip.addStops(new pb.Trip.Stop().setName(name).setMinute(i * 15)));
  return trip;
}

function implementation(requests: any[]) {
  return {
    planTrip(call: any, callback: any) {
      requests.push(call.request);
      callback(null, tripFor(call.request));
    },
    listStops(call: any) {
      requests.push(call.request);
      for (const stop of tripFor(call.request).getStopsList()) call.write(stop);
      call.end();
    },
    shareStops(call: any) {
      call.on('data', (stop: any) => call.write(new pb.Trip.Stop().setName(stop.getName().toUpperCase()).setMinute(stop.getMinute() + 60)));
      call.on('end', () => call.end());
    },
  };
}

function request(traveller: string, mode: number, waypoints: string[]) {
  return new pb.TripRequest().setTraveller(traveller).setMode(mode).setWaypointsList(waypoints);
}

function readAll(call: any): Promise<{ data: any[]; error?: any }> {
  return new Promise((resolve) => {
    const data: any[] = [];
    call.on('data', (d: any) => data.push(d));
    call.on('error', (error: any) => resolve({ data, error }));
    call.on('end', () => resolve({ data }));
  });
}

describe('the hand-written generated messages match trip_guide.proto', () => {
  it('bytes from serializeBinary decode with protobufjs to the same values, and back', () => {
    const Trip = protobuf.loadSync(path.join(FIXTURES, 'trip_guide.proto')).lookupType('tripguide.Trip');
    const trip = tripFor(request('ann', pb.Mode.TRAIN, ['x', 'y']));
    const decoded = Trip.toObject(Trip.decode(trip.serializeBinary()), { longs: String, enums: String, defaults: true });
    expect(decoded).toEqual({
      id: 'trip-of-ann', mode: 'TRAIN', stops: [{ name: 'x', minute: 0 }, { name: 'y', minute: 15 }],
      distanceM: String(-MAX_SAFE), ticket: MIN_INT64,
    });
    const back = pb.Trip.deserializeBinary(Trip.encode(Trip.fromObject(decoded)).finish());
    expect(back.toObject()).toEqual(trip.toObject());
  });
});

const MODULES = { '@grpc/grpc-js': grpcJs, 'tsgrpc/grpc-js': ours } as const;

for (const [serverName, serverGrpc] of Object.entries(MODULES)) {
  for (const [clientName, clientGrpc] of Object.entries(MODULES)) {
    describe(`grpc-tools static code: ${serverName} server, ${clientName} client`, () => {
      const serverGen = generatedFor(serverGrpc);
      const clientGen = generatedFor(clientGrpc);
      const requests: any[] = [];
      let server: any;
      let client: any;

      beforeAll(async () => {
        server = new serverGrpc.Server();
        server.addService(serverGen.TripGuideService, implementation(requests));
        const port = await bind(serverGrpc, server);
        client = new clientGen.TripGuideClient(`127.0.0.1:${port}`, clientGrpc.credentials.createInsecure());
      });
      afterAll(async () => {
        client?.close();
        if (server) await shutdown(server);
      });

      it('the generated code was built by the intended module', () => {
        expect(client).toBeInstanceOf(clientGrpc.Client);
        expect(serverGen === clientGen).toBe(serverGrpc === clientGrpc);
        expect(serverGen.TripGuideService.planTrip.requestType).toBe(pb.TripRequest);
      });

      it('unary: message classes, the enum, repeated and nested fields and both int64s round-trip', async () => {
        const reply: any = await new Promise((resolve, reject) =>
          client.planTrip(request('ann', pb.Mode.BIKE, ['mill', 'bridge', 'tower']), (err: any, value: any) => (err ? reject(err) : resolve(value))),
        );
        expect(reply).toBeInstanceOf(pb.Trip);
        expect(reply.getMode()).toBe(pb.Mode.BIKE);
        expect(reply.getDistanceM()).toBe(-MAX_SAFE);
        expect(reply.getTicket()).toBe(MIN_INT64);
        expect(reply.toObject()).toEqual({
          id: 'trip-of-ann', mode: 2, distanceM: -MAX_SAFE, ticket: MIN_INT64,
          stopsList: [{ name: 'mill', minute: 0 }, { name: 'bridge', minute: 15 }, { name: 'tower', minute: 30 }],
        });
        const seen = requests.at(-1);
        expect(seen).toBeInstanceOf(pb.TripRequest);
        expect(seen.toObject()).toEqual({ traveller: 'ann', mode: pb.Mode.BIKE, waypointsList: ['mill', 'bridge', 'tower'] });
      });

      it('server streaming: each nested Stop arrives as a Trip.Stop instance', async () => {
        const { data, error } = await readAll(client.listStops(request('bo', pb.Mode.TRAIN, ['a', 'b'])));
        expect(error).toBeUndefined();
        expect(data.every((d) => d instanceof pb.Trip.Stop)).toBe(true);
        expect(data.map((d) => d.toObject())).toEqual([{ name: 'a', minute: 0 }, { name: 'b', minute: 15 }]);
        expect(requests.at(-1).getMode()).toBe(pb.Mode.TRAIN);
      });

      it('bidi streaming: stops go out and come back changed, in order', async () => {
        const call = client.shareStops();
        const all = readAll(call);
        for (let i = 0; i < 3; i++) call.write(new pb.Trip.Stop().setName(`s${i}`).setMinute(i));
        call.end();
        const { data, error } = await all;
        expect(error).toBeUndefined();
        expect(data.map((d) => d.toObject())).toEqual([0, 1, 2].map((i) => ({ name: `S${i}`, minute: 60 + i })));
      });

      it("a plain object instead of the message class fails with the generated serializer's error", async () => {
        const err: any = await new Promise((resolve) => client.planTrip({ traveller: 'x' }, (e: any) => resolve(e)));
        expect(err.code).toBe(clientGrpc.status.INTERNAL);
        expect(err.details).toContain('Expected argument of type tripguide.TripRequest');
      });
    });
  }
}

describe('grpc-tools with generate_package_definition', () => {
  // `--grpc_out=generate_package_definition:` emits the same service object,
  // exported as exports['tripguide.TripGuide'] and with no require of a grpc
  // module at all, for grpc.loadPackageDefinition: no redirect is needed.
  it('tsgrpc/grpc-js loadPackageDefinition gives a client that calls a real grpc-js server', async () => {
    const packageDefinition = { 'tripguide.TripGuide': generatedFor(grpcJs).TripGuideService };
    const server = new grpcJs.Server();
    server.addService(packageDefinition['tripguide.TripGuide'], implementation([]));
    const port = await bind(grpcJs, server);
    const { TripGuide } = (ours.loadPackageDefinition(packageDefinition) as any).tripguide;
    const client = new TripGuide(`127.0.0.1:${port}`, ours.credentials.createInsecure());
    try {
      const reply: any = await new Promise((resolve, reject) =>
        client.planTrip(request('cy', pb.Mode.WALK, ['gate']), (err: any, value: any) => (err ? reject(err) : resolve(value))),
      );
      expect(client).toBeInstanceOf(ours.Client);
      expect(reply.toObject()).toEqual({ id: 'trip-of-cy', mode: pb.Mode.WALK, distanceM: -MAX_SAFE, ticket: MIN_INT64, stopsList: [{ name: 'gate', minute: 0 }] });
    } finally {
      client.close();
      await shutdown(server);
    }
  });
});
