// Node `ws` client for test_ws_node.py: echo of several sizes (text and
// binary), a fragmented message, ping/pong and the close handshake against
// /ws/echo. Usage: node ws_node_client.js URL deflate|plain. Prints one JSON
// line; exit code 0 only when every check passed.
'use strict';
const path = require('path');
const WebSocket = require(path.join(__dirname, 'node', 'node_modules', 'ws'));

const [url, mode] = process.argv.slice(2);
const deflate = mode === 'deflate';
const SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20];
const result = { ok: false, checks: 0, extensions: null, close: null, error: null };
const timer = setTimeout(() => finish('timeout'), 20000);

function finish(err) {
  clearTimeout(timer);
  result.error = err || null;
  result.ok = !err;
  console.log(JSON.stringify(result));
  process.exit(err ? 1 : 0);
}

function payload(n, binary) {
  if (binary) {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 13 + 5) & 0xff;
    return b;
  }
  return 'äbc'.repeat(Math.ceil(n / 3)).slice(0, n);
}

const ws = new WebSocket(url, { perMessageDeflate: deflate, maxPayload: 64 << 20 });
const queue = [];
ws.on('message', (data, isBinary) => { const w = queue.shift(); if (w) w(data, isBinary); });
ws.on('error', (e) => finish('error: ' + e.message));

function roundTrip(sendFn) {
  return new Promise((resolve) => { queue.push((d, b) => resolve([d, b])); sendFn(); });
}

ws.on('open', async () => {
  try {
    result.extensions = ws.extensions || '';
    if (deflate !== result.extensions.includes('permessage-deflate'))
      return finish('deflate negotiation: ' + result.extensions);
    for (const binary of [false, true]) {
      for (const n of SIZES) {
        const m = payload(n, binary);
        const [d, isBin] = await roundTrip(() => ws.send(m, { binary }));
        const same = binary ? Buffer.compare(d, m) === 0 : d.toString('utf8') === m;
        if (!same || isBin !== binary) return finish(`echo ${n} binary=${binary} differs`);
        result.checks++;
      }
    }
    const [d] = await roundTrip(() => {
      ws.send('frag', { fin: false });
      ws.send('men', { fin: false });
      ws.send('ted', { fin: true });
    });
    if (d.toString() !== 'fragmented') return finish('fragmented echo: ' + d.toString());
    result.checks++;
    await new Promise((resolve) => { ws.once('pong', (p) => { if (p.toString() === 'hi') resolve(); }); ws.ping('hi'); });
    result.checks++;
    ws.on('close', (code) => { result.close = code; finish(code === 4002 ? null : 'close code ' + code); });
    ws.close(4002, 'done');
  } catch (e) {
    finish('exception: ' + e.message);
  }
});
