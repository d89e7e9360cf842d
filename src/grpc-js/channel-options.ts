import type { ChannelOptions as NativeChannelOptions, ServerOptions as NativeServerOptions } from '../index.js';
import { compressionAlgorithms } from './constants.js';

/** grpc-js channel options: "grpc.*" keys with number or string values. */
export type ChannelOptions = Record<string, unknown>;

/**
 * The native stack has no equivalent for these yet. Accepting one and
 * ignoring it would be a silent behaviour change (an option that does not
 * act is a bug), so they fail loudly instead.
 */
export class UnsupportedOptionError extends Error {
  /** Names the option `key`, its `value` and why it is refused. */
  constructor(key: string, value: unknown, why = 'is not supported by tsgrpc/grpc-js yet') {
    super(`tsgrpc/grpc-js: channel option "${key}" (= ${JSON.stringify(value)}) ${why}; remove it or keep using @grpc/grpc-js`);
    this.name = 'UnsupportedOptionError';
  }
}

/** A size limit: -1 means unlimited, as in grpc-js. */
function messageSize(key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -1) {
    throw new TypeError(`tsgrpc/grpc-js: channel option "${key}" must be an integer >= -1, got ${JSON.stringify(value)}`);
  }
  return value === -1 ? Number.MAX_SAFE_INTEGER : value;
}

function integer(key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`tsgrpc/grpc-js: channel option "${key}" must be an integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** grpc-js's booleans are 0 and 1. */
function flag(key: string, value: unknown): boolean {
  if (value === 0 || value === 1 || typeof value === 'boolean') return Boolean(value);
  throw new TypeError(`tsgrpc/grpc-js: channel option "${key}" must be 0 or 1, got ${JSON.stringify(value)}`);
}

function text(key: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`tsgrpc/grpc-js: channel option "${key}" must be a string, got ${JSON.stringify(value)}`);
  return value;
}

const MIN_IDLE_TIMEOUT_MS = 1000;

function positiveInt(key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new TypeError(`tsgrpc/grpc-js: channel option "${key}" must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function compressionName(key: string, value: unknown): 'gzip' | 'deflate' | undefined {
  switch (value) {
    case compressionAlgorithms.identity: return undefined;
    case compressionAlgorithms.deflate: return 'deflate';
    case compressionAlgorithms.gzip: return 'gzip';
    default: throw new TypeError(`tsgrpc/grpc-js: channel option "${key}" must be 0 (identity), 1 (deflate) or 2 (gzip), got ${JSON.stringify(value)}`);
  }
}

/** Options that switch a feature off which tsgrpc does not have: the value asked for is what happens. */
function acceptOnlyOff(key: string, value: unknown): void {
  if (value !== 0 && value !== false) throw new UnsupportedOptionError(key, value, 'can only be 0 here (tsgrpc has no such feature to turn on)');
}

export interface ClientSettings {
  channel: NativeChannelOptions;
  /** Compression of every request message, from grpc.default_compression_algorithm. */
  compression?: 'gzip' | 'deflate';
  /** grpc.ssl_target_name_override: applied to TLS credentials only. */
  serverNameOverride?: string;
}

/** The client's options keys that are not channel options (grpc-js ClientOptions). */
const CLIENT_ONLY_KEYS = new Set(['channelFactoryOverride', 'callInvocationTransformer']);

export function clientSettings(options: ChannelOptions = {}): ClientSettings {
  const settings: ClientSettings = { channel: {} };
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    switch (key) {
      case 'grpc.max_receive_message_length':
        settings.channel.maxReceiveMessageSize = messageSize(key, value);
        break;
      case 'grpc.max_send_message_length':
        settings.channel.maxSendMessageSize = messageSize(key, value);
        break;
      case 'grpc.initial_reconnect_backoff_ms':
        settings.channel.initialBackoffMs = positiveInt(key, value);
        break;
      case 'grpc.max_reconnect_backoff_ms':
        settings.channel.maxBackoffMs = positiveInt(key, value);
        break;
      case 'grpc.default_compression_algorithm':
        settings.compression = compressionName(key, value);
        break;
      case 'grpc.keepalive_time_ms':
        settings.channel.keepaliveTimeMs = positiveInt(key, value);
        break;
      case 'grpc.keepalive_timeout_ms':
        settings.channel.keepaliveTimeoutMs = positiveInt(key, value);
        break;
      case 'grpc.keepalive_permit_without_calls':
        settings.channel.keepalivePermitWithoutCalls = flag(key, value);
        break;
      case 'grpc.client_idle_timeout_ms':
        // grpc-js never idles sooner than after 1 s, whatever is asked.
        settings.channel.idleTimeoutMs = Math.max(integer(key, value), MIN_IDLE_TIMEOUT_MS);
        break;
      case 'grpc.ssl_target_name_override':
        settings.serverNameOverride = text(key, value);
        break;
      case 'grpc.primary_user_agent':
        settings.channel.userAgent = text(key, value);
        break;
      case 'grpc.secondary_user_agent':
        settings.channel.userAgentSuffix = text(key, value);
        break;
      case 'grpc.default_authority':
        settings.channel.authority = text(key, value);
        break;
      case 'grpc.enable_retries':
        settings.channel.enableRetries = flag(key, value);
        break;
      case 'grpc.service_config':
        if (typeof value !== 'string') throw new TypeError(`tsgrpc/grpc-js: channel option "${key}" must be a JSON string`);
        settings.channel.serviceConfig = withPolicy(serviceConfigJson(key, value), settings.channel.serviceConfig);
        break;
      case 'grpc.lb_policy_name':
        if (typeof value !== 'string') throw new TypeError(`tsgrpc/grpc-js: channel option "${key}" must be a string`);
        settings.channel.serviceConfig = withPolicy(settings.channel.serviceConfig as Record<string, unknown> | undefined, value);
        break;
      case 'grpc.service_config_disable_resolution':
        // 0 asks for service configs from DNS TXT records. Unlike grpc-js, leaving the option out does not:
        // a TXT query per resolution is a cost (and a lookup that may hang) most channels never want.
        settings.channel.serviceConfigFromDns = !flag(key, value);
        break;
      case 'grpc.dns_min_time_between_resolutions_ms':
        settings.channel.dnsMinResolutionIntervalMs = integer(key, value);
        break;
      case 'grpc.retry_buffer_size':
        settings.channel.retryBufferBytes = positiveInt(key, value);
        break;
      case 'grpc.per_rpc_retry_buffer_size':
        settings.channel.perRpcRetryBufferBytes = positiveInt(key, value);
        break;
      case 'grpc.enable_channelz':
      case 'grpc.enable_http_proxy':
        acceptOnlyOff(key, value);
        break;
      default:
        if (CLIENT_ONLY_KEYS.has(key)) rejectClientOnly(key, value);
        else throw new UnsupportedOptionError(key, value);
    }
  }
  return settings;
}

