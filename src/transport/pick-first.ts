import { allFailed, failPicker, readyPicker, registerLoadBalancer, waitPicker, type BalancerHelper, type LoadBalancer, type SubchannelHandle } from './load-balancer.js';
import { formatAddress, type Address } from './target-uri.js';

/**
 * The default policy: try the addresses in order and send every call to the first one that
 * connects. A lost connection goes back to IDLE and asks for re-resolution; the next call
 * starts over from the first address of the newest list.
 */
class PickFirst implements LoadBalancer {
  private subchannels: SubchannelHandle[] = [];
  private unwatch: (() => void)[] = [];
  private selected: SubchannelHandle | undefined;
  private attempt = 0;
  private idle = true;

  constructor(private readonly helper: BalancerHelper) {}

  updateAddresses(addresses: Address[]): void {
    const keep = this.selected && addresses.some((a) => formatAddress(a) === formatAddress(this.selected!.address));
    if (keep) return; // Still a valid choice: do not disturb calls on a working connection.
    this.reset();
    this.subchannels = addresses.map((a) => this.helper.createSubchannel(a));
    this.unwatch = this.subchannels.map((s) => s.watch(() => this.changed(s)));
    if (this.subchannels.length === 0) {
      this.helper.update('TRANSIENT_FAILURE', failPicker(new Error('the resolver returned no addresses')));
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

  private start(): void {
    this.attempt = 0;
    this.helper.update('CONNECTING', waitPicker);
    this.subchannels[0].connect();
  }

  private changed(subchannel: SubchannelHandle): void {
    if (this.selected) {
      if (subchannel !== this.selected || subchannel.state === 'READY') return;
      // The chosen connection was lost: go idle until the next call, with fresh addresses.
      this.selected = undefined;
      this.idle = true;
      this.helper.requestResolution();
      this.helper.update('IDLE', waitPicker);
      return;
    }
    if (subchannel.state === 'READY') {
      this.selected = subchannel;
      for (const other of this.subchannels) if (other !== subchannel) other.release();
      this.helper.update('READY', readyPicker(subchannel));
      return;
    }
    if (subchannel.state === 'TRANSIENT_FAILURE' && subchannel === this.subchannels[this.attempt]) {
      this.attempt++;
      if (this.attempt < this.subchannels.length) {
        this.subchannels[this.attempt].connect();
        return;
      }
      // Every address failed once: report it, re-resolve, and keep trying from the top as backoffs expire.
      this.helper.update('TRANSIENT_FAILURE', failPicker(allFailed(this.subchannels)));
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
