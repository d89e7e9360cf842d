// Rotated rounds: every contender of a comparison runs once per round, and the
// order rotates from round to round (A B C, B C A, C A B, ...), so no
// implementation always runs first (cold machine) or last (after the others
// heated it). Each round yields one measurement per contender; a row reports
// the median over rounds, and ratios are taken within a round, then their
// median and range reported, so a slow moment on the shared machine hits both
// sides of a ratio alike.
import type { Measurement } from './load.js';

/** Round `r`'s order: `items` rotated left by r. */
export function rotation<T>(items: readonly T[], r: number): T[] {
  const k = items.length === 0 ? 0 : r % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export function median(xs: readonly number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** One contender's measurements, one per round (null where that round failed). */
export type PerRound = (Measurement | null)[];

/**
 * The median measurement over rounds: each numeric field is the median of
 * that field; errors are summed, so a failure in any round shows.
 */
export function medianOf(rounds: PerRound): Measurement | null {
  const ok = rounds.filter((m): m is Measurement => m !== null);
  if (ok.length === 0) return null;
  const pick = (f: (m: Measurement) => number | undefined) => median(ok.map((m) => f(m) ?? NaN));
  return {
    calls: pick((m) => m.calls),
    errors: ok.reduce((n, m) => n + m.errors, 0),
    firstError: ok.find((m) => m.firstError)?.firstError,
    seconds: pick((m) => m.seconds),
    throughput: pick((m) => m.throughput),
    p50: pick((m) => m.p50),
    p99: pick((m) => m.p99),
    cpuPerCall: ok.some((m) => m.cpuPerCall !== undefined) ? pick((m) => m.cpuPerCall) : undefined,
  };
}

export interface RatioStats {
  median: number;
  min: number;
  max: number;
  /** The per-round ratios, in round order (NaN where a round failed). */
  perRound: number[];
}

/** Ratios a/b of throughput taken within each round. */
export function roundRatios(a: PerRound, b: PerRound): RatioStats | undefined {
  const perRound = a.map((m, i) => {
    const other = b[i];
    return m && other && other.throughput > 0 ? m.throughput / other.throughput : NaN;
  });
  const ok = perRound.filter(Number.isFinite);
  if (ok.length === 0) return undefined;
  return { median: median(ok), min: Math.min(...ok), max: Math.max(...ok), perRound };
}

/**
 * Runs `rounds` rounds over `contenders` in rotated order. `run` measures one
 * contender in one round and returns results keyed by scenario id (a string
 * is that scenario's error). Results: contender → scenario → per-round list.
 */
export async function runRounds<C extends string>(
  contenders: readonly C[],
  rounds: number,
  run: (c: C, round: number) => Promise<Map<string, Measurement | string>>,
): Promise<Map<C, Map<string, { rounds: PerRound; error?: string }>>> {
  const out = new Map<C, Map<string, { rounds: PerRound; error?: string }>>();
  for (const c of contenders) out.set(c, new Map());
  for (let r = 0; r < rounds; r++) {
    for (const c of rotation(contenders, r)) {
      const res = await run(c, r);
      for (const [id, m] of res) {
        const byScenario = out.get(c)!;
        const slot = byScenario.get(id) ?? { rounds: Array<Measurement | null>(rounds).fill(null) };
        if (typeof m === 'string') slot.error ??= m;
        else slot.rounds[r] = m;
        byScenario.set(id, slot);
      }
    }
  }
  return out;
}
