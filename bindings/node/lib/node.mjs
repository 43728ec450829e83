// Node entry point (ESM; the CommonJS entry node.cjs loads this same module). The heavy
// primitives run in node:crypto (OpenSSL); the core checks every output. WebCrypto and the
// wasm engine are selectable.
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as wasm from '../pkg/wa_flows_crypto_wasm.js';
import { nodeCanonicalBase64, nodeEngine, nodeMediaEngine, nodeDecodeUtf8, nodeResponseEngine } from './engines/node.mjs';
import { webCryptoEngine } from './engines/webcrypto.mjs';
import { registerPlatform } from './platform.mjs';

wasm.initSync({ module: readFileSync(new URL('../pkg/wa_flows_crypto_wasm_bg.wasm', import.meta.url)) });

registerPlatform({
  wasm,
  engines: { node: nodeEngine, webcrypto: webCryptoEngine(webcrypto.subtle) },
  defaultEngine: 'node',
  media: nodeMediaEngine,
  response: nodeResponseEngine,
  base64: nodeCanonicalBase64,
  decodeUtf8: nodeDecodeUtf8,
});

export * from './api.mjs';
