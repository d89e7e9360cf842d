import type http2 from 'node:http2';

/**
 * Node's HTTP/2 client (and so @grpc/grpc-js) cancels a stream whose request side is still open by
 * writing an empty END_STREAM DATA frame and then RST_STREAM(CANCEL), as two writes. A server that reads
 * between the two sees a clean half-close, and a handler would complete on partial input.
 *
 * The client writes both frames before it reads again, so a PING sent once END_STREAM has arrived is
 * acknowledged after the RST_STREAM, if there is one. Once the ack is in (and the rest of that read has
 * been processed), a stream that is still not reset really was half-closed. One PING at a time per
 * connection serves every stream that half-closed before it was sent.
 */
class HalfCloseBarrier {
  /** Streams covered by the PING in flight. */
  private covered: Array<() => void> = [];
  /** Streams that half-closed after it was sent: they wait for the next one. */
  private queued: Array<() => void> = [];
  private pinging = false;

  constructor(private readonly session: http2.Http2Session) {}

  confirm(then: () => void): void {
    if (this.pinging) {
      this.queued.push(then);
      return;
    }
    this.covered.push(then);
    this.ping();
  }

  private ping(): void {
    this.pinging = true;
    let sent = false;
    try {
      sent = !this.session.destroyed && this.session.ping(() => this.acked());
    } catch {
      sent = false;
    }
    // No PING possible (session gone, or too many outstanding): the stream's own state decides.
    if (!sent) this.acked();
  }

  private acked(): void {
    const done = this.covered;
    this.covered = this.queued;
    this.queued = [];
    this.pinging = false;
    // The ack may share a read with the RST_STREAM that follows it: let that read finish first.
    setImmediate(() => {
      for (const then of done) then();
    });
    if (this.covered.length > 0) this.ping();
  }
}

const barriers = new WeakMap<http2.Http2Session, HalfCloseBarrier>();

/** Calls `then` once a half-close of `stream` is known not to be the first half of a cancellation. */
export function confirmHalfClose(stream: http2.ServerHttp2Stream, then: () => void): void {
  const session = stream.session;
  if (!session) {
    setImmediate(then);
    return;
  }
  let barrier = barriers.get(session);
  if (!barrier) barriers.set(session, (barrier = new HalfCloseBarrier(session)));
  barrier.confirm(then);
}

/**
 * Clients whose user-agent says they cancel an open request with RST_STREAM(CANCEL) alone, never
 * END_STREAM first: tsgrpc and grpc-go (test/cancel-storm.test.ts storms both). Their half-close is
 * real as it arrives, so their client-streaming and bidi calls skip the PING round trip. Any other
 * client, or a user-agent that names none of them, gets the barrier.
 */
const RESETS_ALONE = /(?:^|\s)(?:tsgrpc|grpc-go)\//;

export function cancelsWithResetAlone(userAgent: string | undefined): boolean {
  return userAgent !== undefined && RESETS_ALONE.test(userAgent);
}
