import { constants } from 'node:buffer';
import zlib from 'node:zlib';
import { GrpcError } from './error.js';
import { Status } from './status.js';

/** A message codec named by grpc-encoding. */
export interface Compressor {
  readonly name: string;
  compress(data: Uint8Array): Buffer;
  /** Throws RESOURCE_EXHAUSTED when the output would pass maxOutput bytes. */
  decompress(data: Uint8Array, maxOutput: number): Buffer;
}

function zlibCodec(
  name: string,
  compress: (d: Uint8Array) => Buffer,
  decompress: (d: Uint8Array, o: zlib.ZlibOptions) => Buffer,
): Compressor {
  return {
    name,
    compress,
    decompress(data, maxOutput) {
      try {
        // zlib refuses a cap above the largest Buffer (2^32 bytes on Node 20): an "unlimited" limit means that one.
        return decompress(data, { maxOutputLength: Math.min(Math.max(1, maxOutput), constants.MAX_LENGTH) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
          throw new GrpcError(Status.RESOURCE_EXHAUSTED, `decompressed message larger than max (${maxOutput} bytes)`);
        }
        throw new GrpcError(Status.INTERNAL, `could not decompress ${name} message: ${(err as Error).message}`);
      }
    },
  };
}

const CODECS = new Map<string, Compressor>([
  ['gzip', zlibCodec('gzip', (d) => zlib.gzipSync(d), (d, o) => zlib.gunzipSync(d, o))],
  ['deflate', zlibCodec('deflate', (d) => zlib.deflateSync(d), (d, o) => zlib.inflateSync(d, o))],
]);

export type CompressionName = 'identity' | 'gzip' | 'deflate';

/** The grpc-accept-encoding value we advertise. */
export const ACCEPT_ENCODING = 'identity,deflate,gzip';

/** The codec for a grpc-encoding name; undefined for identity; throws for an unknown name. */
export function compressorFor(name: string | undefined): Compressor | undefined {
  if (name === undefined || name === 'identity') return undefined;
  const codec = CODECS.get(name);
  if (!codec) {
    throw new GrpcError(Status.UNIMPLEMENTED, `message compression "${name}" is not supported; supported: ${ACCEPT_ENCODING}`);
  }
  return codec;
}

export function isSupportedEncoding(name: string): boolean {
  return name === 'identity' || CODECS.has(name);
}

/** Whether a peer's grpc-accept-encoding list includes `name`. */
export function peerAccepts(acceptHeader: string | undefined, name: string): boolean {
  if (name === 'identity') return true;
  if (!acceptHeader) return false;
  return acceptHeader.split(',').some((e) => e.trim() === name);
}
