// A reset must never look like a clean end of input: storms of cancelled streaming calls from
// several client implementations, each handler checking what it saw.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORM_MODES, StormServer, grpcJsCancels, misclassified, rawFrameCancels } from './support/cancel-storm.js';

const N = 1000;

describe('cancel storms: every cancelled call looks cancelled to its handler', () => {
  let storm: StormServer;
  beforeAll(async () => {
    storm = await StormServer.start();
  });
  afterAll(() => storm.close());

  for (const mode of STORM_MODES) {
    it(`raw RST_STREAM(CANCEL) alone, ${mode}`, async () => {
      storm.clear();
      await rawFrameCancels(storm.port, mode, N);
      const seen = await storm.outcomes(mode, N);
      expect(misclassified(seen)).toEqual({});
      expect(seen).toHaveLength(N);
    });
  }

  for (const mode of STORM_MODES) {
    it(`@grpc/grpc-js cancel(), ${mode}`, async () => {
      storm.clear();
      await grpcJsCancels(storm.port, mode, N);
      const seen = await storm.outcomes(mode, N);
      expect(misclassified(seen)).toEqual({});
      expect(seen).toHaveLength(N);
    });
  }
});
