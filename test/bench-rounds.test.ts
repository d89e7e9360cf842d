// The benchmark's rotated rounds (bench/rounds.ts): order per round, medians
// and per-round ratios. Pure functions, no timing.
import { describe, expect, it } from 'vitest';
import type { Measurement } from '../bench/load.js';
import { median, medianOf, rotation, roundRatios, runRounds } from '../bench/rounds.js';

const m = (throughput: number, extra: Partial<Measurement> = {}): Measurement => ({
  calls: throughput,
  errors: 0,
  seconds: 1,
  throughput,
  p50: 1000 / throughput,
  p99: 2000 / throughput,
  ...extra,
});

describe('bench rounds', () => {
  it('rotates the order each round: A B C, B C A, C A B, then again', async () => {
    const order: string[] = [];
    await runRounds(['A', 'B', 'C'], 4, async (c, r) => {
      order.push(`${r}${c}`);
      return new Map([['s', m(1)]]);
    });
    expect(order).toEqual(['0A', '0B', '0C', '1B', '1C', '1A', '2C', '2A', '2B', '3A', '3B', '3C']);
    expect(rotation(['x'], 5)).toEqual(['x']);
  });

  it('files each round under its contender and scenario, errors kept', async () => {
    const res = await runRounds(['A', 'B'], 3, async (c, r) =>
      new Map<string, Measurement | string>([['s', c === 'B' && r === 1 ? 'boom' : m(c === 'A' ? 10 + r : 20 + r)]]),
    );
    expect(res.get('A')!.get('s')!.rounds.map((x) => x?.throughput)).toEqual([10, 11, 12]);
    const b = res.get('B')!.get('s')!;
    expect(b.rounds.map((x) => x?.throughput ?? null)).toEqual([20, null, 22]);
    expect(b.error).toBe('boom');
  });

  it('takes medians field by field and sums errors', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    const out = medianOf([m(100, { errors: 1, firstError: 'x' }), null, m(300), m(200, { cpuPerCall: 5 })])!;
    expect(out.throughput).toBe(200);
    expect(out.p50).toBe(1000 / 200);
    expect(out.errors).toBe(1);
    expect(out.firstError).toBe('x');
    expect(out.cpuPerCall).toBe(5);
    expect(medianOf([null, null])).toBeNull();
  });

  it('takes ratios within each round, then their median and range', () => {
    // Round 2 is slow for both: the per-round ratio stays 0.5.
    const a = [m(50), m(10), m(60)];
    const b = [m(100), m(20), m(100)];
    const r = roundRatios(a, b)!;
    expect(r.perRound).toEqual([0.5, 0.5, 0.6]);
    expect(r.median).toBe(0.5);
    expect([r.min, r.max]).toEqual([0.5, 0.6]);
    expect(roundRatios([null], [m(1)])).toBeUndefined();
  });
});
