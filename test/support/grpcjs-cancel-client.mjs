// A @grpc/grpc-js client in its own process (so its writes and the server's reads interleave as
// they do between machines) that cancels calls once the server handler holds them.
//   node grpcjs-cancel-client.mjs <port> <clientStream|serverStream|bidi> <count> [perConnection] [concurrency]
import * as grpc from '@grpc/grpc-js';

const [port, mode, count, perConnection = '200', concurrency = '32'] = process.argv.slice(2);
const passthrough = { requestSerialize: (b) => b, requestDeserialize: (b) => b, responseSerialize: (b) => b, responseDeserialize: (b) => b };
const Client = grpc.makeGenericClientConstructor({
  ClientStream: { path: '/e2e.Probe/ClientStream', requestStream: true, responseStream: false, ...passthrough },
  ServerStream: { path: '/e2e.Probe/ServerStream', requestStream: false, responseStream: true, ...passthrough },
  Bidi: { path: '/e2e.Probe/Bidi', requestStream: true, responseStream: true, ...passthrough },
}, 'Probe');

function cancelOne(client) {
  return new Promise((resolve, reject) => {
    let call;
    const timer = setTimeout(() => reject(new Error(`grpc-js ${mode} call was never answered`)), 20_000);
    const cancel = () => {
      clearTimeout(timer);
      call.cancel();
      resolve();
    };
    // The response headers (client streaming) or first response tell that the handler holds the call.
    if (mode === 'clientStream') {
      call = client.ClientStream(() => {});
      call.on('metadata', cancel);
      call.write(Buffer.alloc(0));
    } else if (mode === 'serverStream') {
      call = client.ServerStream(Buffer.alloc(0));
      call.on('data', cancel);
    } else {
      call = client.Bidi();
      call.on('data', cancel);
      call.write(Buffer.alloc(0));
    }
    call.on('error', () => {});
  });
}

async function main() {
  const total = Number(count);
  for (let done = 0; done < total; done += Number(perConnection)) {
    // A distinct option gives a distinct channel: grpc-js shares subchannels between equal clients.
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.storm-batch': done });
    const batch = Math.min(Number(perConnection), total - done);
    let next = 0;
    const worker = async () => {
      while (next < batch) {
        next++;
        await cancelOne(client);
      }
    };
    await Promise.all(Array.from({ length: Math.min(Number(concurrency), batch) }, worker));
    client.close();
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
