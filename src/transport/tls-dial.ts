import net from 'node:net';
import tls from 'node:tls';
import type { Target } from './target.js';

/** TLS for a channel: which servers to trust, and the client certificate for mTLS. */
export interface ClientTlsOptions {
  /** Root certificates to trust; the system's when omitted. */
  ca?: string | Buffer;
  /** Client certificate and key, for mTLS. */
  cert?: string | Buffer;
  /** The private key of `cert`. */
  key?: string | Buffer;
  /** Name checked against the server certificate and sent as :authority (for tests with fixed certificates). */
  serverNameOverride?: string;
  /**
   * Replaces the host name check of the server certificate (the chain is still
   * verified against `ca`). Return an Error to refuse the server.
   */
  checkServerIdentity?: (hostname: string, cert: tls.PeerCertificate) => Error | undefined;
  /**
   * A ready-made context (tls.createSecureContext) with roots, certificate and key, used instead of
   * `ca`, `cert` and `key` (giving both is refused).
   */
  secureContext?: tls.SecureContext;
  /**
   * false accepts a server whose certificate does not verify (self-signed, unknown CA, wrong name):
   * the connection is encrypted but not authenticated. For tests and closed networks only. Default true.
   */
  rejectUnauthorized?: boolean;
}

/** Refuses TLS options that contradict each other. */
export function checkClientTls(options: ClientTlsOptions): void {
  if (options.secureContext && (options.ca !== undefined || options.cert !== undefined || options.key !== undefined)) {
    throw new TypeError('tls.secureContext already holds the roots, certificate and key: do not also give tls.ca, tls.cert or tls.key');
  }
  if (options.rejectUnauthorized !== undefined && typeof options.rejectUnauthorized !== 'boolean') {
    throw new TypeError(`tls.rejectUnauthorized must be a boolean, got ${JSON.stringify(options.rejectUnauthorized)}`);
  }
}

/**
 * Starts TLS on a connected socket, offering only ALPN "h2": gRPC needs
 * HTTP/2, and a server that picks something else (or nothing) is refused
 * with an error that says so, instead of a confusing HTTP/2 failure later.
 */
export function dialTls(raw: net.Socket, target: Target, options: ClientTlsOptions): tls.TLSSocket {
  const address = target.authority;
  const connectOptions: tls.ConnectionOptions = {
    socket: raw,
    servername: options.serverNameOverride ?? (target.kind === 'tcp' ? target.serverName : undefined),
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    ALPNProtocols: ['h2'],
  };
  // Node rejects an explicit undefined here.
  if (options.checkServerIdentity) connectOptions.checkServerIdentity = options.checkServerIdentity;
  if (options.secureContext) connectOptions.secureContext = options.secureContext;
  if (options.rejectUnauthorized === false) connectOptions.rejectUnauthorized = false;
  const socket = tls.connect(connectOptions);
  socket.once('secureConnect', () => {
    if (socket.alpnProtocol !== 'h2') {
      const chosen = socket.alpnProtocol ? `"${socket.alpnProtocol}"` : 'no protocol';
      const error = new Error(`TLS server ${address} did not negotiate HTTP/2 via ALPN (it chose ${chosen}); gRPC needs a server that offers "h2"`);
      // Not synchronously: node:http2 sets its session up in its own secureConnect listener and
      // aborts the process if the socket is already destroyed by then.
      process.nextTick(() => socket.destroy(error));
    }
  });
  // A server with ALPN configured but without h2 aborts the handshake with an alert; name the cause.
  socket.prependOnceListener('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') {
      err.message = `TLS server ${address} refused ALPN "h2" (no_application_protocol alert): it does not serve HTTP/2 over TLS`;
    }
  });
  return socket;
}
