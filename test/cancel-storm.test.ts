// A reset must never look like a clean end of input. Storms of streaming calls that a client
// cancels while the handler holds them, from a raw-frame client (RST_STREAM alone), @grpc/grpc-js
// (END_STREAM, then RST_STREAM, written separately), grpc-go and tsgrpc (RST_STREAM alone). The clients
// run in their own processes where it matters, so their writes and the server's reads interleave
// as they do between machines. Each handler records how its request stream ended and whether
// ctx.signal fired with CANCELLED.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  STORM_MODES, StormServer, grpcGoCancels, grpcJsCancels, misclassified, rawFrameCancels, tsgrpcCancels, type StormMode,
} from './support/cancel-storm.js';

const N = 1000;

const CLIENTS: Array<[string, (port: number, mode: StormMode, count: number) => Promise<void>]> = [
  ['raw RST_STREAM(CANCEL) alone', rawFrameCancels],
  ['@grpc/grpc-js cancel()', grpcJsCancels],
  ['grpc-go context cancel', grpcGoCancels],
  ['tsgrpc signal/cancel()', tsgrpcCancels],
];

describe('cancel storms: every cancelled call looks cancelled to its handler', () => {
  let storm: StormServer;
  beforeAll(async () => {
    storm = await StormServer.start();
  });
  afterAll(() => storm.close());

  for (const [client, cancels] of CLIENTS) {
    for (const mode of STORM_MODES) {
      it(`${client}: ${N} ${mode} calls`, { timeout: 60_000 }, async () => {
        storm.clear();
        await cancels(storm.port, mode, N);
        const seen = await storm.outcomes(mode, N);
        expect(misclassified(seen)).toEqual({});
        expect(seen).toHaveLength(N);
      });
    }
  }
});
