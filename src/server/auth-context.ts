import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { peerAddress, readSocket } from '../transport/peer-address.js';

/** A client certificate the server verified against its CA (mTLS). */
export interface PeerCertificate {
  /** Distinguished name, e.g. "CN=client, O=Example". */
  subject: string;
  /** Distinguished name of the issuing CA. */
  issuer: string;
  /** Subject alternative names as Node reports them, e.g. ["DNS:client.example.com", "IP Address:127.0.0.1"]. */
  subjectAltNames: string[];
  /** The certificate in DER form. */
  raw: Buffer;
  /** SHA-256 fingerprint, colon-separated hex. */
  fingerprint256: string;
}

/** Who is on the other end of a call, as far as the transport knows. */
export interface AuthContext {
  /** The client's address, "ip:port" ("unknown" if the socket is gone). */
  readonly peer: string;
  /** Whether the connection is TLS. */
  readonly secure: boolean;
  /** The negotiated TLS protocol, e.g. "TLSv1.3". */
  readonly tlsProtocol: string | undefined;
  /** The client certificate, only if the client sent one and it was verified. */
  readonly peerCertificate: PeerCertificate | undefined;
}

/** Reads the auth context off a connection's socket; done on first use only, since most calls never ask. */
export function authContextOf(socket: Socket | undefined): AuthContext {
  const tlsSocket = readSocket(socket, (s) => ((s as TLSSocket).encrypted ? (s as TLSSocket) : undefined));
  return {
    peer: peerAddress(socket),
    secure: !!tlsSocket,
    tlsProtocol: readSocket(tlsSocket, (s) => (s as TLSSocket).getProtocol() ?? undefined),
    peerCertificate: readSocket(tlsSocket, (s) => ((s as TLSSocket).authorized ? certificateOf(s as TLSSocket) : undefined)),
  };
}

function certificateOf(socket: TLSSocket): PeerCertificate | undefined {
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return undefined;
  return {
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    subjectAltNames: cert.subjectaltname ? cert.subjectaltname.split(', ') : [],
    raw: cert.raw,
    fingerprint256: cert.fingerprint256,
  };
}

function distinguishedName(fields: object | undefined): string {
  if (!fields) return '';
  return Object.entries(fields)
    .flatMap(([key, value]: [string, unknown]) => (Array.isArray(value) ? value : [value]).map((v) => `${key}=${String(v)}`))
    .join(', ');
}
