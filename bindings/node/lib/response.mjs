// The encrypted response: the core encrypts (AES-128-GCM with the request's key and the
// inverted IV); this file turns the answer into bytes.

import { bytes, copyBytes, responseJson, utf8 } from './input.mjs';

const encoder = new TextEncoder();

/** The bytes of an answer: a string as it is, bytes as they are, an object as JSON. */
export function answerBytes(answer, name) {
  if (typeof answer === 'string') return utf8(answer, name);
  if (answer === undefined) throw new TypeError(`${name} must be an object, a string or a Uint8Array`);
  return copyBytes(answer, name) ?? encoder.encode(responseJson(answer));
}

/** @param {ReturnType<import('./runtime.mjs').createRuntime>} rt */
export function createResponse({ wasm, call }) {
  /** Encrypts a response (object → JSON, string, or bytes) with a request's key and IV. */
  function encryptResponse(response, aesKey, iv) {
    // The key and IV are copied before the response's own code (toJSON, getters) runs.
    const key = bytes(aesKey, 'aesKey', { text: false });
    const nonce = bytes(iv, 'iv', { text: false });
    const data = answerBytes(response, 'response');
    return call(() => wasm.encryptResponse(data, key, nonce));
  }

  return { encryptResponse };
}