function serviceConfigJson(key: string, value: string): Record<string, unknown> {
  try {
    return JSON.parse(value) as Record<string, unknown>;
  } catch (err) {
    throw new TypeError(`tsgrpc/grpc-js: channel option "${key}" is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * grpc.service_config and grpc.lb_policy_name together, in either order: the policy name applies
 * when the service config does not choose a policy itself, as in grpc-js.
 */
function withPolicy(config: Record<string, unknown> | undefined, other: unknown): Record<string, unknown> {
  if (typeof other === 'string') {
    config ??= {};
    if (config.loadBalancingConfig || config.loadBalancingPolicy) return config;
    return { ...config, loadBalancingConfig: [{ [other]: {} }] };
  }
  // A service config arriving after grpc.lb_policy_name: the name stays only if the config has no policy.
  const earlier = other as { loadBalancingConfig?: unknown } | undefined;
  if (!earlier?.loadBalancingConfig || config?.loadBalancingConfig || config?.loadBalancingPolicy) return config ?? {};
  return { ...config, loadBalancingConfig: earlier.loadBalancingConfig };
}

function rejectClientOnly(key: string, value: unknown): void {
  if (Array.isArray(value) && value.length === 0) return;
  throw new UnsupportedOptionError(key, Array.isArray(value) ? `[${value.length} entries]` : typeof value);
}

export function serverSettings(options: ChannelOptions = {}): NativeServerOptions {
  const settings: NativeServerOptions = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    switch (key) {
      case 'grpc.max_receive_message_length':
        settings.maxReceiveMessageSize = messageSize(key, value);
        break;
      case 'grpc.max_send_message_length':
        settings.maxSendMessageSize = messageSize(key, value);
        break;
      case 'grpc.max_concurrent_streams':
        settings.maxConcurrentStreams = positiveInt(key, value);
        break;
      case 'grpc.keepalive_time_ms':
        settings.keepaliveTimeMs = positiveInt(key, value);
        break;
      case 'grpc.keepalive_timeout_ms':
        settings.keepaliveTimeoutMs = positiveInt(key, value);
        break;
      case 'grpc.max_connection_idle_ms':
        settings.maxConnectionIdleMs = positiveInt(key, value);
        break;
      case 'grpc.max_connection_age_ms':
        settings.maxConnectionAgeMs = positiveInt(key, value);
        break;
      case 'grpc.max_connection_age_grace_ms':
        settings.maxConnectionAgeGraceMs = positiveInt(key, value);
        break;
      // gRPC core's names for the ping enforcement policy (grpc-js's server has none).
      case 'grpc.keepalive_permit_without_calls':
        settings.keepalivePermitWithoutCalls = flag(key, value);
        break;
      case 'grpc.http2.min_ping_interval_without_data_ms':
        settings.keepaliveMinPingIntervalMs = positiveInt(key, value);
        break;
      case 'grpc.default_compression_algorithm':
        settings.compression = compressionName(key, value);
        break;
      case 'grpc.enable_channelz':
        acceptOnlyOff(key, value);
        break;
      default:
        throw new UnsupportedOptionError(key, value);
    }
  }
  return settings;
}
