// service-a: the front service. Calls service-b over captured HTTP and records an S3 call
// against the local stack (captureAWSv3Client), so the service map has an AWS node.
'use strict';
const AWSXRay = require('./xray');
const express = require('express');
const http = require('http');
const { S3Client, PutObjectCommand } = require('@aws-sdk/client-s3');

const port = Number(process.env.SERVICE_A_PORT || 3000);
const serviceB = process.env.SERVICE_B_URL || 'http://127.0.0.1:3001';
const bucket = process.env.DEMO_BUCKET;
const s3 = bucket
  ? AWSXRay.captureAWSv3Client(new S3Client({
    region: process.env.AWS_REGION || 'us-east-1',
    endpoint: process.env.AWS_ENDPOINT_URL,
    forcePathStyle: true,
  }))
  : null;

const app = express();
app.use(AWSXRay.express.openSegment('service-a'));

app.get('/health', (_req, res) => res.json({ ok: true }));

function callServiceB(path) {
  return new Promise((resolve, reject) => {
    http.get(serviceB + path, (res) => {
      let body = '';
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

app.get('/api', async (req, res) => {
  if (req.query.item === 'missing') {
    res.status(400).json({ error: 'bad item' });
    return;
  }
  try {
    const b = await callServiceB('/work');
    if (s3 && Math.random() < 0.3) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `demo/${Date.now()}.json`, Body: b.body }));
    }
    res.status(b.status >= 500 ? 502 : b.status).type('application/json').send(b.body);
  } catch (err) {
    res.status(503).json({ error: String(err) });
  }
});

app.use(AWSXRay.express.closeSegment());

const bind = process.env.SERVICE_A_BIND || '127.0.0.1';
app.listen(port, bind, () => console.log(`service-a listening on ${bind}:${port}`));
