import { callKind, lowerCamel, type ServiceDefinition } from '../service.js';
import type { CallOptions } from './call-options.js';
import type { Channel } from './channel.js';

/** A client object with one function per method, under both "UnaryCall" and "unaryCall". */
export type Client = Record<string, (...args: any[]) => any>;

export function createClient(service: ServiceDefinition, channel: Channel): Client {
  const client: Client = {};
  for (const method of Object.values(service.methods)) {
    let fn: (...args: any[]) => any;
    switch (callKind(method)) {
      case 'unary':
        fn = (request: unknown, options?: CallOptions) => channel.unary(method, request, options);
        break;
      case 'serverStream':
        fn = (request: unknown, options?: CallOptions) => channel.serverStream(method, request, options);
        break;
      case 'clientStream':
        fn = (requests: AsyncIterable<unknown>, options?: CallOptions) => channel.clientStream(method, requests, options);
        break;
      case 'bidi':
        fn = (options?: CallOptions) => channel.bidi(method, options);
        break;
    }
    client[method.name] = fn;
    client[lowerCamel(method.name)] = fn;
  }
  return client;
}
