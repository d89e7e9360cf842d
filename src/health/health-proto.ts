import { EmbeddedProto } from '../protobuf/embedded.js';
import type { ServiceDefinition } from '../service.js';

/** grpc.health.v1, written from the published field numbers; shipped as text so no .proto file needs copying. */
const source = `
syntax = "proto3";

package grpc.health.v1;

message HealthCheckRequest {
  string service = 1;
}

message HealthCheckResponse {
  enum ServingStatus {
    UNKNOWN = 0;
    SERVING = 1;
    NOT_SERVING = 2;
    SERVICE_UNKNOWN = 3;
  }
  ServingStatus status = 1;
}

service Health {
  rpc Check(HealthCheckRequest) returns (HealthCheckResponse);
  rpc Watch(HealthCheckRequest) returns (stream HealthCheckResponse);
}
`;

let definition: ServiceDefinition | undefined;

/** The grpc.health.v1.Health service definition, parsed on first use so importing tsgrpc stays cheap. */
export function healthServiceDefinition(): ServiceDefinition {
  return (definition ??= new EmbeddedProto('grpc/health/v1/health.proto', source).service('grpc.health.v1.Health'));
}
