import { ConnectivityState } from './connectivity.js';
import { allFailed, failPicker, readyPicker, registerLoadBalancer, waitPicker, type BalancerHelper, type LoadBalancer, type SubchannelHandle } from './load-balancer.js';
import { formatAddress, type Address } from './target-uri.js';

/**
 * The default policy: try the addresses in order and send every call to the first one that
 * connects. A lost connection goes back to IDLE and asks for re-resolution; the next call
 * starts over from the first address of the newest list.
 */
class PickFirst implements LoadBalancer {
  private addresses: Address[] = [];
  private subchannels: SubchannelHandle[] = [];
  private unwatch: (() => void)[] = [];
  private selected: SubchannelHandle | undefined;
  private attempt = 0;
  private idle = true;

  constructor(private readonly helper: BalancerHelper) {}

  updateAddresses(addresses: Address[]): void {
    this.addresses = addresses;
    const keep = this.selected && addresses.some((a) => formatAddress(a) === formatAddress(this.selected!.address));
    if (keep) return; // Still a valid choice: do not disturb calls on a working connection.
    this.rebuild();
    if (this.subchannels.length === 0) {
      this.helper.update(ConnectivityState.TRANSIENT_FAILURE, failPicker(new Error('the resolver returned no addresses')));
      return;
    }
    if (!this.idle) this.start();
  }

  exitIdle(): void {
    if (!this.idle) return;
    this.idle = false;
    if (this.subchannels.length > 0) this.start();
  }

  close(): void {
    this.reset();
  }

  private rebuild(): void {
    this.reset();
    this.subchannels = this.addresses.map((a) => this.helper.createSubchannel(a));
    this.unwatch = this.subchannels.map((s) => s.watch(() => this.changed(s)));
  }

  private start(): void {
    this.attempt = 0;
    this.helper.update(ConnectivityState.CONNECTING, waitPicker);
    this.subchannels[0].connect();
  }

  private changed(subchannel: SubchannelHandle): void {
    if (this.selected) {
      if (subchannel !== this.selected || subchannel.state === ConnectivityState.READY) return;
      // The chosen connection was lost: go idle until the next call, with fresh addresses.
      this.idle = true;
      this.rebuild();
      this.helper.requestResolution();
      this.helper.update(ConnectivityState.IDLE, waitPicker);
      return;
    }
    if (subchannel.state === ConnectivityState.READY) {
      this.selected = subchannel;
      for (const other of this.subchannels) if (other !== subchannel) other.release();
      this.subchannels = [subchannel];
      this.helper.update(ConnectivityState.READY, readyPicker(subchannel));
      return;
    }
    if (subchannel.state === ConnectivityState.TRANSIENT_FAILURE && subchannel === this.subchannels[this.attempt]) {
      this.attempt++;
      if (this.attempt < this.subchannels.length) {
        this.subchannels[this.attempt].connect();
        return;
      }
      // Every address failed once: report it, re-resolve, and keep trying from the top as backoffs expire.
      this.helper.update(ConnectivityState.TRANSIENT_FAILURE, failPicker(allFailed(this.subchannels)));
      this.helper.requestResolution();
      this.attempt = 0;
      this.subchannels[0].connect();
    }
  }

  private reset(): void {
    for (const stop of this.unwatch) stop();
    for (const s of this.subchannels) s.release();
    this.subchannels = [];
    this.unwatch = [];
    this.selected = undefined;
  }
}

registerLoadBalancer('pick_first', (helper) => new PickFirst(helper));
