// Records the gRPC OpenTelemetry metrics (gRFC A66 names) from tsgrpc's call events.
// Install @opentelemetry/api and an SDK, set a MeterProvider, then call instrumentGrpcMetrics() once.
import { metrics, type Attributes } from '@opentelemetry/api';
import { observe, statusName, type CallEvent } from '../src/index.js';

/** Starts recording; returns a function that stops it. */
export function instrumentGrpcMetrics(meterName = 'tsgrpc'): () => void {
  const meter = metrics.getMeter(meterName);
  const seconds = { unit: 's', advice: { explicitBucketBoundaries: [0, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 50, 100] } };
  const bytes = { unit: 'By' };
  const clientStarted = meter.createCounter('grpc.client.attempt.started', { unit: '{attempt}' });
  const clientDuration = meter.createHistogram('grpc.client.attempt.duration', seconds);
  const clientSent = meter.createHistogram('grpc.client.attempt.sent_total_compressed_message_size', bytes);
  const clientReceived = meter.createHistogram('grpc.client.attempt.rcvd_total_compressed_message_size', bytes);
  const serverStarted = meter.createCounter('grpc.server.call.started', { unit: '{call}' });
  const serverDuration = meter.createHistogram('grpc.server.call.duration', seconds);
  const serverSent = meter.createHistogram('grpc.server.call.sent_total_compressed_message_size', bytes);
  const serverReceived = meter.createHistogram('grpc.server.call.rcvd_total_compressed_message_size', bytes);

  const ended = (e: CallEvent): Attributes => ({ 'grpc.method': e.method, 'grpc.status': statusName(e.code ?? 2) });
  return observe({
    clientCallStart: (e) => clientStarted.add(1, { 'grpc.method': e.method, 'grpc.target': e.peer }),
    clientCallEnd: (e) => {
      const attributes = { ...ended(e), 'grpc.target': e.peer };
      clientDuration.record(e.durationMs! / 1000, attributes);
      clientSent.record(e.bytesSent, attributes);
      clientReceived.record(e.bytesReceived, attributes);
    },
    serverCallStart: (e) => serverStarted.add(1, { 'grpc.method': e.method }),
    serverCallEnd: (e) => {
      const attributes = ended(e);
      serverDuration.record(e.durationMs! / 1000, attributes);
      serverSent.record(e.bytesSent, attributes);
      serverReceived.record(e.bytesReceived, attributes);
    },
  });
}
