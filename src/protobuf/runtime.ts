/**
 * protobufjs, loaded on first use rather than at import time: users who bring
 * their own codec never pay for parsing it. protobufjs is CommonJS, so a plain
 * require keeps every loader synchronous (loadProtoSync, fromRoot).
 */
import type * as Protobuf from 'protobufjs';
import { packageRequire } from '../util/package-require.js';

export type { Protobuf };

let loaded: typeof Protobuf | undefined;
let descriptorsLoaded = false;

export function protobufjs(): typeof Protobuf {
  return (loaded ??= packageRequire('protobufjs') as typeof Protobuf);
}

/** protobufjs with its descriptor extension (Root.fromDescriptor) installed. */
export function protobufjsWithDescriptors(): typeof Protobuf & {
  Root: { fromDescriptor(set: Uint8Array | object, options?: { keepCase?: boolean }): Protobuf.Root };
} {
  const pb = protobufjs();
  if (!descriptorsLoaded) {
    packageRequire('protobufjs/ext/descriptor');
    descriptorsLoaded = true;
  }
  return pb as never;
}
