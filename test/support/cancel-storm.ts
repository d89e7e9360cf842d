// Cancel storms: many calls that a client cancels while the server handler is running, and
// a server that records, per call, what its handler saw. A cancelled call is misclassified when
// the handler's request stream ended cleanly (instead of throwing CANCELLED), or when
// ctx.signal did not fire with CANCELLED.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  Channel, GrpcError, Server, Status, createClient, type BidiStream, type ResponseStream, type ServerCallContext, type ServerOptions,
} from '../../src/index.js';
import { probeService } from './probe.js';
import { RawH2Client, grpcRequestHeaders } from './raw-frames.js';

export type StormMode = 'clientStream' | 'serverStream' | 'bidi';
export const STORM_MODES: StormMode[] = ['clientStream', 'serverStream', 'bidi'];
export const PATHS: Record<StormMode, string> = {
  clientStream: probeService.methods.ClientStream.path,
  serverStream: probeService.methods.ServerStream.path,
  bidi: probeService.methods.Bidi.path,
};

export interface Seen {
  mode: StormMode;
  /** How the request stream ended: 'clean', 'CANCELLED', another error, or 'n/a' (server streaming). */
  input: string;
  /** The abort reason's status code name, or 'none' if the signal did not fire in time. */
  signal: string;
}

/** How long a handler waits for ctx.signal after it saw its input end (a misclassified call waits in full). */
const SIGNAL_WAIT_MS = 3000;

function waitForAbort(signal: AbortSignal, ms: number): Promise<string> {
  const reason = () => (signal.reason instanceof GrpcError ? Status[signal.reason.code] : String(signal.reason));
  if (signal.aborted) return Promise.resolve(reason());
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('none'), ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve(reason())), { once: true });
  });
}

function inputOutcome(err: unknown): string {
  return err instanceof GrpcError ? Status[err.code] : `error: ${String(err)}`;
}

export class StormServer {
  private constructor(readonly server: Server, readonly port: number, readonly seen: Seen[]) {}

  static async start(options: ServerOptions = {}): Promise<StormServer> {
    const server = new Server(options);
    const seen: Seen[] = [];
    const finish = async (mode: StormMode, input: string, ctx: ServerCallContext) => {
      seen.push({ mode, input, signal: await waitForAbort(ctx.signal, SIGNAL_WAIT_MS) });
    };
    server.addService(probeService, {
      // The response headers tell the client that the handler holds the call: then it cancels.
      async clientStream(requests: AsyncIterable<unknown>, ctx: ServerCallContext) {
        let input = 'clean';
        try {
          for await (const _ of requests) ctx.sendHeader();
        } catch (err) {
          input = inputOutcome(err);
        }
        await finish('clientStream', input, ctx);
        return {};
      },
      async *serverStream(_req: unknown, ctx: ServerCallContext) {
        yield {};
        await finish('serverStream', 'n/a', ctx);
      },
      async *bidi(requests: AsyncIterable<unknown>, ctx: ServerCallContext) {
        let input = 'clean';
        try {
          for await (const _ of requests) yield {};
        } catch (err) {
          input = inputOutcome(err);
        }
        await finish('bidi', input, ctx);
      },
    });
    return new StormServer(server, await server.listen('127.0.0.1:0'), seen);
  }

