/**
 * The longest delay Node's setTimeout honours. Node runs a timer with any longer delay,
 * Infinity included, after 1 ms, so "wait forever" must mean "arm no timer".
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * setTimeout for delays that may mean "never": a delay beyond MAX_TIMER_MS (or not a number at
 * all) arms nothing and returns undefined. Timers 24.8 days out are as good as never for gRPC's uses.
 */
export function timerUnlessNever(fn: () => void, delayMs: number): NodeJS.Timeout | undefined {
  if (!(delayMs <= MAX_TIMER_MS)) return undefined;
  return setTimeout(fn, Math.max(0, delayMs));
}
