import dgram from 'node:dgram';
import net from 'node:net';

const TYPE = { A: 1, TXT: 16, AAAA: 28 } as const;
type RecordType = keyof typeof TYPE;

export interface DnsQuery {
  name: string;
  type: RecordType | number;
  at: number;
}

/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP), enough for the channel's DNS resolver:
 * A, AAAA and TXT answers from a table the test edits, NXDOMAIN for unknown names, and a log
 * of every query with its time. Point a channel at it with `dns://127.0.0.1:<port>/name:port`.
 */
export class TestDnsServer {
  readonly records = new Map<string, Partial<Record<RecordType, string[]>>>();
  readonly queries: DnsQuery[] = [];
  private readonly socket = dgram.createSocket('udp4');

  async start(): Promise<number> {
    this.socket.on('message', (msg, peer) => {
      const reply = this.answer(msg);
      if (reply) this.socket.send(reply, peer.port, peer.address);
    });
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    return this.socket.address().port;
  }

  close(): void {
    this.socket.close();
  }

  /** Queries for `name` of `type`, in order. */
  queriesFor(name: string, type: RecordType): DnsQuery[] {
    return this.queries.filter((q) => q.name === name && q.type === type);
  }

  private answer(msg: Buffer): Buffer | undefined {
    if (msg.length < 12) return undefined;
    // Question: length-prefixed labels, then type and class.
    let offset = 12;
    const labels: string[] = [];
    while (offset < msg.length && msg[offset] !== 0) {
      labels.push(msg.subarray(offset + 1, offset + 1 + msg[offset]).toString('ascii'));
      offset += msg[offset] + 1;
    }
    offset++;
    if (offset + 4 > msg.length) return undefined;
    const name = labels.join('.').toLowerCase();
    const typeCode = msg.readUInt16BE(offset);
    const question = msg.subarray(12, offset + 4);
    const type = (Object.keys(TYPE) as RecordType[]).find((t) => TYPE[t] === typeCode) ?? typeCode;
    this.queries.push({ name, type, at: performance.now() });
    const entry = this.records.get(name);
    const values = typeof type === 'string' ? (entry?.[type] ?? []) : [];
    const answers = values.map((value) => record(typeCode, value));
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    // QR, AA, RD copied, RA; NXDOMAIN for a name the table does not know.
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | 0x0080 | (entry ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    return Buffer.concat([header, question, ...answers]);
  }
}

function record(typeCode: number, value: string): Buffer {
  let data: Buffer;
  if (typeCode === TYPE.A || typeCode === TYPE.AAAA) {
    if (net.isIP(value) !== (typeCode === TYPE.A ? 4 : 6)) throw new Error(`${value} does not fit record type ${typeCode}`);
    data = typeCode === TYPE.A ? Buffer.from(value.split('.').map(Number)) : ipv6Bytes(value);
  } else {
    // TXT: the text in character-strings of at most 255 bytes.
    const text = Buffer.from(value);
    const chunks: Buffer[] = [];
    for (let i = 0; i < text.length; i += 255) {
      const chunk = text.subarray(i, i + 255);
      chunks.push(Buffer.from([chunk.length]), chunk);
    }
    data = Buffer.concat(chunks);
  }
  const fixed = Buffer.alloc(12);
  fixed.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
  fixed.writeUInt16BE(typeCode, 2);
  fixed.writeUInt16BE(1, 4); // class IN
  fixed.writeUInt32BE(1, 6); // TTL 1 s
  fixed.writeUInt16BE(data.length, 10);
  return Buffer.concat([fixed, data]);
}

function ipv6Bytes(ip: string): Buffer {
  const [head, tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
