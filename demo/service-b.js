// service-b: replies after a random interval with good, error (4xx) and fault (5xx) responses.
'use strict';
const AWSXRay = require('./xray');
const express = require('express');
const http = require('http');

const port = Number(process.env.SERVICE_B_PORT || 3001);
const faultRate = Number(process.env.DEMO_FAULT_RATE || 0.1);
const errorRate = Number(process.env.DEMO_ERROR_RATE || 0.1);
// service-c runs on OpenTelemetry; the captured HTTP call carries X-Amzn-Trace-Id, so its spans join this trace.
const serviceC = process.env.SERVICE_C_URL;
const app = express();

app.use(AWSXRay.express.openSegment('service-b'));

app.get('/health', (_req, res) => res.json({ ok: true }));

function callServiceC() {
  return new Promise((resolve) => {
    if (!serviceC) {
      resolve(null);
      return;
    }
    http.get(serviceC + '/price', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    }).on('error', () => resolve(null));
  });
}

app.get('/work', (req, res) => {
  const delayMs = 5 + Math.floor(Math.random() * 120);
  setTimeout(async () => {
    await callServiceC();
    const roll = Math.random();
    const segment = AWSXRay.getSegment();
    if (segment) {
      segment.addAnnotation('demo_delay_ms', delayMs);
    }
    if (roll < faultRate) {
      res.status(500).json({ error: 'service-b failed to do the work' });
    } else if (roll < faultRate + errorRate) {
      res.status(404).json({ error: 'no such work item' });
    } else {
      res.json({ work: 'done', delayMs });
    }
  }, delayMs);
});

app.use(AWSXRay.express.closeSegment());

const bind = process.env.SERVICE_B_BIND || '127.0.0.1';
app.listen(port, bind, () => console.log(`service-b listening on ${bind}:${port}`));
