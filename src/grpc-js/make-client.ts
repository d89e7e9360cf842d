import { Client, type ClientOptions } from './client.js';
import type { ChannelCredentials } from './credentials.js';
import { methodType, type MethodDefinition, type ServiceDefinition } from './service-definition.js';

/** A generated client class: `new` makes a Client with one method per service method. */
export interface ServiceClientConstructor {
  /** Makes a client for `address` over the given credentials and channel options. */
  new (address: string, credentials: ChannelCredentials, options?: ClientOptions): Client & Record<string, any>;
  /** The service definition the class was made from. */
  service: ServiceDefinition;
  /** The service's name as given to `makeClientConstructor`. */
  serviceName: string;
}

const REQUESTERS = {
  unary: Client.prototype.makeUnaryRequest,
  clientStream: Client.prototype.makeClientStreamRequest,
  serverStream: Client.prototype.makeServerStreamRequest,
  bidi: Client.prototype.makeBidiStreamRequest,
} as const;

/** Names that would reach Object.prototype through a generated client or package object. */
function isPolluting(name: string): boolean {
  return name === '__proto__' || name === 'prototype' || name === 'constructor';
}

/**
 * A Client subclass with one method per service method (under its name and
 * its originalName), each a request function with path and serializers filled in.
 */
export function makeClientConstructor(methods: ServiceDefinition, serviceName: string, _classOptions?: object): ServiceClientConstructor {
  class ServiceClient extends Client {
    static service: ServiceDefinition;
    static serviceName: string;
  }
  const proto = ServiceClient.prototype as unknown as Record<string, unknown>;
  for (const name of Object.keys(methods)) {
    if (isPolluting(name)) continue;
    if (name.startsWith('$')) throw new Error('Method names cannot start with $');
    const attrs: MethodDefinition = methods[name];
    const requester = REQUESTERS[methodType(attrs)] as (...args: any[]) => unknown;
    const fn = function (this: Client, ...args: unknown[]) {
      return requester.call(this, attrs.path, attrs.requestSerialize, attrs.responseDeserialize, ...args);
    };
    proto[name] = Object.assign(fn, attrs);
    if (attrs.originalName && !isPolluting(attrs.originalName)) proto[attrs.originalName] = proto[name];
  }
  ServiceClient.service = methods;
  ServiceClient.serviceName = serviceName;
  return ServiceClient as unknown as ServiceClientConstructor;
}

/** An alias of `makeClientConstructor`, as in grpc-js. */
export const makeGenericClientConstructor = makeClientConstructor;

/** A message or enum type in a package definition (proto-loader marks them with `format`). */
function isTypeDefinition(value: object): boolean {
  return 'format' in value;
}

/** @grpc/proto-loader output: services and types keyed by their fully qualified names. */
export type PackageDefinition = Record<string, ServiceDefinition | {
  /** The proto-loader format of a message or enum type, e.g. `'Protocol Buffer 3 DescriptorProto'`. */
  format: string;
}>;
/** What `loadPackageDefinition` returns: nested packages of client constructors and type definitions. */
export interface GrpcObject {
  [name: string]: GrpcObject | ServiceClientConstructor | {
    /** The proto-loader format of a message or enum type, e.g. `'Protocol Buffer 3 DescriptorProto'`. */
    format: string;
  };
}

/** Nests @grpc/proto-loader output by package: `grpc.loadPackageDefinition(def).helloworld.Greeter`. */
export function loadPackageDefinition(packageDef: PackageDefinition): GrpcObject {
  const result: GrpcObject = {};
  for (const fqn of Object.keys(packageDef)) {
    const parts = fqn.split('.');
    if (parts.some(isPolluting)) continue;
    const name = parts.pop()!;
    let current = result;
    for (const part of parts) current = (current[part] ??= {}) as GrpcObject;
    const entry = packageDef[fqn];
    current[name] = isTypeDefinition(entry) ? (entry as { format: string }) : makeClientConstructor(entry as ServiceDefinition, name);
  }
  return result;
}
