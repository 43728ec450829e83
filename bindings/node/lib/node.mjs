// Node entry point (ESM; the CommonJS entry node.cjs loads this same module).
// The RSA unwrap runs in node:crypto (OpenSSL); WebCrypto and the wasm engine are selectable.
import { constants, createPrivateKey, privateDecrypt, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as wasm from '../pkg/wa_flows_crypto_wasm.js';
import { createApi } from './api.mjs';

wasm.initSync({ module: readFileSync(new URL('../pkg/wa_flows_crypto_wasm_bg.wasm', import.meta.url)) });

const node = {
  name: 'node',
  sync: true,
  prepare: (der) => createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' }),
  unwrap: (keyObject, wrapped) =>
    privateDecrypt({ key: keyObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrapped),
};

const subtle = webcrypto.subtle;
const webCrypto = {
  name: 'webcrypto',
  sync: false,
  prepare: (der) => subtle.importKey('pkcs8', der, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']),
  unwrap: (cryptoKey, wrapped) => subtle.decrypt({ name: 'RSA-OAEP' }, cryptoKey, wrapped),
};

const api = createApi({ wasm, engines: { node, webcrypto: webCrypto }, defaultEngine: 'node' });

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
  verifySignature,
} = api;
