import { Status } from '../wire/status.js';
import { MAX_TIMER_MS } from '../util/timers.js';

/**
 * Service config (grpc/grpc doc/service_config.md, gRFC A6): parsed and checked once, when it
 * arrives from a channel option or a resolver, so calls only look things up.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included (2 to 5). */
  maxAttempts: number;
  /** Delay before the first retry, before jitter. */
  initialBackoffMs: number;
  /** Upper bound of the delay. */
  maxBackoffMs: number;
  /** Growth of the delay per retry. */
  backoffMultiplier: number;
  /** Statuses that are retried; any other ends the call. */
  retryableStatusCodes: ReadonlySet<Status>;
}

/** Hedging (gRFC A6): further attempts sent before the first has answered. */
export interface HedgingPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Time between attempts. */
  hedgingDelayMs: number;
  /** Statuses after which the other attempts go on; any other ends the call. */
  nonFatalStatusCodes: ReadonlySet<Status>;
}

/** What the service config says about one method (or service). */
export interface MethodConfig {
  /** Deadline of calls that set none (the shorter wins if both do). */
  timeoutMs?: number;
  /** Default waitForReady of the calls. */
  waitForReady?: boolean;
  /** Largest request message sent. */
  maxRequestMessageBytes?: number;
  /** Largest response message accepted. */
  maxResponseMessageBytes?: number;
  /** Retry failed calls. */
  retryPolicy?: RetryPolicy;
  /** Hedge calls (exclusive with retryPolicy). */
  hedgingPolicy?: HedgingPolicy;
}

/** Channel-wide retry throttling: retries stop while failures outnumber successes. */
export interface RetryThrottling {
  /** Token bucket size; retries are allowed while more than half remain. */
  maxTokens: number;
  /** Tokens a success gives back (a failure takes one). */
  tokenRatio: number;
}

/** One entry of `loadBalancingConfig`: a policy name and its own config object. */
export interface LoadBalancingChoice {
  /** The policy, e.g. "round_robin". */
  name: string;
  /** Its configuration object. */
  config: Record<string, unknown>;
}

/** A parsed service config (gRFC A2): load balancing, per-method settings and retry throttling. */
export interface ServiceConfig {
  /** In order of preference; the channel takes the first policy it knows. */
  loadBalancing: LoadBalancingChoice[];
  /** Keyed by `/service/method`, `/service/` (every method of a service) and `` (the default). */
  methods: ReadonlyMap<string, MethodConfig>;
  /** Retry throttling for the channel. */
  retryThrottling?: RetryThrottling;
}

/** The most attempts a policy may ask for; larger values are capped, as A6 says. */
const MAX_ATTEMPTS_CAP = 5;

class ConfigError extends Error {
  constructor(where: string, problem: string) {
    super(`invalid service config: ${where}: ${problem}`);
  }
}

/** Parses and validates a service config given as JSON text or as an object. Throws a ConfigError naming the field. */
export function parseServiceConfig(input: string | object): ServiceConfig {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch (err) {
      throw new ConfigError('JSON', (err as Error).message);
    }
  }
  const root = object(raw, 'the config');
  const methods = new Map<string, MethodConfig>();
  for (const [i, entry] of array(root.methodConfig ?? [], 'methodConfig').entries()) {
    const where = `methodConfig[${i}]`;
    const mc = object(entry, where);
    const config = methodConfig(mc, where);
    for (const [j, name] of array(mc.name ?? [], `${where}.name`).entries()) {
      const key = methodKey(object(name, `${where}.name[${j}]`), `${where}.name[${j}]`);
      if (methods.has(key)) throw new ConfigError(`${where}.name[${j}]`, `duplicate name ${JSON.stringify(key)}`);
      methods.set(key, config);
    }
  }
  return {
    loadBalancing: loadBalancing(root),
    methods,
    retryThrottling: root.retryThrottling === undefined ? undefined : retryThrottling(object(root.retryThrottling, 'retryThrottling')),
  };
}

