import type { ConnectivityState } from './connectivity.js';
import type { Address } from './target-uri.js';

/** What a load balancer sees of one connection to one address. */
export interface SubchannelHandle {
  /** The address it connects to. */
  readonly address: Address;
  /** Its connectivity state now. */
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
  | {
    /** A subchannel is ready: the call goes there. */
    kind: 'ready';
    /** Where the call goes. */
    subchannel: SubchannelHandle;
  }
  /** Nothing is ready yet: the call waits for the next picker. */
  | {
    /** Wait. */
    kind: 'wait';
  }
  /** Every address failed: fail-fast calls end with UNAVAILABLE and this reason; wait-for-ready calls wait. */
  | {
    /** Fail (or, for wait-for-ready calls, wait). */
    kind: 'fail';
    /** Why. */
    error: Error;
  };

/** Chooses the subchannel of each new call; a policy hands a new one to the channel on every change. */
export interface Picker {
  /** The decision for one new call. */
  pick(): Pick;
}

/** How a balancer acts on its channel. */
export interface BalancerHelper {
  /** A connection to `address`, shared with other balancers of the channel that ask for the same one. */
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
  /** The resolver has new addresses, with this policy's config from the service config. */
  updateAddresses(addresses: Address[], config: Record<string, unknown>): void;
  /** A call arrived while IDLE: start connecting. */
  exitIdle(): void;
  /** The channel is closing: release every subchannel. */
  close(): void;
}

/** Makes a policy instance for one channel. */
export type LoadBalancerFactory = (helper: BalancerHelper) => LoadBalancer;

const policies = new Map<string, LoadBalancerFactory>();

/** Adds (or replaces) a policy by the name service configs use for it. */
export function registerLoadBalancer(name: string, factory: LoadBalancerFactory): void {
  policies.set(name, factory);
}

/** The factory registered under `name`, if any. */
export function loadBalancerFactory(name: string): LoadBalancerFactory | undefined {
  return policies.get(name);
}

/** Pickers that do not depend on a subchannel. */
export const waitPicker: Picker = { pick: () => ({ kind: 'wait' }) };
/** A picker that fails every call with UNAVAILABLE and `error`'s message (unless it is wait-for-ready). */
export function failPicker(error: Error): Picker {
  return { pick: () => ({ kind: 'fail', error }) };
}
/** A picker that sends every call to `subchannel`. */
export function readyPicker(subchannel: SubchannelHandle): Picker {
  const pick: Pick = { kind: 'ready', subchannel };
  return { pick: () => pick };
}

/** The error a balancer reports when every address failed. */
export function allFailed(subchannels: readonly SubchannelHandle[]): Error {
  const last = [...subchannels].reverse().find((s) => s.lastFailure)?.lastFailure;
  return new Error(`no address could be reached${last ? `: ${last.message}` : ''}`);
}
