import type protobuf from 'protobufjs';
import { EmbeddedProto } from '../protobuf/embedded.js';

/**
 * The part of google/protobuf/descriptor.proto that reflection emits, from
 * the published field numbers. proto2, so an explicit false (packed=false)
 * is still written. Only used to encode; never served.
 */
const source = `
syntax = "proto2";

package tsgrpc.descriptor;

message FileDescriptorProto {
  optional string name = 1;
  optional string package = 2;
  repeated string dependency = 3;
  repeated DescriptorProto message_type = 4;
  repeated EnumDescriptorProto enum_type = 5;
  repeated ServiceDescriptorProto service = 6;
  repeated FieldDescriptorProto extension = 7;
  optional string syntax = 12;
  optional int32 edition = 14;
}

message DescriptorProto {
  optional string name = 1;
  repeated FieldDescriptorProto field = 2;
  repeated DescriptorProto nested_type = 3;
  repeated EnumDescriptorProto enum_type = 4;
  message ExtensionRange {
    optional int32 start = 1;
    optional int32 end = 2;
  }
  repeated ExtensionRange extension_range = 5;
  repeated FieldDescriptorProto extension = 6;
  optional MessageOptions options = 7;
  repeated OneofDescriptorProto oneof_decl = 8;
  message ReservedRange {
    optional int32 start = 1;
    optional int32 end = 2;
  }
  repeated ReservedRange reserved_range = 9;
  repeated string reserved_name = 10;
}

message FieldDescriptorProto {
  optional string name = 1;
  optional string extendee = 2;
  optional int32 number = 3;
  optional int32 label = 4;
  optional int32 type = 5;
  optional string type_name = 6;
  optional string default_value = 7;
  optional FieldOptions options = 8;
  optional int32 oneof_index = 9;
  optional string json_name = 10;
  optional bool proto3_optional = 17;
}

message OneofDescriptorProto {
  optional string name = 1;
}

message EnumDescriptorProto {
  optional string name = 1;
  repeated EnumValueDescriptorProto value = 2;
  optional EnumOptions options = 3;
  message EnumReservedRange {
    optional int32 start = 1;
    optional int32 end = 2;
  }
  repeated EnumReservedRange reserved_range = 4;
  repeated string reserved_name = 5;
}

message EnumValueDescriptorProto {
  optional string name = 1;
  optional int32 number = 2;
  optional EnumValueOptions options = 3;
}

message ServiceDescriptorProto {
  optional string name = 1;
  repeated MethodDescriptorProto method = 2;
  optional ServiceOptions options = 3;
}

message MethodDescriptorProto {
  optional string name = 1;
  optional string input_type = 2;
  optional string output_type = 3;
  optional MethodOptions options = 4;
  optional bool client_streaming = 5;
  optional bool server_streaming = 6;
}

message MessageOptions {
  optional bool deprecated = 3;
  optional bool map_entry = 7;
}

message FieldOptions {
  optional bool packed = 2;
  optional bool deprecated = 3;
}

message EnumOptions {
  optional bool allow_alias = 2;
  optional bool deprecated = 3;
}

message EnumValueOptions {
  optional bool deprecated = 1;
}

message ServiceOptions {
  optional bool deprecated = 33;
}

message MethodOptions {
  optional bool deprecated = 33;
}
`;

let fileDescriptorType: protobuf.Type | undefined;

/** Encodes a FileDescriptorProto given as a plain object with proto field names. */
export function encodeFileDescriptor(file: object): Uint8Array {
  fileDescriptorType ??= new EmbeddedProto('tsgrpc/descriptor.proto', source).type('tsgrpc.descriptor.FileDescriptorProto');
  return fileDescriptorType.encode(file).finish();
}
