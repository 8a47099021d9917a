// Drives the real OpenTelemetry JS SDK for the OTLP end-to-end tests: makes spans and exports them
// with the SDK's own OTLP exporter, configured only by the standard environment variables an
// operator sets (OTEL_EXPORTER_OTLP_ENDPOINT, _PROTOCOL, _COMPRESSION, _TIMEOUT), through a
// BatchSpanProcessor as services run it. Prints one JSON line per span it made
// ({"span": {...}}) and, at the end, one line with the outcome of every export call
// ({"exports": [{"code": 0, "spans": 5, "error": null}]}); exits 0 only when every export succeeded.
//
//   node export.js trace        one trace: a SERVER span and CLIENT/INTERNAL children whose HTTP
//                               statuses and span statuses cover the X-Ray flags
//   node export.js many N       N traces of a SERVER and a CLIENT span (N <= 10000), 100 spans a request
'use strict';
const api = require('@opentelemetry/api');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { defaultResource, resourceFromAttributes } = require('@opentelemetry/resources');
const { AWSXRayIdGenerator } = require('@opentelemetry/id-generator-aws-xray');

const protocol = process.env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf';
const exporters = {
  'http/protobuf': () => require('@opentelemetry/exporter-trace-otlp-proto'),
  'http/json': () => require('@opentelemetry/exporter-trace-otlp-http'),
};
if (!exporters[protocol]) {
  console.error(`export.js: OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not one of ${Object.keys(exporters).join(', ')}`);
  process.exit(2);
}
const { OTLPTraceExporter } = exporters[protocol]();

// The SDK's exporter as is; the wrapper only records what each export call returned.
const exports_ = [];
const inner = new OTLPTraceExporter();
const recording = {
  export(spans, done) {
    inner.export(spans, (result) => {
      exports_.push({ code: result.code, spans: spans.length, error: result.error ? String(result.error.message || result.error) : null });
      done(result);
    });
  },
  shutdown: () => inner.shutdown(),
  forceFlush: () => inner.forceFlush(),
};

const provider = new BasicTracerProvider({
  idGenerator: new AWSXRayIdGenerator(),
  resource: defaultResource().merge(resourceFromAttributes({ 'service.name': process.env.TEST_SERVICE_NAME || 'otel-js-test', 'service.version': '2.0.0', 'deployment.environment.name': 'test' })),
  spanProcessors: [new BatchSpanProcessor(recording, { maxExportBatchSize: 100, maxQueueSize: 20000, scheduledDelayMillis: 200 })],
});
const tracer = provider.getTracer('pipeline-otel-js-test', '1.0.0');

function print(span) {
  const c = span.spanContext();
  console.log(JSON.stringify({
    span: {
      traceId: c.traceId, spanId: c.spanId, parentSpanId: span.parentSpanContext ? span.parentSpanContext.spanId : null,
      name: span.name, kind: span.kind,
    },
  }));
}

function child(parent, name, kind, attributes, status) {
  const span = tracer.startSpan(name, { kind, attributes }, api.trace.setSpan(api.ROOT_CONTEXT, parent));
  if (status) {
    span.setStatus(status);
  }
  span.end();
  print(span);
}

function trace() {
  const server = tracer.startSpan('GET /items/:id', {
    kind: api.SpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET', 'url.scheme': 'http', 'server.address': 'shop', 'server.port': 8080,
      'url.path': '/items/42', 'http.route': '/items/:id', 'http.response.status_code': 200,
      'client.address': '10.0.0.7', 'user_agent.original': 'otel-js-test', 'customer.tier': 'gold',
    },
  });
  const client = (method, url, host, status) => ({
    'http.request.method': method, 'url.full': url, 'server.address': host, 'http.response.status_code': status,
  });
  // OTel marks a client span that got a 4xx ERROR: in X-Ray that is an error, not a fault.
  child(server, 'GET', api.SpanKind.CLIENT, client('GET', 'http://inventory:9000/stock/42', 'inventory', 404), { code: api.SpanStatusCode.ERROR });
  child(server, 'GET', api.SpanKind.CLIENT, client('GET', 'http://pricing:9000/price/42', 'pricing', 429), { code: api.SpanStatusCode.ERROR });
  child(server, 'POST', api.SpanKind.CLIENT, client('POST', 'http://payments:9000/charge', 'payments', 503), { code: api.SpanStatusCode.ERROR, message: 'Service Unavailable' });
  child(server, 'render', api.SpanKind.INTERNAL, { 'template': 'item' }, { code: api.SpanStatusCode.ERROR, message: 'template failed' });
  server.end();
  print(server);
}

function many(n) {
  for (let i = 0; i < n; i++) {
    const server = tracer.startSpan('GET /work', { kind: api.SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'url.path': '/work', 'http.response.status_code': 200, 'trace.index': i } });
    child(server, 'GET', api.SpanKind.CLIENT, { 'http.request.method': 'GET', 'url.full': 'http://downstream:9000/work', 'server.address': 'downstream', 'http.response.status_code': 200 });
    server.end();
    print(server);
  }
}

const [mode, count] = process.argv.slice(2);
if (mode === 'trace') {
  trace();
} else if (mode === 'many' && Number(count) >= 1 && Number(count) <= 10000) {
  many(Number(count));
} else {
  console.error('usage: node export.js trace | node export.js many N (1..10000)');
  process.exit(2);
}

provider.forceFlush()
  .then(() => provider.shutdown())
  .then(() => {
    console.log(JSON.stringify({ exports: exports_ }));
    process.exit(exports_.length > 0 && exports_.every((e) => e.code === 0) ? 0 : 1);
  }, (err) => {
    console.log(JSON.stringify({ exports: exports_, error: String(err) }));
    process.exit(1);
  });
