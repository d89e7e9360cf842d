import type { ClientConnection } from './client-connection.js';
import { ConnectivityState } from './connectivity.js';
import type { SubchannelHandle } from './load-balancer.js';
import type { Address } from './target-uri.js';

/**
 * A load balancer's handle on one ClientConnection. It adds the one thing a balancer needs
 * that a connection does not do by itself: connect() during backoff means "connect as soon
 * as the backoff delay is over".
 */
export class Subchannel implements SubchannelHandle {
  private connectAfterBackoff = false;
  private readonly stop: () => void;

  constructor(readonly address: Address, readonly connection: ClientConnection, private readonly released: (s: Subchannel) => void) {
    this.stop = connection.onStateChange((state) => {
      if (state === ConnectivityState.IDLE && this.connectAfterBackoff) {
        this.connectAfterBackoff = false;
        connection.connect();
      }
    });
  }

  get state(): ConnectivityState {
    return this.connection.state;
  }

  get lastFailure(): Error | undefined {
    return this.connection.lastFailure;
  }

  connect(): void {
    if (this.connection.state === ConnectivityState.TRANSIENT_FAILURE) this.connectAfterBackoff = true;
    else this.connection.connect();
  }

  watch(listener: (state: ConnectivityState) => void): () => void {
    return this.connection.onStateChange(listener);
  }

  /** Calls in flight on it finish first. */
  release(): void {
    this.stop();
    this.connection.close();
    this.released(this);
  }
}
