import { createRequire } from 'node:module';
import type * as Minimal from 'protobufjs/minimal.js';

// Loaded on the first rich status, not at start-up (bring-your-own-codec users never load protobufjs).
const require = createRequire(import.meta.url);
let minimal: typeof Minimal | undefined;
const protobuf = (): typeof Minimal => (minimal ??= require('protobufjs/minimal.js') as typeof Minimal);

/** google.rpc.Status as carried in grpc-status-details-bin. */
export interface RichStatus {
  code: number;
  message: string;
  details: { typeUrl: string; value: Buffer }[];
}

// Field numbers from google/rpc/status.proto and google/protobuf/any.proto.
export function decodeStatusDetails(bytes: Uint8Array): RichStatus {
  const reader = protobuf().Reader.create(bytes);
  const status: RichStatus = { code: 0, message: '', details: [] };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (tag >>> 3) {
      case 1: status.code = reader.int32(); break;
      case 2: status.message = reader.string(); break;
      case 3: status.details.push(decodeAny(reader.bytes())); break;
      default: reader.skipType(tag & 7);
    }
  }
  return status;
}

function decodeAny(bytes: Uint8Array): { typeUrl: string; value: Buffer } {
  const reader = protobuf().Reader.create(bytes);
  const any = { typeUrl: '', value: Buffer.alloc(0) };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1) any.typeUrl = reader.string();
    else if (tag >>> 3 === 2) any.value = Buffer.from(reader.bytes());
    else reader.skipType(tag & 7);
  }
  return any;
}

export function encodeStatusDetails(status: RichStatus): Buffer {
  const writer = protobuf().Writer.create();
  if (status.code) writer.uint32(8).int32(status.code);
  if (status.message) writer.uint32(18).string(status.message);
  for (const d of status.details) {
    writer.uint32(26).fork().uint32(10).string(d.typeUrl).uint32(18).bytes(d.value).ldelim();
  }
  return Buffer.from(writer.finish());
}
