// Records the gRPC OpenTelemetry metrics (gRFC A66 names) from tsgrpc's call events.
// Install @opentelemetry/api and an SDK (e.g. @opentelemetry/sdk-metrics with an exporter), then call
// instrumentGrpcMetrics() once, with your MeterProvider or after registering it globally.
import { metrics, type Attributes, type MeterProvider } from '@opentelemetry/api';
import { observe, statusName, type CallEvent } from '../src/index.js';

/** Starts recording every client attempt and server call in this process; returns a function that stops it. */
export function instrumentGrpcMetrics(meterProvider: MeterProvider = metrics.getMeterProvider()): () => void {
  const meter = meterProvider.getMeter('tsgrpc');
  // Bucket boundaries of gRFC A66's default views: latencies in seconds, sizes in bytes.
  const seconds = { unit: 's', advice: { explicitBucketBoundaries: [0, 0.00001, 0.00005, 0.0001, 0.0003, 0.0006, 0.0008, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.013, 0.016, 0.02, 0.025, 0.03, 0.04, 0.05, 0.065, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3, 0.4, 0.5, 0.65, 0.8, 1, 2, 5, 10, 20, 50, 100] } };
  const bytes = { unit: 'By', advice: { explicitBucketBoundaries: [0, 1024, 2048, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456, 1073741824, 4294967296] } };
  const clientStarted = meter.createCounter('grpc.client.attempt.started', { unit: '{attempt}' });
  const clientDuration = meter.createHistogram('grpc.client.attempt.duration', seconds);
  const clientSent = meter.createHistogram('grpc.client.attempt.sent_total_compressed_message_size', bytes);
  const clientReceived = meter.createHistogram('grpc.client.attempt.rcvd_total_compressed_message_size', bytes);
  const serverStarted = meter.createCounter('grpc.server.call.started', { unit: '{call}' });
  const serverDuration = meter.createHistogram('grpc.server.call.duration', seconds);
  const serverSent = meter.createHistogram('grpc.server.call.sent_total_compressed_message_size', bytes);
  const serverReceived = meter.createHistogram('grpc.server.call.rcvd_total_compressed_message_size', bytes);

  // A66 names the method without the leading slash: "package.Service/Method".
  const method = (e: CallEvent) => e.method.slice(1);
  const ended = (e: CallEvent): Attributes => ({ 'grpc.method': method(e), 'grpc.status': statusName(e.code ?? 2) });
  return observe({
    clientCallStart: (e) => clientStarted.add(1, { 'grpc.method': method(e), 'grpc.target': e.peer }),
    clientCallEnd: (e) => {
      const attributes = { ...ended(e), 'grpc.target': e.peer };
      clientDuration.record(e.durationMs! / 1000, attributes);
      clientSent.record(e.bytesSent, attributes);
      clientReceived.record(e.bytesReceived, attributes);
    },
    serverCallStart: (e) => serverStarted.add(1, { 'grpc.method': method(e) }),
    serverCallEnd: (e) => {
      const attributes = ended(e);
      serverDuration.record(e.durationMs! / 1000, attributes);
      serverSent.record(e.bytesSent, attributes);
      serverReceived.record(e.bytesReceived, attributes);
    },
  });
}
