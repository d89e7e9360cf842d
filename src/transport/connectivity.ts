/**
 * Connectivity states from gRPC's connectivity-semantics doc, for a single
 * connection (subchannel) and for a channel as a whole. The numbers match
 * grpc-js's ConnectivityState so a compatibility layer can pass them through.
 */
export enum ConnectivityState {
  IDLE = 0,
  CONNECTING = 1,
  READY = 2,
  TRANSIENT_FAILURE = 3,
  SHUTDOWN = 4,
}

export type StateListener = (state: ConnectivityState) => void;

/** A current state plus the listeners and waiters that follow it. */
export class StateWatch {
  private current: ConnectivityState;
  private readonly listeners = new Set<StateListener>();

  constructor(initial: ConnectivityState) {
    this.current = initial;
  }

  get state(): ConnectivityState {
    return this.current;
  }

  /** Moves to `next` and tells every listener; a no-op when nothing changes or after SHUTDOWN. */
  set(next: ConnectivityState): void {
    if (next === this.current || this.current === ConnectivityState.SHUTDOWN) return;
    this.current = next;
    for (const listener of [...this.listeners]) listener(next);
  }

  /** Calls `listener` on every change until the returned function is called. */
  listen(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves true as soon as the state is not `from` (at once if it already is not),
   * or false when `deadline` passes first.
   */
  changedFrom(from: ConnectivityState, deadline?: Date | number): Promise<boolean> {
    if (this.current !== from) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const stop = this.listen(() => {
        stop();
        clearTimeout(timer);
        resolve(true);
      });
      if (deadline !== undefined) {
        const at = typeof deadline === 'number' ? deadline : deadline.getTime();
        timer = setTimeout(() => {
          stop();
          resolve(false);
        }, Math.max(0, at - Date.now()));
      }
    });
  }
}
