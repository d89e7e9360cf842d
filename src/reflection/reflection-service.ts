import type protobuf from 'protobufjs';
import type { Server } from '../server/server.js';
import type { ServiceImplementation } from '../server/handlers.js';
import { serviceRoot } from '../protobuf/sources.js';
import { Status } from '../wire/status.js';
import { DescriptorPool } from './descriptor-pool.js';
import { REFLECTION_PACKAGES, reflectionServiceDefinition } from './reflection-proto.js';

/** A decoded ServerReflectionRequest; `message_request` names the oneof member that is set. */
interface ReflectionRequest {
  host: string;
  message_request?: 'file_by_filename' | 'file_containing_symbol' | 'file_containing_extension' | 'all_extension_numbers_of_type' | 'list_services';
  file_by_filename?: string;
  file_containing_symbol?: string;
  file_containing_extension?: { containing_type: string; extension_number: number };
  all_extension_numbers_of_type?: string;
}

/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha), which grpcurl,
 * ghz, Postman and others use to call a server without its .proto files.
 * It lists the services registered on the server and describes them from
 * the files they were loaded from (loadProto), imports included.
 */
export class ReflectionService {
  private server: Server | undefined;
  private pool: DescriptorPool | undefined;
  private poolRoots: protobuf.Root[] = [];

  /** Registers both protocol versions on `server`, which it then describes. */
  addTo(server: Server): this {
    if (this.server) throw new Error('ReflectionService.addTo: already added to a server');
    this.server = server;
    for (const pkg of REFLECTION_PACKAGES) server.addService(reflectionServiceDefinition(pkg), this.implementation());
    return this;
  }

  private implementation(): ServiceImplementation {
    const answer = (request: ReflectionRequest, sent: Set<string>) => this.answer(request, sent);
    return {
      async *ServerReflectionInfo(requests: AsyncIterable<ReflectionRequest>) {
        const sent = new Set<string>(); // files this stream already received
        for await (const request of requests) yield answer(request, sent);
      },
    };
  }

  private answer(request: ReflectionRequest, sent: Set<string>): Record<string, unknown> {
    const response = { valid_host: request.host, original_request: request };
    const pool = this.currentPool();
    const files = (name: string | undefined, what: string) => {
      if (name === undefined) return { ...response, error_response: notFound(what) };
      return { ...response, file_descriptor_response: { file_descriptor_proto: pool.fileWithDependencies(name, sent) } };
    };
    switch (request.message_request) {
      case 'list_services':
        return { ...response, list_services_response: { service: this.server!.registeredServices().map((s) => ({ name: s.name })) } };
      case 'file_by_filename': {
        const name = request.file_by_filename!;
        return files(pool.hasFile(name) ? name : undefined, `file "${name}"`);
      }
      case 'file_containing_symbol': {
        const symbol = request.file_containing_symbol!;
        return files(pool.fileOfSymbol(symbol), `symbol "${symbol}"`);
      }
      case 'file_containing_extension': {
        const { containing_type: type, extension_number: number } = request.file_containing_extension!;
        return files(pool.fileOfExtension(type, number), `extension ${number} of "${type}"`);
      }
      case 'all_extension_numbers_of_type': {
        const type = request.all_extension_numbers_of_type!;
        const numbers = pool.extensionNumbers(type);
        if (!numbers) return { ...response, error_response: notFound(`message type "${type}"`) };
        return { ...response, all_extension_numbers_response: { base_type_name: type.replace(/^\./, ''), extension_number: numbers } };
      }
      default:
        return { ...response, error_response: { error_code: Status.INVALID_ARGUMENT, error_message: 'the request names no known message_request' } };
    }
  }

  /** Rebuilt when the server's services changed since the last request; services added later are found too. */
  private currentPool(): DescriptorPool {
    const roots = [...new Set(this.server!.registeredServices().map(serviceRoot).filter((r) => r !== undefined))];
    if (!this.pool || roots.length !== this.poolRoots.length || roots.some((r, i) => r !== this.poolRoots[i])) {
      this.pool = new DescriptorPool(roots);
      this.poolRoots = roots;
    }
    return this.pool;
  }
}

function notFound(what: string): { error_code: number; error_message: string } {
  return { error_code: Status.NOT_FOUND, error_message: `${what} not found` };
}
