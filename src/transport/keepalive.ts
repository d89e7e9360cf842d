import type http2 from 'node:http2';

export interface KeepaliveTimes {
  /** How often to ping. */
  timeMs: number;
  /** How long to wait for the PING ACK before declaring the peer dead. */
  timeoutMs: number;
}

/** The largest delay Node's timers accept; longer keepalive times mean "never". */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Keepalive for one HTTP/2 session (gRFC A8, doc/keepalive.md): every
 * `timeMs` it sends a PING when `shouldPing()` says so, and if no ACK comes
 * within `timeoutMs` it calls `onDead` — a frozen or vanished peer that TCP
 * alone would notice only after many minutes. Timers never keep the process alive.
 */
export class KeepalivePinger {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly session: http2.Http2Session,
    private readonly times: KeepaliveTimes,
    private readonly shouldPing: () => boolean,
    private readonly onDead: (reason: Error) => void,
  ) {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped || this.times.timeMs > MAX_TIMER_MS) return;
    this.timer = setTimeout(() => this.tick(), this.times.timeMs);
    this.timer.unref();
  }

  private tick(): void {
    const { session } = this;
    if (this.stopped || session.destroyed || session.closed) return this.stop();
    if (!this.shouldPing()) return this.schedule();
    const { timeoutMs } = this.times;
    const dead = () => this.die(new Error(`keepalive ping not acknowledged within ${timeoutMs} ms`));
    this.timer = setTimeout(dead, Math.min(timeoutMs, MAX_TIMER_MS));
    this.timer.unref();
    let sent: boolean;
    try {
      sent = session.ping((err) => {
        if (this.stopped) return;
        clearTimeout(this.timer);
        if (err) return this.stop(); // the session is going away; its own close handling reports it
        this.schedule();
      });
    } catch (err) {
      sent = false;
    }
    if (!sent) {
      clearTimeout(this.timer);
      this.die(new Error('keepalive ping could not be sent'));
    }
  }

  private die(reason: Error): void {
    if (this.stopped) return;
    this.stop();
    this.onDead(reason);
  }
}
