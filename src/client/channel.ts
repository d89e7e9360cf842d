import type { MethodDefinition } from '../service.js';
import { GrpcError } from '../wire/error.js';
import { Status } from '../wire/status.js';
import type { ClientTlsOptions } from '../transport/client-connection.js';
import { checkClientTls } from '../transport/tls-dial.js';
import { ConnectionManager } from '../transport/connection-manager.js';
import { ConnectivityState } from '../transport/connectivity.js';
import { DEFAULT_MAX_RECEIVE, DEFAULT_MAX_SEND, checkMessageSizeLimits } from '../transport/message-io.js';
import { methodConfigFor, parseServiceConfig } from '../transport/service-config.js';
import { checkAuthority, type CallOptions } from './call-options.js';
import { CallCredentials, callCredentialsInterceptor, insecureCredentialsProblem, type InsecureCallCredentialsPolicy } from './call-credentials.js';
import type { CallHandle } from './call-handle.js';
import { ConfigWaitingCall } from './config-waiting-call.js';
import { ClientCall, USER_AGENT, type CallLimits, type ResponseSink } from './client-call.js';
import { InterceptedCall } from './intercepted-call.js';
import type { ClientInterceptor } from './interceptors.js';
import { applyMethodConfig } from './method-config.js';
import { ChannelRetries } from './retry-state.js';
import { SingleResponse } from './single-response.js';
import { BidiStream, ResponseStream } from './streams.js';
import { MessageWithOptions, type RequestSource } from './write-options.js';

/** Options for a Channel: TLS, message size limits, connection backoff and keepalive, interceptors and credentials. */
export interface ChannelOptions {
  /** Connect with TLS (optionally mTLS); plaintext HTTP/2 (h2c) without it. */
  tls?: ClientTlsOptions;
  /** Largest response message accepted, in bytes (default 4 MiB; Infinity: no limit). */
  maxReceiveMessageSize?: number;
  /** Largest request message sent, in bytes (default unlimited). */
  maxSendMessageSize?: number;
  /** Reconnect backoff bounds (defaults 1 s and 120 s). */
  initialBackoffMs?: number;
  /** Upper bound of the reconnect backoff (default 120 s). */
  maxBackoffMs?: number;
  /** How long connecting may take, up to the server's HTTP/2 SETTINGS (default 20 s). */
  connectTimeoutMs?: number;
  /** Interceptors for every call on this channel; the first is outermost (see README). */
  interceptors?: readonly ClientInterceptor[];
  /** Credentials for every call on this channel (composed with `tls`, the channel credentials). */
  callCredentials?: CallCredentials;
  /**
   * Call credentials carry secrets, so by default they are refused on a
   * plaintext channel. 'loopback' allows them to 127.0.0.0/8, ::1, localhost
   * and unix sockets; true allows them anywhere.
   */
  allowInsecureCallCredentials?: InsecureCallCredentialsPolicy;
  /**
   * Send an HTTP/2 PING this often and drop the connection (failing its calls with UNAVAILABLE) when the
   * ACK does not come within `keepaliveTimeoutMs`. Default: no pings. A server that finds this too
   * frequent answers GOAWAY(too_many_pings); the channel then doubles it for its next connections.
   */
  keepaliveTimeMs?: number;
  /** How long to wait for a keepalive PING ACK (default 20 s). */
  keepaliveTimeoutMs?: number;
  /** Keepalive pings even while no call is in flight (default false: only while calls run). */
  keepalivePermitWithoutCalls?: boolean;
  /** Close the connection and go IDLE after this long without calls; the next call reconnects (default 30 min, 0 never). */
  idleTimeoutMs?: number;
  /**
   * The :authority calls send, instead of the target's host:port (or the TLS `serverNameOverride`):
   * for a server or proxy that routes by virtual host. The TLS name checked stays the target's.
   */
  authority?: string;
  /** Your application's product token(s), e.g. "my-app/1.2", sent before tsgrpc's in the user-agent header. */
  userAgent?: string;
  /** Sent after tsgrpc's token in the user-agent header. */
  userAgentSuffix?: string;
  /**
   * The service config (JSON text or the parsed object) used until, and unless, the resolver
   * supplies one: `loadBalancingConfig` picks the policy (pick_first by default, or round_robin),
   * `methodConfig` sets timeout, waitForReady, message size limits and a retryPolicy or hedgingPolicy per
   * method, `retryThrottling` limits retries channel-wide.
   */
  serviceConfig?: string | object;
  /** Read service configs from DNS TXT records (`_grpc_config.<host>`); default false. */
  serviceConfigFromDns?: boolean;
  /** Shortest time between two DNS resolutions, which the channel asks for after failures and GOAWAYs (default 30 s). */
  dnsMinResolutionIntervalMs?: number;
  /** Request bytes all calls together may keep for retries and hedging (default 16 MiB); past it a call commits to its attempt. */
  retryBufferBytes?: number;
  /** Request bytes one call may keep for retries and hedging (default 1 MiB). */
  perRpcRetryBufferBytes?: number;
  /** false: service config retry and hedging policies are not applied (transparent retry stays). Default true. */
  enableRetries?: boolean;
}

