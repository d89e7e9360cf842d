/**
 * grpc-message percent-encoding: bytes of the UTF-8 form outside printable
 * ASCII (0x20..0x7E), and '%' itself, are written as %XX.
 */
export function percentEncode(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) { plain = false; break; }
  }
  if (plain) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte < 0x20 || byte > 0x7e || byte === 0x25
      ? '%' + byte.toString(16).toUpperCase().padStart(2, '0')
      : String.fromCharCode(byte);
  }
  return out;
}

/** Decodes %XX sequences; a malformed escape is kept as written, never an error. */
export function percentDecode(encoded: string): string {
  if (!encoded.includes('%')) return encoded;
  const parts: Buffer[] = [];
  let plainStart = 0;
  for (let i = 0; i < encoded.length; i++) {
    if (encoded.charCodeAt(i) !== 0x25 || !isHexPair(encoded, i + 1)) continue;
    parts.push(Buffer.from(encoded.slice(plainStart, i), 'utf8'));
    parts.push(Buffer.of(parseInt(encoded.slice(i + 1, i + 3), 16)));
    plainStart = i + 3;
    i += 2;
  }
  parts.push(Buffer.from(encoded.slice(plainStart), 'utf8'));
  return Buffer.concat(parts).toString('utf8');
}

function isHexPair(s: string, at: number): boolean {
  return at + 2 <= s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(at, at + 2));
}
