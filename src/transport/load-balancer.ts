import type { ConnectivityState } from './connectivity.js';
import type { Address } from './target-uri.js';

/** What a load balancer sees of one connection to one address. */
export interface SubchannelHandle {
  readonly address: Address;
  readonly state: ConnectivityState;
  /** Why the last connection attempt failed, for call errors in TRANSIENT_FAILURE. */
  readonly lastFailure: Error | undefined;
  /** Starts connecting if IDLE; a subchannel in backoff connects when its delay has passed. */
  connect(): void;
  /** Calls `listener` on every state change; returns a function that stops it. */
  watch(listener: (state: ConnectivityState) => void): () => void;
  /** The balancer no longer needs it. */
  release(): void;
}

/** Where a new call goes. */
export type Pick =
  | { kind: 'ready'; subchannel: SubchannelHandle }
  /** Nothing is ready yet: the call waits for the next picker. */
  | { kind: 'wait' }
  /** Every address failed: fail-fast calls end with UNAVAILABLE and this reason; wait-for-ready calls wait. */
  | { kind: 'fail'; error: Error };

export interface Picker {
  pick(): Pick;
}

/** How a balancer acts on its channel. */
export interface BalancerHelper {
  createSubchannel(address: Address): SubchannelHandle;
  /** The channel's new state and the picker calls use from now on. */
  update(state: ConnectivityState, picker: Picker): void;
  /** Ask the resolver for fresh addresses (a connection failed or went away). */
  requestResolution(): void;
}

/**
 * A load-balancing policy plug-in. The channel creates one per policy named in the service
 * config's `loadBalancingConfig` (or `pick_first`) and hands it every resolver update.
 */
export interface LoadBalancer {
  updateAddresses(addresses: Address[], config: Record<string, unknown>): void;
  /** A call arrived while IDLE: start connecting. */
  exitIdle(): void;
  close(): void;
}

export type LoadBalancerFactory = (helper: BalancerHelper) => LoadBalancer;

const policies = new Map<string, LoadBalancerFactory>();

/** Adds (or replaces) a policy by the name service configs use for it. */
export function registerLoadBalancer(name: string, factory: LoadBalancerFactory): void {
  policies.set(name, factory);
}

export function loadBalancerFactory(name: string): LoadBalancerFactory | undefined {
  return policies.get(name);
}

/** Pickers that do not depend on a subchannel. */
export const waitPicker: Picker = { pick: () => ({ kind: 'wait' }) };
export function failPicker(error: Error): Picker {
  return { pick: () => ({ kind: 'fail', error }) };
}
export function readyPicker(subchannel: SubchannelHandle): Picker {
  const pick: Pick = { kind: 'ready', subchannel };
  return { pick: () => pick };
}

/** The error a balancer reports when every address failed. */
export function allFailed(subchannels: readonly SubchannelHandle[]): Error {
  const last = [...subchannels].reverse().find((s) => s.lastFailure)?.lastFailure;
  return new Error(`no address could be reached${last ? `: ${last.message}` : ''}`);
}