/** Printable ASCII, as HTTP/2 header values need (checked here so a bad value fails the channel, not every call). */
const HEADER_TEXT = /^[\x20-\x7e]*$/;

/** Rejects option values that would otherwise be ignored or misbehave silently. */
function checkOptions(options: ChannelOptions): void {
  checkMessageSizeLimits('ChannelOptions', options);
  const positive = ['keepaliveTimeMs', 'keepaliveTimeoutMs', 'connectTimeoutMs', 'initialBackoffMs', 'maxBackoffMs', 'retryBufferBytes', 'perRpcRetryBufferBytes'] as const;
  for (const name of positive) {
    const value = options[name];
    if (value !== undefined && !(typeof value === 'number' && value > 0)) {
      throw new RangeError(`ChannelOptions.${name} must be a positive number of milliseconds, got ${String(value)}`);
    }
  }
  for (const name of ['userAgent', 'userAgentSuffix'] as const) {
    const value = options[name];
    if (value !== undefined && !(typeof value === 'string' && HEADER_TEXT.test(value))) {
      throw new TypeError(`ChannelOptions.${name} must be a string of printable ASCII, got ${JSON.stringify(value)}`);
    }
  }
  checkAuthority(options.authority, 'ChannelOptions.authority');
  if (options.tls) checkClientTls(options.tls);
  const dnsInterval = options.dnsMinResolutionIntervalMs;
  if (dnsInterval !== undefined && !(typeof dnsInterval === 'number' && dnsInterval >= 0)) {
    throw new RangeError(`ChannelOptions.dnsMinResolutionIntervalMs must be a number of milliseconds, got ${String(dnsInterval)}`);
  }
  const idle = options.idleTimeoutMs;
  if (idle !== undefined && !(typeof idle === 'number' && idle >= 0)) {
    throw new RangeError(`ChannelOptions.idleTimeoutMs must be a number of milliseconds (0 disables it), got ${String(idle)}`);
  }
}

function userAgentOf(options: ChannelOptions): string {
  if (options.userAgent === undefined && options.userAgentSuffix === undefined) return USER_AGENT;
  return [options.userAgent, USER_AGENT, options.userAgentSuffix].filter((part) => part).join(' ');
}

/**
 * A channel to one target (gRPC naming: `host:port`, `dns:///host:port`, `ipv4:a:p,b:p`,
 * `unix:/path`, or a registered scheme), shared by every stub and call made on it. The
 * resolver's addresses each get a subchannel; the load-balancing policy picks one per call.
 * HTTP/2 multiplexes the calls; streams beyond the server's MAX_CONCURRENT_STREAMS wait in
 * the session until one finishes.
 */
export class Channel {
  private readonly connection: ConnectionManager;
  private readonly limits: CallLimits;
  private readonly retries: ChannelRetries;
  /** The channel's interceptors and credentials layer; empty means calls take the plain path. */
  private readonly interceptors: readonly ClientInterceptor[];
  private readonly options: ChannelOptions;

