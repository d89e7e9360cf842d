import type { MethodDefinition } from '../service.js';
import { GrpcError } from '../wire/error.js';
import { Status } from '../wire/status.js';

/**
 * A response the interceptor layer serialized and size-checked before its status hooks ran, so that
 * they see the status the client will get; the call sends these bytes as they are.
 */
export class SerializedResponse {
  constructor(readonly bytes: Uint8Array) {}
}

export function serializeResponse(definition: MethodDefinition, value: unknown): Uint8Array {
  if (value instanceof SerializedResponse) return value.bytes;
  try {
    return definition.serializeResponse(value);
  } catch (err) {
    throw new GrpcError(Status.INTERNAL, `could not serialize the response of ${definition.path}: ${(err as Error).message}`);
  }
}
