#!/usr/bin/env node
// The trivial upstream behind the gateway in benches/endpoints: plain JSON in (the gateway's
// view of a decrypted flow request), the mix's screens out, as the example endpoints answer
// them. No crypto here: what the gateway run measures is the gateway plus one local hop.
import { createServer } from 'node:http';
import process from 'node:process';

function answer({ action, screen, data }) {
  if (action === 'data_exchange' && screen === 'PROFILE') {
    const name = typeof data?.name === 'string' ? data.name : '';
    return { screen: 'SUMMARY', data: { name, photo_count: 0, total_bytes: 0, photos: [], summary: '0 photos, 0 bytes' } };
  }
  return { screen: 'PROFILE', data: { error_message: action === 'INIT' || action === 'BACK' ? '' : 'unsupported' } };
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let status = 200;
    let body;
    try {
      body = JSON.stringify(answer(JSON.parse(Buffer.concat(chunks))));
    } catch {
      status = 400;
      body = '{}';
    }
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  const { address, port } = server.address();
  console.error(`upstream: listening on http://${address}:${port}/flow`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
