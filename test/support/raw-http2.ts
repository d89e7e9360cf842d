import http2 from 'node:http2';

export interface RawResponse {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders | undefined;
  body: Buffer;
  rstCode: number | undefined;
}

/** Sends one hand-made request on an existing session and collects everything that comes back. */
export function rawRequest(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer, endStream = true): Promise<RawResponse> {
  return new Promise((resolve) => {
    const stream = session.request({ ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers', ...headers });
    const result: RawResponse = { headers: {}, trailers: undefined, body: Buffer.alloc(0), rstCode: undefined };
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (result.headers = h));
    stream.on('trailers', (t) => (result.trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => {});
    stream.on('close', () => {
      result.body = Buffer.concat(chunks);
      result.rstCode = stream.rstCode;
      resolve(result);
    });
    if (body) stream.write(body);
    if (endStream) stream.end();
  });
}

/** The grpc-status and grpc-message a raw response ended with (Trailers-Only or trailers). */
export function statusOf(r: RawResponse): { code: number; message: string } {
  const source = r.trailers ?? r.headers;
  return { code: Number(source['grpc-status']), message: decodeURIComponent(String(source['grpc-message'] ?? '')) };
}

/** A plain HTTP/2 server whose handler plays a misbehaving gRPC server. */
export async function rawServer(
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
  settings?: http2.Settings,
): Promise<{ port: number; close(): void }> {
  const server = http2.createServer({ settings });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => { sessions.add(s); s.on('error', () => {}); });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    onStream(stream, headers);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { port, close: () => { for (const s of sessions) s.destroy(); server.close(); } };
}
