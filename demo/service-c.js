// service-c: a service already moved to OpenTelemetry. service-b (aws-xray-sdk) calls it; it joins
// service-b's trace through the AWS X-Ray propagator (X-Amzn-Trace-Id), makes new trace ids with the
// AWS X-Ray ID generator (an epoch in the first 8 hex digits, so X-Ray can take them), and exports
// its spans over OTLP/HTTP protobuf to the relay (OTEL_EXPORTER_OTLP_ENDPOINT, e.g. http://127.0.0.1:4318).
'use strict';
const http = require('http');
const api = require('@opentelemetry/api');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { defaultResource, resourceFromAttributes } = require('@opentelemetry/resources');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { AWSXRayPropagator } = require('@opentelemetry/propagator-aws-xray');
const { AWSXRayIdGenerator } = require('@opentelemetry/id-generator-aws-xray');

const port = Number(process.env.SERVICE_C_PORT || 3002);
const faultRate = Number(process.env.DEMO_FAULT_RATE || 0.1);
const provider = new BasicTracerProvider({
  idGenerator: new AWSXRayIdGenerator(),
  // telemetry.sdk.* (the SDK's language and version) as NodeSDK sets them, plus who we are.
  resource: defaultResource().merge(resourceFromAttributes({ 'service.name': 'service-c', 'service.version': '1.0.0' })),
  // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and _TRACES_ENDPOINT) like every OTel SDK.
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 })],
});
const tracer = provider.getTracer('demo-service-c', '1.0.0');
const propagator = new AWSXRayPropagator();
const getter = { keys: (h) => Object.keys(h), get: (h, k) => h[k.toLowerCase()] };

const server = http.createServer((req, res) => {
  const parent = propagator.extract(api.ROOT_CONTEXT, req.headers, getter);
  const url = new URL(req.url, `http://${req.headers.host || '127.0.0.1'}`);
  const span = tracer.startSpan(`${req.method} ${url.pathname}`, {
    kind: api.SpanKind.SERVER,
    attributes: {
      'http.request.method': req.method, 'url.scheme': 'http', 'url.path': url.pathname,
      // Where the caller sent the request (the Host header): 127.0.0.1:<port> locally, service-c on Kubernetes.
      'server.address': url.hostname, 'server.port': Number(url.port || 80),
      ...(req.headers['user-agent'] ? { 'user_agent.original': req.headers['user-agent'] } : {}),
    },
  }, parent);
  const delayMs = 2 + Math.floor(Math.random() * 40);
  setTimeout(() => {
    const lookup = tracer.startSpan('price lookup', { kind: api.SpanKind.INTERNAL }, api.trace.setSpan(parent, span));
    lookup.end();
    const status = url.pathname === '/price' && Math.random() < faultRate ? 500 : url.pathname === '/price' ? 200 : 404;
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) {
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: 'price service failed' });
    }
    span.end();
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(status === 200 ? { price: 42, delayMs } : { error: status }));
  }, delayMs);
});

const bind = process.env.SERVICE_C_BIND || '127.0.0.1';
server.listen(port, bind, () => console.log(`service-c listening on ${bind}:${port}`));
process.on('SIGTERM', () => provider.shutdown().finally(() => process.exit(0)));