  /** Waits until `count` calls of `mode` were recorded (or timeoutMs passed), then returns them. */
  async outcomes(mode: StormMode, count: number, timeoutMs = 30_000): Promise<Seen[]> {
    const deadline = Date.now() + timeoutMs;
    const mine = () => this.seen.filter((s) => s.mode === mode);
    while (mine().length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return mine();
  }

  clear(): void {
    this.seen.length = 0;
  }

  close(): void {
    this.server.forceShutdown();
  }
}

/** The calls whose handler did not see a cancellation, grouped as "input/signal" → count. */
export function misclassified(seen: Seen[]): Record<string, number> {
  const bad: Record<string, number> = {};
  for (const s of seen) {
    const ok = (s.input === 'CANCELLED' || s.input === 'n/a') && s.signal === 'CANCELLED';
    if (!ok) bad[`${s.input}/${s.signal}`] = (bad[`${s.input}/${s.signal}`] ?? 0) + 1;
  }
  return bad;
}

/** Runs `count` tasks, `concurrency` at a time. */
export async function runPool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** An empty e2e.Req message, framed. */
const EMPTY_MESSAGE = Buffer.alloc(5);

/**
 * Cancels `count` calls of `mode` by sending RST_STREAM(CANCEL) alone, never END_STREAM before it
 * (server streaming sends its one request with END_STREAM, as it must). A new connection every
 * `perConnection` calls keeps each one under nghttp2's incoming-reset limit.
 */
export async function rawFrameCancels(port: number, mode: StormMode, count: number, perConnection = 200, concurrency = 32): Promise<void> {
  for (let done = 0; done < count; done += perConnection) {
    const client = await RawH2Client.connect(port);
    try {
      await runPool(Math.min(perConnection, count - done), concurrency, async () => {
        const id = client.newStreamId();
        const responded = client.waitFor((f) => f.streamId === id && f.type === 1, 20_000, `response headers on stream ${id}`);
        client.write(Buffer.concat([
          client.headersFrame(id, grpcRequestHeaders(PATHS[mode])),
          client.dataFrame(id, EMPTY_MESSAGE, mode === 'serverStream'),
        ]));
        await responded;
        client.write(client.rstFrame(id, 0x8));
      });
    } finally {
      client.destroy();
    }
  }
}

/** Runs a client program in its own process; rejects with its output if it fails. */
export function runClientProcess(command: string, args: string[], timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => (output += err.message));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} exited with ${code ?? signal}:\n${output.slice(-2000)}`));
    });
  });
}

const GRPCJS_CLIENT = fileURLToPath(new URL('./grpcjs-cancel-client.mjs', import.meta.url));

/** Cancels `count` calls of `mode` with @grpc/grpc-js in another process, each once the server handler holds it. */
export function grpcJsCancels(port: number, mode: StormMode, count: number): Promise<void> {
  return runClientProcess(process.execPath, [GRPCJS_CLIENT, String(port), mode, String(count)]);
}

export const GO_CANCEL_STORM = fileURLToPath(new URL('../../interop/.cache/bin/cancel-storm', import.meta.url));

/** Cancels `count` calls of `mode` with grpc-go (interop/go/cancelstorm, built by interop/build-go.sh). */
export function grpcGoCancels(port: number, mode: StormMode, count: number): Promise<void> {
  if (!existsSync(GO_CANCEL_STORM)) throw new Error(`${GO_CANCEL_STORM} is missing: run interop/build-go.sh`);
  return runClientProcess(GO_CANCEL_STORM, [`-addr=127.0.0.1:${port}`, `-mode=${mode}`, `-n=${count}`]);
}

/**
 * Cancels `count` calls of `mode` with the tsgrpc client, each once the server handler holds it.
 * It runs in this process: it resets with RST_STREAM alone, so timing does not matter.
 */
export async function tsgrpcCancels(port: number, mode: StormMode, count: number, perConnection = 200, concurrency = 32): Promise<void> {
  for (let done = 0; done < count; done += perConnection) {
    const channel = new Channel(`127.0.0.1:${port}`);
    const client = createClient(probeService, channel);
    try {
      await runPool(Math.min(perConnection, count - done), concurrency, async () => {
        if (mode === 'clientStream') {
          const abort = new AbortController();
          async function* oneThenWait() {
            yield {};
            await new Promise((resolve) => abort.signal.addEventListener('abort', resolve, { once: true }));
          }
          await client.clientStream(oneThenWait(), { signal: abort.signal, onHeader: () => abort.abort() }).catch(() => {});
        } else if (mode === 'serverStream') {
          const stream: ResponseStream<unknown> = client.serverStream({});
          await stream[Symbol.asyncIterator]().next();
          stream.cancel();
          await stream.status.catch(() => {});
        } else {
          const call: BidiStream<unknown, unknown> = client.bidi();
          await call.write({});
          await call[Symbol.asyncIterator]().next();
          call.cancel();
          await call.status.catch(() => {});
        }
      });
    } finally {
      channel.close();
    }
  }
}
