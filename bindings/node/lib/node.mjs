// Node entry point (ESM; the CommonJS entry node.cjs loads this same module).
// The heavy primitives run in node:crypto (OpenSSL): the RSA unwrap and AES-128-GCM of a
// request, and SHA-256, HMAC-SHA256 and AES-256-CBC of a media file; the core checks every
// output. WebCrypto and the wasm engine are selectable.
import {
  constants,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  privateDecrypt,
  webcrypto,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as wasm from '../pkg/wa_flows_crypto_wasm.js';
import { createApi } from './api.mjs';
import { nodeCanonicalBase64 } from './base64.mjs';
import { webCryptoEngine } from './webcrypto.mjs';

wasm.initSync({ module: readFileSync(new URL('../pkg/wa_flows_crypto_wasm_bg.wasm', import.meta.url)) });

const node = {
  name: 'node',
  sync: true,
  prepare: (der) => createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' }),
  unwrap: (keyObject, wrapped) =>
    privateDecrypt({ key: keyObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrapped),
  // AES-128-GCM with the request's 16-byte IV; throws if the tag does not verify.
  open: (aesKey, iv, ciphertext, tag) => {
    const decipher = createDecipheriv('aes-128-gcm', aesKey, iv);
    decipher.setAuthTag(tag);
    const head = decipher.update(ciphertext);
    const tail = decipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  },
};

/** A Buffer as a plain Uint8Array over its own memory (copied if it shares a pooled slab). */
function own(buffer) {
  if (buffer.byteOffset === 0 && buffer.buffer.byteLength === buffer.length) {
    return new Uint8Array(buffer.buffer, 0, buffer.length);
  }
  const copy = Uint8Array.from(buffer);
  buffer.fill(0);
  return copy;
}

const nodeMedia = {
  name: 'node',
  sha256: (data) => createHash('sha256').update(data).digest(),
  hmacSha256: (key, iv, ciphertext) => createHmac('sha256', key).update(iv).update(ciphertext).digest(),
  // The padding stays on: the core checks it.
  aes256CbcNoPadding: (key, iv, ciphertext) => {
    const decipher = createDecipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
    const head = decipher.update(ciphertext);
    const tail = decipher.final();
    return own(tail.length === 0 ? head : Buffer.concat([head, tail]));
  },
};

const api = createApi({
  wasm,
  engines: { node, webcrypto: webCryptoEngine(webcrypto.subtle) },
  defaultEngine: 'node',
  media: nodeMedia,
  base64: nodeCanonicalBase64,
});

export const {
  FlowCryptoError,
  FlowPrivateKey,
  DecryptedRequest,
  MediaDecryptor,
  decryptRequest,
  decryptRequestSync,
  unwrapAesKey,
  decryptPayload,
  encryptResponse,
  decryptMediaContent,
  mediaEngines,
  verifySignature,
  verifyFlowTokenSignature,
  signFlowToken,
  FlowKeyRing,
  FlowRequest,
  FlowEndpoint,
  OpenedRequest,
  PING_RESPONSE,
  ERROR_ACKNOWLEDGEMENT,
} = api;