  /**
   * A channel to `target`; it connects on the first call (or getState(true) or waitForReady()).
   * @param target Where to connect: "host:port", "[v6]:port", "dns:///host:port" or "unix:/path" (port 443 when omitted).
   * @param options Connection and call defaults; invalid values throw here rather than being ignored.
   */
  constructor(readonly target: string, options: ChannelOptions = {}) {
    checkOptions(options);
    this.options = options;
    const policy = options.allowInsecureCallCredentials ?? false;
    if (policy !== false && policy !== true && policy !== 'loopback') {
      throw new TypeError(`allowInsecureCallCredentials must be false, true or "loopback", not ${JSON.stringify(policy)}`);
    }
    this.connection = new ConnectionManager(target, {
      ...options,
      serviceConfig: options.serviceConfig === undefined ? undefined : parseServiceConfig(options.serviceConfig),
      resolver: { serviceConfigFromDns: options.serviceConfigFromDns, minResolutionIntervalMs: options.dnsMinResolutionIntervalMs },
    });
    if (options.callCredentials) {
      const problem = insecureCredentialsProblem(this.connection, !!options.tls, policy);
      if (problem) throw new Error(problem);
    }
    this.limits = {
      maxReceiveMessageSize: options.maxReceiveMessageSize ?? DEFAULT_MAX_RECEIVE,
      maxSendMessageSize: options.maxSendMessageSize ?? DEFAULT_MAX_SEND,
      authority: options.authority ?? this.connection.authority,
      userAgent: userAgentOf(options),
    };
    this.retries = new ChannelRetries(options.retryBufferBytes, options.perRpcRetryBufferBytes);
    const interceptors = [...(options.interceptors ?? [])];
    if (options.callCredentials) interceptors.push(callCredentialsInterceptor(options.callCredentials, this.limits.authority, undefined));
    this.interceptors = interceptors;
  }

