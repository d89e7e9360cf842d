import type { MethodDefinition, ServiceDefinition } from '../../src/index.js';

const raw = (b: Uint8Array) => b;
const method = (name: string, requestStream: boolean, responseStream: boolean): MethodDefinition<Uint8Array, Uint8Array> => ({
  name,
  path: `/mem.Sink/${name}`,
  requestStream,
  responseStream,
  serializeRequest: raw,
  deserializeRequest: raw,
  serializeResponse: raw,
  deserializeResponse: raw,
});

/** Methods whose messages are the raw bytes on the wire (no protobuf): tests control every byte. */
export const sinkService: ServiceDefinition = {
  name: 'mem.Sink',
  methods: {
    Collect: method('Collect', true, false),
    Chat: method('Chat', true, true),
    Feed: method('Feed', false, true),
  },
};
