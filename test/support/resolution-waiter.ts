// A client run in its own process, so a test can see whether a call waiting only on name
// resolution keeps the process alive. The `flaky:///host:port` scheme fails its first
// resolution and answers with host:port when the channel retries it (after its backoff timer).
//
//   node resolution-waiter.js TARGET waitForReady [MIN_DNS_INTERVAL_MS]   one waitForReady call: prints its outcome, then closes the channel
//   node resolution-waiter.js TARGET failFast                             one fail-fast call: prints its outcome, leaves the channel open
// Output: one JSON line {"outcome": "ok" | "<status code>"}; none if the process exits first.
import { Channel, GrpcError, registerResolver, type MethodDefinition } from '../../src/index.js';

const [target, mode, minInterval] = process.argv.slice(2);

let answers = 0;
registerResolver('flaky', {
  create: (uri, listener) => {
    const [host, port] = uri.endpoint.split(':');
    const answer = (): void => {
      if (answers++ === 0) listener.onError(new Error('registry not reachable yet'));
      else listener.onUpdate({ addresses: [{ kind: 'tcp', host, port: Number(port) }] });
    };
    queueMicrotask(answer);
    return { resolveNow: answer, close: () => {} };
  },
  defaultAuthority: () => 'localhost',
});

const echo: MethodDefinition<Uint8Array, Uint8Array> = {
  name: 'Echo', path: '/waiter.Test/Echo', requestStream: false, responseStream: false,
  serializeRequest: (b) => b, deserializeRequest: (b) => b, serializeResponse: (b) => b, deserializeResponse: (b) => b,
};

const channel = new Channel(target, { dnsMinResolutionIntervalMs: minInterval === undefined ? undefined : Number(minInterval) });
channel.unary(echo, Buffer.from('hello'), { waitForReady: mode === 'waitForReady' }).then(
  () => 'ok',
  (err: GrpcError) => String(err.code),
).then((outcome) => {
  process.stdout.write(`${JSON.stringify({ outcome })}\n`);
  if (mode === 'waitForReady') channel.close();
});