  /** Makes a unary call: one request, one response. Rejects with a GrpcError for any status but OK. */
  unary<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options: CallOptions = {}): Promise<Res> {
    const sink = new SingleResponse<Res>(method.path);
    try {
      this.singleResponseCall(method, options, sink).startWith(request);
    } catch (err) {
      return Promise.reject(err);
    }
    return sink.promise;
  }

  /** Makes a server-streaming call: one request; iterate the returned stream for the responses. */
  serverStream<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options: CallOptions = {}): ResponseStream<Res> {
    const stream = new ResponseStream<Res>();
    const call = this.createCall(method, options, stream.sink());
    stream.attach(call);
    call.startWith(request);
    return stream;
  }

  /**
   * Sends every request from `requests` (respecting backpressure) and resolves to the single response.
   * A request wrapped with withWriteOptions() carries its own options, e.g. no compression.
   */
  clientStream<Req, Res>(method: MethodDefinition<Req, Res>, requests: RequestSource<Req>, options: CallOptions = {}): Promise<Res> {
    const sink = new SingleResponse<Res>(method.path);
    let call: CallHandle<Req>;
    try {
      call = this.singleResponseCall(method, options, sink);
      call.start();
    } catch (err) {
      return Promise.reject(err);
    }
    void pump(requests, call);
    return sink.promise;
  }

  /** Starts a bidirectional call: write() requests and end(), and iterate the responses as they come. */
  bidi<Req, Res>(method: MethodDefinition<Req, Res>, options: CallOptions = {}): BidiStream<Req, Res> {
    const stream = new BidiStream<Req, Res>();
    const call = this.createCall(method, options, stream.sink());
    stream.attach(call);
    call.start();
    return stream;
  }

  /** Closes the connection (SHUTDOWN): calls in flight finish first, calls waiting for a connection fail. */
  close(): void {
    this.connection.close();
  }

  /** The connectivity state; with `tryToConnect`, an IDLE channel starts connecting. */
  getState(tryToConnect = false): ConnectivityState {
    return this.connection.getState(tryToConnect);
  }

  /**
   * Resolves true once the state differs from `current` (at once if it already does), or false when the
   * deadline (a Date or epoch milliseconds; Infinity waits without one) passes first.
   */
  watchState(current: ConnectivityState, deadline?: Date | number): Promise<boolean> {
    return this.connection.watchState(current, deadline);
  }

  /** Calls `listener` on every state change; returns a function that stops it. */
  onStateChange(listener: (state: ConnectivityState) => void): () => void {
    return this.connection.onStateChange(listener);
  }

  /**
   * Connects if needed and resolves once READY; rejects with UNAVAILABLE if the channel shuts down, or
   * DEADLINE_EXCEEDED (naming the last connection error) if the deadline passes first (Infinity: no deadline).
   */
  async waitForReady(deadline: Date | number): Promise<void> {
    for (;;) {
      const state = this.getState(true);
      if (state === ConnectivityState.READY) return;
      if (state === ConnectivityState.SHUTDOWN) throw new GrpcError(Status.UNAVAILABLE, 'channel is closed');
      if (!(await this.watchState(state, deadline))) {
        const cause = this.connection.lastFailure;
        throw new GrpcError(Status.DEADLINE_EXCEEDED, `channel not ready before the deadline${cause ? `: ${cause.message}` : ''}`);
      }
    }
  }

  /** The client keepalive interval in use: keepaliveTimeMs, doubled after each too_many_pings GOAWAY. */
  get keepaliveTimeMs(): number | undefined {
    const ms = this.connection.keepaliveTimeMs;
    return Number.isFinite(ms) ? ms : undefined;
  }

  /**
   * The call, built with the method config in force when it starts: before the resolver's first
   * answer that config is not known yet, so the call waits for it (ConfigWaitingCall).
   */
  private createCall<Req, Res>(method: MethodDefinition<Req, Res>, options: CallOptions, sink: ResponseSink<Res>): CallHandle<Req> {
    if (this.connection.configKnown) return this.configuredCall(method, options, sink);
    return new ConfigWaitingCall<Req>(this.connection, options, (opts) => this.configuredCall(method, opts, sink));
  }

  /** A plain ClientCall unless something intercepts: calls without interceptors or credentials allocate nothing extra. */
  private configuredCall<Req, Res>(method: MethodDefinition<Req, Res>, options: CallOptions, sink: ResponseSink<Res>): CallHandle<Req> {
    let limits = this.limits;
    const config = this.connection.serviceConfig;
    const methodConfig = config && methodConfigFor(config, method.path);
    if (methodConfig) {
      ({ options, limits } = applyMethodConfig(options, limits, methodConfig));
      if (this.options.enableRetries !== false) limits.retry = this.retries.policyFor(config, methodConfig);
    }
    if (this.interceptors.length === 0 && !options.interceptors && !options.callCredentials) {
      return new ClientCall(this.connection, method, limits, options, sink);
    }
    return new InterceptedCall(this.connection, method, limits, options, sink, this.chainFor(options), this.target);
  }

  /** Channel interceptors, then the call's, then the credentials layer nearest the network. */
  private chainFor(options: CallOptions): readonly ClientInterceptor[] {
    if (!options.interceptors && !options.callCredentials) return this.interceptors;
    const chain = [...(this.options.interceptors ?? []), ...(options.interceptors ?? [])];
    let credentials = this.options.callCredentials;
    if (options.callCredentials) credentials = credentials ? credentials.compose(options.callCredentials) : options.callCredentials;
    if (credentials) {
      const refusal = insecureCredentialsProblem(this.connection, !!this.options.tls, this.options.allowInsecureCallCredentials ?? false);
      chain.push(callCredentialsInterceptor(credentials, this.limits.authority, refusal));
    }
    return chain;
  }

  private singleResponseCall<Req, Res>(method: MethodDefinition<Req, Res>, options: CallOptions, sink: SingleResponse<Res>): CallHandle<Req> {
    const call = this.createCall(method, options, sink);
    sink.call = call;
    return call;
  }
}

/** Feeds a request source into a call, waiting for drain, and stops early if the call ends. */
async function pump<Req>(requests: RequestSource<Req>, call: CallHandle<Req>): Promise<void> {
  try {
    for await (const request of requests) {
      if (call.isFinished) break;
      if (request instanceof MessageWithOptions) await call.write(request.message, request.options.compress ?? true);
      else await call.write(request);
    }
    call.end();
  } catch (err) {
    if (!call.isFinished) {
      const reason = err instanceof Error ? err.message : String(err);
      call.cancelWith(err instanceof GrpcError ? err : new GrpcError(Status.CANCELLED, `the request stream failed: ${reason}`));
    }
  }
}
