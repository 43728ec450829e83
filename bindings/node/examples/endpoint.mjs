#!/usr/bin/env node
// A WhatsApp Flows endpoint on node:http: the two-screen flow of flow.mjs (shared with the
// Worker), configured from the environment like Meta's own sample.
//
//   wa-flows-crypto keygen --out keys/     # upload keys/public.pem to WhatsApp
//   PRIVATE_KEY_FILE=keys/private.pem APP_SECRET=… PORT=3000 node examples/endpoint.mjs
//
// | variable                  | meaning                                                      |
// |---------------------------|--------------------------------------------------------------|
// | PRIVATE_KEY               | the private key's PEM text (`\n` escapes, CRLF, quotes are repaired) |
// | PRIVATE_KEY_FILE          | or the path of the key file: PEM or DER, PKCS#1 or PKCS#8    |
// | PASSPHRASE                | the key's passphrase, if it is encrypted                     |
// | PREVIOUS_PRIVATE_KEY(_FILE), PREVIOUS_PASSPHRASE | the key being rotated out, tried second |
// | APP_SECRET                | the Meta app secret; when set, X-Hub-Signature-256 is required |
// | PREVIOUS_APP_SECRET       | the app secret being rotated out, also accepted (needs APP_SECRET) |
// | FLOW_TOKEN_SIGNATURE      | data API 4.0: if_present (default), required or off          |
// | PORT                      | TCP port, default 3000; 0 picks a free one                   |
// | HOST                      | address to listen on, default 0.0.0.0                        |
// | MEDIA_ALLOW_HTTP          | 1 to accept http:// cdn_urls (local tests with a fake CDN only) |
//
// Empty variables count as unset, except APP_SECRET and PREVIOUS_APP_SECRET: set but empty,
// they would turn the signature check off, so they stop the program. The keys are parsed once,
// before anything listens; any problem stops the program with exit status 1 and one line on
// standard error, never a secret.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import process from 'node:process';

import { FlowCryptoError } from 'wa-flows-crypto';

import { configFromEnv, describeConfig } from './config.mjs';
import { createFlowEndpoint } from './flow.mjs';

/** An incremental SHA-256 for the shared handler. */
function sha256() {
  const hash = createHash('sha256');
  return {
    update: (bytes) => void hash.update(bytes),
    digest: async () => hash.digest('hex'),
  };
}

/**
 * node:http → the Web Request the shared handler takes. The body is streamed as it arrives;
 * if the handler stops reading (a body over 1 MiB), the rest is drained and discarded so the
 * refusal still reaches the client.
 */
function toRequest(req, base) {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    try {
      headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    } catch {
      // A header the Fetch API refuses (e.g. odd bytes): left out, as if it were not sent.
    }
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const body = hasBody
    ? new ReadableStream({
        start(controller) {
          req.on('data', (chunk) => controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
          req.on('end', () => controller.close());
          req.on('error', (error) => controller.error(error));
          req.on('aborted', () => controller.error(new Error('the client aborted the request')));
        },
        cancel() {
          req.removeAllListeners('data');
          req.resume();
        },
      })
    : undefined;
  return new Request(new URL(req.url, base), { method: req.method, headers, body, duplex: 'half' });
}

function main() {
  let config;
  let handle;
  try {
    config = configFromEnv();
    handle = createFlowEndpoint({
      key: config.keys,
      appSecret: config.appSecret,
      flowTokenSignature: config.flowTokenSignature,
      allowHttp: config.allowHttp,
      sha256,
    });
  } catch (error) {
    // The library's own refusals (FlowCryptoError) are named by their code, as in the spec.
    const code = error instanceof FlowCryptoError ? ` (${error.code})` : '';
    console.error(`flow endpoint: refusing to start: ${error.message}${code}`);
    process.exit(1);
  }

  const server = createServer(async (req, res) => {
    let response;
    try {
      response = await handle(toRequest(req, `http://${req.headers.host ?? 'localhost'}`));
    } catch {
      response = new Response('internal', { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    }
    const body = Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.on('clientError', (error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  server.listen(config.port, config.host, () => {
    const { address, port, family } = server.address();
    const hostPart = family === 'IPv6' || family === 6 ? `[${address}]` : address;
    console.error(`flow endpoint: listening on http://${hostPart}:${port}/ (${describeConfig(config)})`);
  });
  server.on('error', (error) => {
    console.error(`flow endpoint: cannot listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(1);
  });

  // Ctrl-C, or SIGTERM (what kill, Docker and Kubernetes send): finish what is in flight.
  const stop = () => {
    server.close(() => {
      console.error('flow endpoint: stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
