// Bounded traffic generator for the demo: sends DEMO_REQUESTS requests (default 200) to
// service-a at DEMO_RPS per second (default 10), ~5 % of them with a bad item (4xx), then exits.
'use strict';
const http = require('http');

const target = process.env.SERVICE_A_URL || 'http://127.0.0.1:3000';
const total = Math.min(Number(process.env.DEMO_REQUESTS || 200), 100000);
const rps = Math.max(1, Math.min(Number(process.env.DEMO_RPS || 10), 1000));
const counts = {};
let sent = 0;
let done = 0;

function one() {
  const path = Math.random() < 0.05 ? '/api?item=missing' : '/api';
  http.get(target + path, (res) => {
    res.resume();
    res.on('end', () => {
      counts[res.statusCode] = (counts[res.statusCode] || 0) + 1;
      finish();
    });
  }).on('error', (err) => {
    counts[err.code || 'error'] = (counts[err.code || 'error'] || 0) + 1;
    finish();
  });
}

function finish() {
  done += 1;
  if (done === total) {
    console.log(JSON.stringify({ sent: total, responses: counts }));
  }
}

const timer = setInterval(() => {
  if (sent >= total) {
    clearInterval(timer);
    return;
  }
  sent += 1;
  one();
}, Math.floor(1000 / rps));
