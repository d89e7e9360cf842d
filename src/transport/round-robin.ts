import { ConnectivityState } from './connectivity.js';
import { allFailed, failPicker, registerLoadBalancer, waitPicker, type BalancerHelper, type LoadBalancer, type Pick, type Picker, type SubchannelHandle } from './load-balancer.js';
import { formatAddress, type Address } from './target-uri.js';

/**
 * Connects to every address and spreads calls over the READY ones in turn. A failed
 * subchannel is skipped and reconnected (after its own backoff); the channel is READY while
 * any subchannel is.
 */
class RoundRobin implements LoadBalancer {
  private subchannels = new Map<string, { subchannel: SubchannelHandle; unwatch: () => void }>();
  private next = 0;

  constructor(private readonly helper: BalancerHelper) {}

  updateAddresses(addresses: Address[]): void {
    const wanted = new Map(addresses.map((a) => [formatAddress(a), a]));
    for (const [key, entry] of this.subchannels) {
      if (wanted.has(key)) continue;
      entry.unwatch();
      entry.subchannel.release();
      this.subchannels.delete(key);
    }
    for (const [key, address] of wanted) {
      if (this.subchannels.has(key)) continue;
      const subchannel = this.helper.createSubchannel(address);
      const unwatch = subchannel.watch(() => this.changed(subchannel));
      this.subchannels.set(key, { subchannel, unwatch });
      subchannel.connect();
    }
    this.publish();
  }

  exitIdle(): void {
    for (const { subchannel } of this.subchannels.values()) subchannel.connect();
  }

  close(): void {
    for (const { subchannel, unwatch } of this.subchannels.values()) {
      unwatch();
      subchannel.release();
    }
    this.subchannels.clear();
  }

  private changed(subchannel: SubchannelHandle): void {
    // A connection that failed or went away (GOAWAY, lost) may mean the address set changed: re-resolve,
    // and reconnect it; a subchannel in backoff waits out its delay first.
    if (subchannel.state === ConnectivityState.IDLE || subchannel.state === ConnectivityState.TRANSIENT_FAILURE) {
      this.helper.requestResolution();
      subchannel.connect();
    }
    this.publish();
  }

  private publish(): void {
    const all = [...this.subchannels.values()].map((e) => e.subchannel);
    const ready = all.filter((s) => s.state === ConnectivityState.READY);
    if (ready.length > 0) {
      this.helper.update(ConnectivityState.READY, this.rotation(ready));
    } else if (all.length === 0) {
      this.helper.update(ConnectivityState.TRANSIENT_FAILURE, failPicker(new Error('the resolver returned no addresses')));
    } else if (all.some((s) => s.state === ConnectivityState.CONNECTING || s.state === ConnectivityState.IDLE)) {
      this.helper.update(ConnectivityState.CONNECTING, waitPicker);
    } else {
      this.helper.update(ConnectivityState.TRANSIENT_FAILURE, failPicker(allFailed(all)));
    }
  }

  private rotation(ready: SubchannelHandle[]): Picker {
    const picks: Pick[] = ready.map((subchannel) => ({ kind: 'ready', subchannel }));
    // Start where the previous picker stopped, so a state change does not reset the spread.
    return {
      pick: () => picks[this.next++ % picks.length],
    };
  }
}

registerLoadBalancer('round_robin', (helper) => new RoundRobin(helper));
