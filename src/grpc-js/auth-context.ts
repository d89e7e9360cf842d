import { X509Certificate } from 'node:crypto';
import type { ServerCallContext } from '../index.js';

/** grpc-js's AuthContext: {} unless a verified client certificate came over TLS. */
export function grpcJsAuthContext(ctx: ServerCallContext): object {
  const cert = ctx.auth.peerCertificate;
  if (!ctx.auth.secure || !cert) return {};
  const x509 = new X509Certificate(cert.raw);
  return {
    transportSecurityType: 'ssl',
    sslPeerCertificate: {
      subject: parseDistinguishedName(x509.subject),
      issuer: parseDistinguishedName(x509.issuer),
      subjectaltname: x509.subjectAltName,
      valid_from: x509.validFrom,
      valid_to: x509.validTo,
      serialNumber: x509.serialNumber,
      fingerprint: x509.fingerprint,
      fingerprint256: x509.fingerprint256,
      raw: cert.raw,
    },
  };
}

/** "CN=client\nO=Example" (one attribute a line, as X509Certificate gives it) -> { CN: 'client', O: 'Example' }. */
function parseDistinguishedName(dn: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of dn.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
