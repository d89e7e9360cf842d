import type { MethodConfig } from '../transport/service-config.js';
import type { CallOptions } from './call-options.js';
import type { CallLimits } from './client-call.js';

/**
 * A call's options and limits with its service config methodConfig applied: the config's
 * timeout caps the call's own, its waitForReady applies unless the call says otherwise, and
 * its message size limits tighten the channel's.
 */
export function applyMethodConfig(options: CallOptions, limits: CallLimits, config: MethodConfig): { options: CallOptions; limits: CallLimits } {
  const merged: CallOptions = { ...options };
  if (config.timeoutMs !== undefined) merged.timeout = Math.min(options.timeout ?? Infinity, config.timeoutMs);
  if (options.waitForReady === undefined && config.waitForReady !== undefined) merged.waitForReady = config.waitForReady;
  return {
    options: merged,
    limits: {
      maxSendMessageSize: Math.min(limits.maxSendMessageSize, config.maxRequestMessageBytes ?? Infinity),
      maxReceiveMessageSize: Math.min(limits.maxReceiveMessageSize, config.maxResponseMessageBytes ?? Infinity),
    },
  };
}
