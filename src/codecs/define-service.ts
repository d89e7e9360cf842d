/**
 * Service definitions from any codec: bring-your-own-codec users (protobuf-es,
 * ts-proto, hand-written) build the same ServiceDefinition loadProto returns,
 * without loading protobufjs.
 */
import type { MessageCodec, MethodDefinition, ServiceDefinition } from '../service.js';

/** One method for defineService(): its codecs and streaming shape. */
export interface MethodSpec<Req = any, Res = any> {
  /** The client sends a stream of requests (default false). */
  requestStream?: boolean;
  /** The server sends a stream of responses (default false). */
  responseStream?: boolean;
  /** How requests become bytes and back. */
  request: MessageCodec<Req>;
  /** How responses become bytes and back. */
  response: MessageCodec<Res>;
}

/** `fullName` is the service's fully-qualified name ("pkg.Shop"); method keys are the names as declared ("Place"). */
export function defineService(fullName: string, methods: Record<string, MethodSpec>): ServiceDefinition {
  const out: Record<string, MethodDefinition> = {};
  for (const [name, spec] of Object.entries(methods)) {
    out[name] = {
      name,
      path: `/${fullName}/${name}`,
      requestStream: !!spec.requestStream,
      responseStream: !!spec.responseStream,
      serializeRequest: spec.request.serialize,
      deserializeRequest: spec.request.deserialize,
      serializeResponse: spec.response.serialize,
      deserializeResponse: spec.response.deserialize,
    };
  }
  return { name: fullName, methods: out };
}
