import net from 'node:net';
import { Flag, FrameType, PREFACE, encodeFrame as frame } from './raw-frames.js';

/**
 * A peer that speaks HTTP/2 at the frame level, below nghttp2, so a test can
 * see exactly which frames a client sent and in which order. It answers the
 * connection preface and SETTINGS, returns flow-control credit for the
 * connection, and never responds to a request: the client has to end each stream.
 */

const FRAME = FrameType;
const END_STREAM = Flag.END_STREAM;
const ACK = Flag.ACK;

/** What a client stream did, in wire order. */
export interface StreamLog {
  id: number;
  dataFrames: number;
  /** END_STREAM arrived (on HEADERS or DATA) before any RST_STREAM. */
  endedCleanly: boolean;
  /** The RST_STREAM error code, if the client reset the stream. */
  rstCode: number | undefined;
}

export async function rawFrameServer(): Promise<{ port: number; streams: Map<number, StreamLog>; close(): void }> {
  const streams = new Map<number, StreamLog>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.write(frame(FRAME.SETTINGS, 0, 0));
    let buffered = Buffer.alloc(0);
    let prefaceSeen = false;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!prefaceSeen) {
        if (buffered.length < PREFACE.length) return;
        if (!buffered.subarray(0, PREFACE.length).equals(PREFACE)) return void socket.destroy();
        prefaceSeen = true;
        buffered = buffered.subarray(PREFACE.length);
      }
      while (buffered.length >= 9) {
        const length = buffered.readUIntBE(0, 3);
        if (buffered.length < 9 + length) break;
        const type = buffered[3];
        const flags = buffered[4];
        const id = buffered.readUInt32BE(5) & 0x7fffffff;
        const payload = buffered.subarray(9, 9 + length);
        buffered = buffered.subarray(9 + length);
        onFrame(socket, type, flags, id, payload);
      }
    });
  });

  function onFrame(socket: net.Socket, type: number, flags: number, id: number, payload: Buffer): void {
    if (type === FRAME.SETTINGS && !(flags & ACK)) return void socket.write(frame(FRAME.SETTINGS, ACK, 0));
    if (type === FRAME.PING && !(flags & ACK)) return void socket.write(frame(FRAME.PING, ACK, 0, payload));
    if (id === 0) return;
    let log = streams.get(id);
    if (!log) {
      log = { id, dataFrames: 0, endedCleanly: false, rstCode: undefined };
      streams.set(id, log);
    }
    if (type === FRAME.DATA) {
      log.dataFrames++;
      if (payload.length > 0) {
        const credit = Buffer.alloc(4);
        credit.writeUInt32BE(payload.length);
        socket.write(frame(FRAME.WINDOW_UPDATE, 0, 0, credit));
      }
    }
    if ((type === FRAME.DATA || type === FRAME.HEADERS) && flags & END_STREAM && log.rstCode === undefined) log.endedCleanly = true;
    if (type === FRAME.RST_STREAM && log.rstCode === undefined) log.rstCode = payload.readUInt32BE(0);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    streams,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
