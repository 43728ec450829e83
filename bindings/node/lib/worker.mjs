// Entry point for workerd (Cloudflare Workers) and other worker runtimes that import a
// `.wasm` file as a compiled WebAssembly.Module. The RSA unwrap runs in WebCrypto.
import * as wasm from '../pkg/wa_flows_crypto_wasm.js';
import wasmModule from '../pkg/wa_flows_crypto_wasm_bg.wasm';
import { createApi } from './api.mjs';
import { webEngines } from './webcrypto.mjs';

wasm.initSync({ module: wasmModule });

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
