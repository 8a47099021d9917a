// The real OpenTelemetry JS SDK exporting over OTLP/gRPC (@opentelemetry/exporter-trace-otlp-grpc on
// @grpc/grpc-js, plaintext h2c) for the relay's gRPC receiver tests. Configured only by the standard
// variables an operator sets: OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 and optionally
// OTEL_EXPORTER_OTLP_COMPRESSION=gzip. Spans go through a BatchSpanProcessor, ids from the AWS X-Ray
// ID generator. Output: one JSON line per span ({"span": {traceId, spanId, parentSpanId, name}}) and
// a last line {"exports": [{code, spans, error}]}; exit code 0 only when every export succeeded.
//
//   node export-grpc.js N     N traces (1..5000) of a SERVER span with a CLIENT child
'use strict';
const api = require('@opentelemetry/api');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { AWSXRayIdGenerator } = require('@opentelemetry/id-generator-aws-xray');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');

const count = Number(process.argv[2]);
if (!Number.isInteger(count) || count < 1 || count > 5000) {
  console.error('usage: node export-grpc.js N   (1..5000 traces)');
  process.exit(2);
}

const outcomes = [];
const exporter = new OTLPTraceExporter();
const observed = {
  export(spans, done) {
    exporter.export(spans, (result) => {
      outcomes.push({ code: result.code, spans: spans.length, error: result.error ? String(result.error.message || result.error) : null });
      done(result);
    });
  },
  shutdown: () => exporter.shutdown(),
  forceFlush: () => exporter.forceFlush(),
};

const provider = new BasicTracerProvider({
  idGenerator: new AWSXRayIdGenerator(),
  resource: resourceFromAttributes({ 'service.name': process.env.TEST_SERVICE_NAME || 'otel-js-grpc' }),
  spanProcessors: [new BatchSpanProcessor(observed, { maxExportBatchSize: 200, maxQueueSize: 20000, scheduledDelayMillis: 100 })],
});
const tracer = provider.getTracer('pipeline-otel-js-grpc', '1.0.0');

function line(span) {
  const context = span.spanContext();
  const parent = span.parentSpanContext ? span.parentSpanContext.spanId : null;
  console.log(JSON.stringify({ span: { traceId: context.traceId, spanId: context.spanId, parentSpanId: parent, name: span.name } }));
}

for (let i = 0; i < count; i++) {
  const server = tracer.startSpan('GET /quote', {
    kind: api.SpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'url.path': '/quote', 'http.response.status_code': 200, 'trace.index': i },
  });
  const client = tracer.startSpan('GET', {
    kind: api.SpanKind.CLIENT,
    attributes: { 'http.request.method': 'GET', 'url.full': 'http://rates:9000/rate', 'server.address': 'rates', 'http.response.status_code': 200 },
  }, api.trace.setSpan(api.ROOT_CONTEXT, server));
  client.end();
  line(client);
  server.end();
  line(server);
}

provider.forceFlush()
  .then(() => provider.shutdown())
  .then(() => {
    console.log(JSON.stringify({ exports: outcomes }));
    process.exit(outcomes.length > 0 && outcomes.every((o) => o.code === 0) ? 0 : 1);
  }, (err) => {
    console.log(JSON.stringify({ exports: outcomes, error: String(err) }));
    process.exit(1);
  });