/** The config that applies to a method path: the method's own, its service's, or the default. */
export function methodConfigFor(config: ServiceConfig | undefined, path: string): MethodConfig | undefined {
  if (!config || config.methods.size === 0) return undefined;
  const slash = path.lastIndexOf('/');
  return config.methods.get(path) ?? config.methods.get(path.slice(0, slash + 1)) ?? config.methods.get('');
}

function methodKey(name: Record<string, unknown>, where: string): string {
  const service = name.service === undefined ? '' : string(name.service, `${where}.service`);
  const method = name.method === undefined ? '' : string(name.method, `${where}.method`);
  if (!service) {
    if (method) throw new ConfigError(where, 'a method name needs a service name');
    return '';
  }
  return `/${service}/${method}`;
}

function methodConfig(mc: Record<string, unknown>, where: string): MethodConfig {
  const config: MethodConfig = {};
  if (mc.timeout !== undefined) config.timeoutMs = duration(mc.timeout, `${where}.timeout`);
  if (mc.waitForReady !== undefined) config.waitForReady = boolean(mc.waitForReady, `${where}.waitForReady`);
  if (mc.maxRequestMessageBytes !== undefined) config.maxRequestMessageBytes = wholeNumber(mc.maxRequestMessageBytes, `${where}.maxRequestMessageBytes`);
  if (mc.maxResponseMessageBytes !== undefined) config.maxResponseMessageBytes = wholeNumber(mc.maxResponseMessageBytes, `${where}.maxResponseMessageBytes`);
  if (mc.retryPolicy !== undefined && mc.hedgingPolicy !== undefined) {
    throw new ConfigError(where, 'retryPolicy and hedgingPolicy are mutually exclusive');
  }
  if (mc.retryPolicy !== undefined) config.retryPolicy = retryPolicy(object(mc.retryPolicy, `${where}.retryPolicy`), `${where}.retryPolicy`);
  if (mc.hedgingPolicy !== undefined) config.hedgingPolicy = hedgingPolicy(object(mc.hedgingPolicy, `${where}.hedgingPolicy`), `${where}.hedgingPolicy`);
  return config;
}

function attempts(value: unknown, where: string): number {
  const n = wholeNumber(value, where);
  if (n < 2) throw new ConfigError(where, `must be at least 2, got ${n}`);
  return Math.min(n, MAX_ATTEMPTS_CAP);
}

function retryPolicy(p: Record<string, unknown>, where: string): RetryPolicy {
  const policy: RetryPolicy = {
    maxAttempts: attempts(p.maxAttempts, `${where}.maxAttempts`),
    initialBackoffMs: timerDuration(positiveDuration(p.initialBackoff, `${where}.initialBackoff`), `${where}.initialBackoff`),
    maxBackoffMs: timerDuration(positiveDuration(p.maxBackoff, `${where}.maxBackoff`), `${where}.maxBackoff`),
    backoffMultiplier: positiveNumber(p.backoffMultiplier, `${where}.backoffMultiplier`),
    retryableStatusCodes: statusCodes(p.retryableStatusCodes, `${where}.retryableStatusCodes`),
  };
  if (policy.retryableStatusCodes.size === 0) throw new ConfigError(`${where}.retryableStatusCodes`, 'must not be empty');
  return policy;
}

function hedgingPolicy(p: Record<string, unknown>, where: string): HedgingPolicy {
  return {
    maxAttempts: attempts(p.maxAttempts, `${where}.maxAttempts`),
    hedgingDelayMs: p.hedgingDelay === undefined ? 0 : timerDuration(duration(p.hedgingDelay, `${where}.hedgingDelay`), `${where}.hedgingDelay`),
    nonFatalStatusCodes: statusCodes(p.nonFatalStatusCodes ?? [], `${where}.nonFatalStatusCodes`),
  };
}

