import { expect } from 'vitest';
import { ConnectivityState, type Channel } from '../../src/index.js';
import type { H2Proxy } from './h2-proxy.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once the channel is in `state`; throws after `withinMs`. */
export async function untilState(channel: Channel, state: ConnectivityState, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (channel.getState() !== state) {
    if (!(await channel.watchState(channel.getState(), deadline))) throw new Error(`channel not ${ConnectivityState[state]} within ${withinMs} ms`);
  }
}

/**
 * Drives a channel whose keepalive is too frequent for the server's policy (min
 * interval 300 ms, interval 100 ms): it is sent away at 100 ms and 200 ms, and
 * the connection at 400 ms stays up.
 */
export async function expectPingBackoff(channel: Channel, proxy: H2Proxy): Promise<void> {
  expect(channel.keepaliveTimeMs).toBe(100);
  for (const interval of [100, 200]) {
    channel.getState(true);
    await untilState(channel, ConnectivityState.READY);
    await untilState(channel, ConnectivityState.IDLE);
    expect(channel.keepaliveTimeMs).toBe(interval * 2);
  }
  channel.getState(true);
  await untilState(channel, ConnectivityState.READY);
  await sleep(2500);
  expect(channel.getState()).toBe(ConnectivityState.READY);
  expectBackoffOnTheWire(proxy);
}

/**
 * What a client whose 100 ms keepalive meets a 300 ms ping policy shows on the wire: two connections
 * sent away with too_many_pings, each next one pinging half as often, and a third that is left alone.
 */
export function expectBackoffOnTheWire(proxy: H2Proxy): void {
  expect(proxy.connections).toHaveLength(3);
  expect(proxy.connections.map((c) => c.serverGoaways[0]?.debug)).toEqual(['too_many_pings', 'too_many_pings', undefined]);
  const gaps = proxy.connections.map((c) => median(c.clientPings.slice(1).map((t, i) => t - c.clientPings[i])));
  // Timers fire late, never early: lower bounds stay true on a loaded machine.
  expect(gaps[0]).toBeGreaterThanOrEqual(90);
  expect(gaps[1]).toBeGreaterThanOrEqual(190);
  expect(gaps[2]).toBeGreaterThanOrEqual(380);
  expect(proxy.connections[2].clientPings.length).toBeGreaterThanOrEqual(4);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
