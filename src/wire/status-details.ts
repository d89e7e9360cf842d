import type * as Minimal from 'protobufjs/minimal.js';
import { packageRequire } from '../util/package-require.js';

// Loaded on the first rich status, not at start-up (bring-your-own-codec users never load protobufjs).
let minimal: typeof Minimal | undefined;
const protobuf = (): typeof Minimal => (minimal ??= packageRequire('protobufjs/minimal.js') as typeof Minimal);

/** google.rpc.Status as carried in grpc-status-details-bin. */
export interface RichStatus {
  /** The status code; should match grpc-status. */
  code: number;
  /** The status message; should match grpc-message. */
  message: string;
  /** google.protobuf.Any messages with the error details (e.g. google.rpc.BadRequest). */
  details: {
    /** The type URL, e.g. "type.googleapis.com/google.rpc.BadRequest". */
    typeUrl: string;
    /** The serialized message. */
    value: Buffer;
  }[];
}

const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** The field number of `tag`, after checking its wire type where the schema fixes one. */
function field(tag: number, expected: Record<number, number>): number {
  const number = tag >>> 3;
  const wireType = expected[number];
  if (wireType !== undefined && (tag & 7) !== wireType) {
    throw new TypeError(`malformed google.rpc.Status: field ${number} has wire type ${tag & 7}, expected ${wireType}`);
  }
  return number;
}

// Field numbers from google/rpc/status.proto and google/protobuf/any.proto.
const STATUS_FIELDS = { 1: VARINT, 2: LENGTH_DELIMITED, 3: LENGTH_DELIMITED };
const ANY_FIELDS = { 1: LENGTH_DELIMITED, 2: LENGTH_DELIMITED };

/** Decodes a serialized google.rpc.Status; throws on malformed input. */
export function decodeStatusDetails(bytes: Uint8Array): RichStatus {
  const reader = protobuf().Reader.create(bytes);
  const status: RichStatus = { code: 0, message: '', details: [] };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (field(tag, STATUS_FIELDS)) {
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
    const number = field(tag, ANY_FIELDS);
    if (number === 1) any.typeUrl = reader.string();
    else if (number === 2) any.value = Buffer.from(reader.bytes());
    else reader.skipType(tag & 7);
  }
  return any;
}

/** Serializes a google.rpc.Status for grpc-status-details-bin: pass it as GrpcError's `statusDetails`. */
export function encodeStatusDetails(status: RichStatus): Buffer {
  const writer = protobuf().Writer.create();
  if (status.code) writer.uint32(8).int32(status.code);
  if (status.message) writer.uint32(18).string(status.message);
  for (const d of status.details) {
    writer.uint32(26).fork().uint32(10).string(d.typeUrl).uint32(18).bytes(d.value).ldelim();
  }
  return Buffer.from(writer.finish());
}
