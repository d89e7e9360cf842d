/** grpc-timeout codec: at most 8 ASCII digits followed by a unit H M S m u n. */
const NANOS_PER_UNIT: Record<string, number> = {
  H: 3600e9, M: 60e9, S: 1e9, m: 1e6, u: 1e3, n: 1,
};
const UNITS_COARSE_FIRST = ['H', 'M', 'S', 'm', 'u', 'n'];
const MAX_VALUE = 99_999_999;

export class TimeoutFormatError extends Error {}

/** Parses a grpc-timeout header value into milliseconds (may be fractional). */
export function parseTimeout(value: string): number {
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!match) {
    throw new TimeoutFormatError(
      `malformed grpc-timeout ${JSON.stringify(value)}: expected 1 to 8 digits followed by one of H M S m u n`,
    );
  }
  return (Number(match[1]) * NANOS_PER_UNIT[match[2]]) / 1e6;
}

/**
 * Encodes a duration in milliseconds. Uses the coarsest unit that represents
 * the value exactly within 8 digits; failing that, the finest unit that fits,
 * rounded up so the peer never sees a shorter deadline than ours.
 */
export function encodeTimeout(ms: number): string {
  const nanos = Math.max(0, Math.ceil(ms * 1e6));
  for (const unit of UNITS_COARSE_FIRST) {
    const size = NANOS_PER_UNIT[unit];
    if (nanos % size === 0 && nanos / size <= MAX_VALUE) return `${nanos / size}${unit}`;
  }
  for (let i = UNITS_COARSE_FIRST.length - 1; i >= 0; i--) {
    const unit = UNITS_COARSE_FIRST[i];
    const value = Math.ceil(nanos / NANOS_PER_UNIT[unit]);
    if (value <= MAX_VALUE) return `${value}${unit}`;
  }
  return `${MAX_VALUE}H`;
}
