// Entry point for browsers, Deno and other runtimes with fetch and top-level await: the
// .wasm file is fetched next to this module. The RSA unwrap runs in WebCrypto.
import * as wasm from '../pkg/wa_flows_crypto_wasm.js';
import { createApi } from './api.mjs';
import { webEngines } from './webcrypto.mjs';

await wasm.default({ module_or_path: new URL('../pkg/wa_flows_crypto_wasm_bg.wasm', import.meta.url) });

const api = createApi({ wasm, ...webEngines() });

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
