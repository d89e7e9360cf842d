/**
 * protobufjs, loaded on first use rather than at import time: users who bring
 * their own codec never pay for parsing it. protobufjs is CommonJS, so a plain
 * require keeps every loader synchronous (loadProtoSync, fromRoot).
 */
import { createRequire } from 'node:module';
import type * as Protobuf from 'protobufjs';

export type { Protobuf };

const require = createRequire(import.meta.url);
let loaded: typeof Protobuf | undefined;
let descriptorsLoaded = false;

export function protobufjs(): typeof Protobuf {
  return (loaded ??= require('protobufjs') as typeof Protobuf);
}

/** protobufjs with its descriptor extension (Root.fromDescriptor) installed. */
export function protobufjsWithDescriptors(): typeof Protobuf & {
  Root: { fromDescriptor(set: Uint8Array | object, options?: { keepCase?: boolean }): Protobuf.Root };
} {
  const pb = protobufjs();
  if (!descriptorsLoaded) {
    require('protobufjs/ext/descriptor');
    descriptorsLoaded = true;
  }
  return pb as never;
}
