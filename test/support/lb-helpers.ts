import {
  GrpcError, loadBalancerFactory, registerLoadBalancer, formatAddress,
  type CallOptions, type Client, type ConnectivityState, type SubchannelHandle,
} from '../../src/index.js';
import type { Replica } from './fleet.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `condition`, running `step` (or sleeping 20 ms) in between; throws `what` after `withinMs`. */
export async function until(condition: () => boolean, what: string, withinMs = 10_000, step: () => Promise<unknown> = () => sleep(20)): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await step();
  }
}

/** Makes `total` unary calls, `concurrency` at a time; returns the errors of the ones that failed. */
export async function callMany(client: Client, total: number, concurrency: number, options: CallOptions = {}, request: object = {}): Promise<GrpcError[]> {
  const failures: GrpcError[] = [];
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      try {
        await client.unary(request, { timeout: 20_000, ...options });
      } catch (err) {
        failures.push(err as GrpcError);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failures;
}

/** Calls served by each replica while `run` runs. */
export async function servedDuring(fleet: Replica[], run: () => Promise<unknown>): Promise<number[]> {
  const before = fleet.map((r) => r.calls());
  await run();
  return fleet.map((r, i) => r.calls() - before[i]);
}

/**
 * A load-balancing plug-in written against the public API: it delegates to a built-in
 * policy and records every subchannel it creates, so tests can see each one's state.
 */
export function observedPolicy(base: 'pick_first' | 'round_robin'): { name: string; stateOf(address: string): ConnectivityState | undefined } {
  const name = `observed_${base}_${Math.random().toString(36).slice(2, 8)}`;
  const live = new Map<string, SubchannelHandle>();
  registerLoadBalancer(name, (helper) =>
    loadBalancerFactory(base)!({
      ...helper,
      createSubchannel(address) {
        const subchannel = helper.createSubchannel(address);
        live.set(formatAddress(address), subchannel);
        return subchannel;
      },
    }),
  );
  return { name, stateOf: (address) => live.get(address)?.state };
}
