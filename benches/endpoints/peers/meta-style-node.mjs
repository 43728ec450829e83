#!/usr/bin/env node
// The Node peer of benches/endpoints: a Flows endpoint written the way Meta's sample
// (WhatsApp-Flows-Tools, examples/endpoint/nodejs) writes one, with synchronous node:crypto and
// no library: RSA-OAEP-SHA256 with crypto.privateDecrypt, AES-128-GCM with createDecipheriv, the
// answer sealed under the inverted IV, the X-Hub-Signature-256 HMAC checked with
// timingSafeEqual. It answers the screens of the benchmark's mix as the example endpoints do
// (crates/wa-flows-crypto-endpoint-example/README.md) but downloads no photos.
//
// Two departures from Meta's sample, both in the peer's favour: node:http instead of express
// (less work per request), and the private key parsed once at start-up (the sample calls
// createPrivateKey on every request). The body limit is 1 MiB like ours (express.json's
// default of 100 kB would refuse the mix's large request).
//
//   PRIVATE_KEY_FILE=private.pem APP_SECRET=… HOST=127.0.0.1 PORT=0 node meta-style-node.mjs
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import process from 'node:process';

const MAX_BODY = 1024 * 1024;
const privateKey = crypto.createPrivateKey({
  key: readFileSync(process.env.PRIVATE_KEY_FILE),
  passphrase: process.env.PASSPHRASE || undefined,
});
const appSecret = process.env.APP_SECRET || null;

class FlowEndpointException extends Error {
  constructor(statusCode, message) {
    super(message);
    this.statusCode = statusCode;
  }
}

function isRequestSignatureValid(rawBody, header) {
  if (!appSecret) return true;
  const signature = String(header || '').replace('sha256=', '');
  const expected = crypto.createHmac('sha256', appSecret).update(rawBody).digest('hex');
  const a = Buffer.from(signature, 'utf-8');
  const b = Buffer.from(expected, 'utf-8');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

// Meta's decryptRequest, with the key already parsed.
function decryptRequest(body) {
  const { encrypted_aes_key, encrypted_flow_data, initial_vector } = body;
  let decryptedAesKey;
  try {
    decryptedAesKey = crypto.privateDecrypt(
      { key: privateKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from(encrypted_aes_key, 'base64'),
    );
  } catch {
    throw new FlowEndpointException(421, 'Failed to decrypt the request');
  }
  const flowDataBuffer = Buffer.from(encrypted_flow_data, 'base64');
  const initialVectorBuffer = Buffer.from(initial_vector, 'base64');
  const TAG_LENGTH = 16;
  const decipher = crypto.createDecipheriv('aes-128-gcm', decryptedAesKey, initialVectorBuffer);
  decipher.setAuthTag(flowDataBuffer.subarray(-TAG_LENGTH));
  const decryptedJSONString = Buffer.concat([
    decipher.update(flowDataBuffer.subarray(0, -TAG_LENGTH)),
    decipher.final(),
  ]).toString('utf-8');
  return { decryptedBody: JSON.parse(decryptedJSONString), aesKeyBuffer: decryptedAesKey, initialVectorBuffer };
}

// Meta's encryptResponse.
function encryptResponse(response, aesKeyBuffer, initialVectorBuffer) {
  const flippedIv = [];
  for (const pair of initialVectorBuffer.entries()) flippedIv.push(~pair[1]);
  const cipher = crypto.createCipheriv('aes-128-gcm', aesKeyBuffer, Buffer.from(flippedIv));
  return Buffer.concat([
    cipher.update(JSON.stringify(response), 'utf-8'),
    cipher.final(),
    cipher.getAuthTag(),
  ]).toString('base64');
}

const profile = (errorMessage) => ({ screen: 'PROFILE', data: { error_message: errorMessage } });

function getNextScreen({ action, screen, data, flow_token }) {
  if (action === 'ping') return { data: { status: 'active' } };
  if (typeof data?.error === 'string' || typeof data?.error_key === 'string') {
    return { data: { acknowledged: true } };
  }
  if (action === 'INIT' || action === 'BACK') return profile('');
  if (action !== 'data_exchange') return profile('unsupported action');
  if (screen === 'PROFILE') {
    const name = typeof data?.name === 'string' ? data.name : '';
    if (data?.photos != null && (!Array.isArray(data.photos) || data.photos.length > 0)) {
      return profile('photos are not supported by this peer');
    }
    return {
      screen: 'SUMMARY',
      data: { name, photo_count: 0, total_bytes: 0, photos: [], summary: '0 photos, 0 bytes' },
    };
  }
  if (screen === 'SUMMARY') {
    return {
      screen: 'SUCCESS',
      data: { extension_message_response: { params: { flow_token: flow_token ?? '' } } },
    };
  }
  return profile('unknown screen');
}

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'text/plain' });
  res.end(body);
}

const server = createServer((req, res) => {
  if (req.method !== 'POST') return send(res, 200, 'flow endpoint\n');
  const started = process.hrtime.bigint();
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  });
  req.on('end', () => {
    let status = 200;
    let label = 'other';
    try {
      if (size > MAX_BODY) throw new FlowEndpointException(413, 'body_too_large');
      const rawBody = Buffer.concat(chunks);
      if (!isRequestSignatureValid(rawBody, req.headers['x-hub-signature-256'])) {
        throw new FlowEndpointException(432, 'invalid_signature');
      }
      const { decryptedBody, aesKeyBuffer, initialVectorBuffer } = decryptRequest(JSON.parse(rawBody));
      label = decryptedBody.action;
      send(res, 200, encryptResponse(getNextScreen(decryptedBody), aesKeyBuffer, initialVectorBuffer));
    } catch (err) {
      status = err instanceof FlowEndpointException ? err.statusCode : 500;
      label = err.message;
      send(res, status, label);
    }
    // One line per request, as the example endpoints log.
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.error(`flow endpoint: ${status} ${label} ${ms.toFixed(1)}ms`);
  });
});

server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '0.0.0.0', () => {
  const { address, port } = server.address();
  console.error(`flow endpoint: listening on http://${address}:${port}/ (Meta-style node:crypto peer)`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
