// The composition: one API over one wasm instance and one platform's engines. An entry
// point registers its platform once (registerPlatform) and re-exports api.mjs; tests make
// further APIs over instrumented engines (createApi).

import { FlowCryptoError } from './error.mjs';
import { createFlow } from './flow.mjs';
import { createKeys } from './key.mjs';
import { createMedia } from './media.mjs';
import { createRequests } from './request.mjs';
import { createResponse } from './response.mjs';
import { createRuntime } from './runtime.mjs';
import { createSignatures } from './signature.mjs';

/**
 * @param {object} options
 * @param {object} options.wasm the initialised wasm-bindgen module
 * @param {Record<string, object>} options.engines RSA engines by name, besides `wasm`; an engine
 *   with a synchronous `open(aesKey, iv, ciphertext, tag)` (AES-128-GCM, throws on a bad tag)
 *   also opens the payload, one with an asynchronous `openAsync(aesKey, iv, sealed)` does so
 *   in `decryptRequest`
 * @param {string} options.defaultEngine the engine new keys use
 * @param {object} [options.media] a platform media engine (see media.mjs)
 * @param {object} [options.response] a platform AES-128-GCM for responses (see response.mjs)
 * @param {(text: string) => Uint8Array | null} [options.base64] the platform's canonical
 *   base64 decoder (see request.mjs)
 * @param {(bytes: Uint8Array) => string} [options.decodeUtf8] the platform's UTF-8 decoder, for text
 *   the core has checked (see request.mjs)
 * @returns every public name of the package
 */
export function createApi({ wasm, engines, defaultEngine, media, response: responseEngine, base64, decodeUtf8 }) {
  const rt = createRuntime(wasm);
  const keys = createKeys(rt, { engines, defaultEngine });
  const response = createResponse(rt, { response: responseEngine });
  const flow = createFlow(rt, keys, response);
  const requests = createRequests(rt, keys, response, flow, { base64, decodeUtf8 });
  flow.useDecryptRequest(requests.decryptRequest);
  const signatures = createSignatures(rt, flow, requests);
  const mediaApi = createMedia(rt, { media });
  return {
    FlowCryptoError,
    FlowPrivateKey: keys.FlowPrivateKey,
    FlowKeyRing: keys.FlowKeyRing,
    DecryptedRequest: requests.DecryptedRequest,
    EncryptedRequest: requests.EncryptedRequest,
    parseRequest: requests.parseRequest,
    decryptRequest: requests.decryptRequest,
    decryptRequestSync: requests.decryptRequestSync,
    unwrapAesKey: requests.unwrapAesKey,
    decryptPayload: requests.decryptPayload,
    encryptResponse: response.encryptResponse,
    MediaDecryptor: mediaApi.MediaDecryptor,
    MediaVerifier: mediaApi.MediaVerifier,
    decryptMediaContent: mediaApi.decryptMediaContent,
    mediaEngines: mediaApi.mediaEngines,
    verifySignature: signatures.verifySignature,
    sign: signatures.sign,
    verifyFlowTokenSignature: signatures.verifyFlowTokenSignature,
    signFlowToken: signatures.signFlowToken,
    FlowRequest: flow.FlowRequest,
    FlowEndpoint: flow.FlowEndpoint,
    OpenedRequest: flow.OpenedRequest,
    PING_RESPONSE: flow.PING_RESPONSE,
    ERROR_ACKNOWLEDGEMENT: flow.ERROR_ACKNOWLEDGEMENT,
  };
}

let publish;
let registered = false;

/** Called once by api.mjs: how the registered platform's API reaches its exports. */
export function onRegister(hook) {
  publish = hook;
}

/**
 * Makes the package's API over `options` (as createApi) and publishes it as the exports of
 * api.mjs. Once: every entry point of one process shares the first instance, so keys and
 * errors are shared too.
 */
export function registerPlatform(options) {
  if (registered) return;
  registered = true;
  publish(createApi(options));
}
