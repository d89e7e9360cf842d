/** HTTP/2 error codes (RFC 9113 section 7) by number, for log lines and event details. */
const NAMES = [
  'NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR',
  'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
];

/** The name of an HTTP/2 error code, e.g. 8 → "CANCEL"; unknown codes as their number. */
export function http2ErrorName(code: number): string {
  return NAMES[code] ?? `error code ${code}`;
}

/** A GOAWAY as one line: "ENHANCE_YOUR_CALM, last stream 5: too_many_pings". */
export function describeGoaway(code: number, lastStreamId: number, data: Uint8Array | undefined): string {
  const debug = data && data.length > 0 ? `: ${Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, 200)).toString('utf8')}` : '';
  return `${http2ErrorName(code)}, last stream ${lastStreamId}${debug}`;
}
