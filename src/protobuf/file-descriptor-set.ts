import type { Protobuf } from './runtime.js';
import { encodeFileDescriptor } from './descriptor-proto.js';
import { buildFiles } from './file-descriptors.js';

const encodedFiles = new WeakMap<Protobuf.Root, Uint8Array[]>();

/**
 * Every file of a Root as serialized FileDescriptorProtos, built once per Root: what loadProto puts
 * behind ServiceDefinition.fileDescriptors.
 */
export function fileDescriptorsOf(root: Protobuf.Root): () => Uint8Array[] {
  return () => {
    let files = encodedFiles.get(root);
    if (!files) encodedFiles.set(root, (files = buildFiles(root).map((f) => encodeFileDescriptor(f.descriptor))));
    return files;
  };
}
