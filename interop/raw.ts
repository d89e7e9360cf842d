// A bare node:http2 gRPC call used only to read the per-message "compressed"
// flag of responses, which the tsgrpc stub does not expose. The compression
// interop cases must check that bit on the wire.
import http2 from 'node:http2';
import { encodeFrame, FrameDecoder } from '../src/index.js';
import type { ChannelOptions } from '../src/index.js';

/** Sends one request message; resolves to the compressed flag of each response message. */
export function rawResponseFlags(target: string, opts: ChannelOptions, path: string, request: Uint8Array): Promise<boolean[]> {
  const tls = opts.tls;
  // Node checks the certificate against `servername` when it is given.
  const session = http2.connect(`${tls ? 'https' : 'http'}://${target}`, tls ? { ca: tls.ca, servername: tls.serverNameOverride } : {});
  return new Promise<boolean[]>((resolve, reject) => {
    const fail = (err: Error) => {
      session.destroy();
      reject(err);
    };
    session.on('error', fail);
    const flags: boolean[] = [];
    const decoder = new FrameDecoder({
      maxMessageSize: 64 << 20,
      compressionAllowed: true,
      onMessage: (_payload, compressed) => flags.push(compressed),
    });
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-accept-encoding': 'gzip',
    });
    let status: string | undefined;
    stream.on('response', (h) => (status = (h['grpc-status'] as string | undefined) ?? status));
    stream.on('trailers', (t) => (status = t['grpc-status'] as string | undefined));
    stream.on('data', (chunk: Buffer) => decoder.push(chunk));
    stream.on('error', fail);
    stream.on('end', () => {
      session.close();
      if (status !== '0') reject(new Error(`raw call ${path} ended with grpc-status ${status}`));
      else resolve(flags);
    });
    for (const part of encodeFrame(request)) stream.write(part);
    stream.end();
  });
}
