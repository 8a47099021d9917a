// Writes the OTLP trace request the real OpenTelemetry JS exporters send (http/protobuf and
// http/json use these serializers) for a fixed set of spans, as test fixtures for the hand-written
// decoders in Pipeline.Core/Otlp. Run: node tests/otel-js/make-fixtures.js <output directory>
'use strict';
const fs = require('fs');
const path = require('path');
const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = require('@opentelemetry/sdk-trace-base');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { ProtobufTraceSerializer, JsonTraceSerializer } = require('@opentelemetry/otlp-transformer');
const api = require('@opentelemetry/api');

// Deterministic ids: a trace id whose first 4 bytes are an epoch (as the AWS X-Ray ID generator makes).
let span = 0;
const idGenerator = {
  generateTraceId: () => '674a1e00' + '0123456789abcdef01234567',
  generateSpanId: () => (++span).toString(16).padStart(16, '0'),
};
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  idGenerator,
  resource: resourceFromAttributes({ 'service.name': 'service-c', 'service.version': '1.2.3', 'telemetry.sdk.language': 'nodejs', 'cloud.provider': 'aws', 'cloud.platform': 'aws_eks' }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const tracer = provider.getTracer('fixture-scope', '0.1.0');
const t0 = 1732960000; // seconds
const at = (ms) => [t0 + Math.floor(ms / 1000), (ms % 1000) * 1e6 + 123];

const server = tracer.startSpan('GET /items/:id', {
  kind: api.SpanKind.SERVER,
  startTime: at(0),
  attributes: {
    'http.request.method': 'GET', 'url.scheme': 'http', 'server.address': 'service-c', 'server.port': 8080,
    'url.path': '/items/42', 'url.query': 'q=1', 'http.route': '/items/:id', 'http.response.status_code': 200,
    'client.address': '10.0.0.7', 'user_agent.original': 'node', 'aws.xray.annotations': ['customer_tier'],
    'customer_tier': 'gold', 'retry.count': 3, 'ratio': 0.25, 'cached': true, 'tags': ['a', 'b'], 'codes': [1, 2],
  },
}, api.context.active());
server.addEvent('cache.miss', { 'cache.key': 'items:42' }, at(2));
const ctx = api.trace.setSpan(api.context.active(), server);
const client = tracer.startSpan('GET', {
  kind: api.SpanKind.CLIENT, startTime: at(5),
  attributes: { 'http.method': 'GET', 'http.url': 'http://inventory:9000/stock/42', 'http.status_code': 404, 'net.peer.name': 'inventory' },
}, ctx);
client.setStatus({ code: api.SpanStatusCode.ERROR, message: 'Not Found' });
client.end(at(25));
const db = tracer.startSpan('SELECT items', {
  kind: api.SpanKind.CLIENT, startTime: at(30),
  attributes: { 'db.system.name': 'postgresql', 'db.namespace': 'shop', 'db.query.text': "SELECT * FROM items WHERE id = 42", 'server.address': 'db.internal', 'server.port': 5432 },
}, ctx);
db.end(at(40));
const work = tracer.startSpan('render', { kind: api.SpanKind.INTERNAL, startTime: at(41), links: [{ context: { traceId: 'abcdefabcdefabcdefabcdefabcdefab', spanId: 'abcdefabcdefabcd', traceFlags: 1 }, attributes: { 'link.kind': 'follows' } }] }, ctx);
try {
  throw new TypeError('bad template');
} catch (e) {
  work.recordException(e, at(42));
}
work.setStatus({ code: api.SpanStatusCode.ERROR });
work.end(at(45));
server.end(at(50));

const spans = exporter.getFinishedSpans();
const out = process.argv[2] || '.';
fs.writeFileSync(path.join(out, 'js-exporter.pb'), Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)));
fs.writeFileSync(path.join(out, 'js-exporter.json'), Buffer.from(JsonTraceSerializer.serializeRequest(spans)));
console.log(`wrote ${spans.length} spans to ${out}`);