function retryThrottling(t: Record<string, unknown>): RetryThrottling {
  const maxTokens = positiveNumber(t.maxTokens, 'retryThrottling.maxTokens');
  if (maxTokens > 1000) throw new ConfigError('retryThrottling.maxTokens', `must be at most 1000, got ${maxTokens}`);
  const tokenRatio = positiveNumber(t.tokenRatio, 'retryThrottling.tokenRatio');
  // A6: the ratio has at most three decimal places.
  return { maxTokens, tokenRatio: Math.round(tokenRatio * 1000) / 1000 };
}

function loadBalancing(root: Record<string, unknown>): LoadBalancingChoice[] {
  const choices: LoadBalancingChoice[] = [];
  for (const [i, entry] of array(root.loadBalancingConfig ?? [], 'loadBalancingConfig').entries()) {
    const keys = Object.keys(object(entry, `loadBalancingConfig[${i}]`));
    if (keys.length !== 1) throw new ConfigError(`loadBalancingConfig[${i}]`, `must have exactly one policy name, got ${keys.length}`);
    choices.push({ name: keys[0], config: object((entry as Record<string, unknown>)[keys[0]], `loadBalancingConfig[${i}].${keys[0]}`) });
  }
  // The deprecated field, still sent by some configs: "ROUND_ROBIN" and the like.
  if (choices.length === 0 && root.loadBalancingPolicy !== undefined) {
    choices.push({ name: string(root.loadBalancingPolicy, 'loadBalancingPolicy').toLowerCase(), config: {} });
  }
  return choices;
}

function statusCodes(value: unknown, where: string): Set<Status> {
  const codes = new Set<Status>();
  for (const [i, code] of array(value, where).entries()) {
    if (typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= Status.UNAUTHENTICATED) codes.add(code);
    else if (typeof code === 'string' && code.toUpperCase() in Status && Number.isNaN(Number(code))) codes.add(Status[code.toUpperCase() as keyof typeof Status]);
    else throw new ConfigError(`${where}[${i}]`, `${JSON.stringify(code)} is not a status code`);
  }
  return codes;
}

/** The longest protobuf Duration: 10,000 years. */
const MAX_DURATION_SECONDS = 315_576_000_000;

/** A protobuf JSON Duration: "1.5s", at most 9 fractional digits, within the Duration range. */
function duration(value: unknown, where: string): number {
  if (typeof value !== 'string' || !/^\d+(\.\d{1,9})?s$/.test(value)) {
    throw new ConfigError(where, `${JSON.stringify(value)} is not a duration such as "1.5s"`);
  }
  const seconds = Number(value.slice(0, -1));
  if (seconds > MAX_DURATION_SECONDS) throw new ConfigError(where, `${value} is longer than the longest duration, ${MAX_DURATION_SECONDS}s`);
  return seconds * 1000;
}

/** A delay the client waits with a timer: no longer than setTimeout allows (about 24.8 days), which would fire at once. */
function timerDuration(ms: number, where: string): number {
  if (ms > MAX_TIMER_MS) throw new ConfigError(where, `must be at most ${MAX_TIMER_MS / 1000}s, got ${ms / 1000}s`);
  return ms;
}

function positiveDuration(value: unknown, where: string): number {
  const ms = duration(value, where);
  if (ms <= 0) throw new ConfigError(where, 'must be greater than 0s');
  return ms;
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(where, 'must be an object');
  return value as Record<string, unknown>;
}

function array(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new ConfigError(where, 'must be an array');
  return value;
}

function string(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new ConfigError(where, 'must be a string');
  return value;
}

function boolean(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(where, 'must be true or false');
  return value;
}

function positiveNumber(value: unknown, where: string): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new ConfigError(where, `must be a number greater than 0, got ${JSON.stringify(value)}`);
  return value;
}

/** Byte limits are JSON numbers or, as protobuf JSON writes uint64, decimal strings. */
function wholeNumber(value: unknown, where: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ConfigError(where, `must be a whole number, got ${JSON.stringify(value)}`);
  return n;
}
