// The encrypted response: AES-128-GCM with the request's key and the inverted IV, which the
// core derives; the platform's AES-GCM (node:crypto) or the core's encrypts. This file also
// turns the answer into bytes.

import { bytes, copyBytes, responseJson, utf8 } from './input.mjs';

const encoder = new TextEncoder();

/** The bytes of an answer: a string as it is, bytes as they are, an object as JSON. */
export function answerBytes(answer, name) {
  if (typeof answer === 'string') return utf8(answer, name);
  if (answer === undefined) throw new TypeError(`${name} must be an object, a string or a Uint8Array`);
  return copyBytes(answer, name) ?? encoder.encode(responseJson(answer));
}

/**
 * @param {ReturnType<import('./runtime.mjs').createRuntime>} rt
 * @param {{ response?: { seal(aesKey, responseIv, plaintext): string } }} options a platform
 *   AES-128-GCM that returns base64(ciphertext ‖ tag); without one, wasm encrypts
 */
export function createResponse({ wasm, call }, { response: platform } = {}) {
  /** Encrypts the bytes of an answer with a request's key and IV (both bytes already). */
  function seal(data, key, iv) {
    if (!platform) return call(() => wasm.encryptResponse(data, key, iv));
    // The core checks the lengths and inverts the IV; the platform only computes.
    const responseIv = call(() => wasm.responseIv(key, iv));
    return platform.seal(key, responseIv, data);
  }

  /** Encrypts a response (object → JSON, string, or bytes) with a request's key and IV. */
  function encryptResponse(response, aesKey, iv) {
    // The key and IV are copied before the response's own code (toJSON, getters) runs.
    const key = bytes(aesKey, 'aesKey', { text: false });
    const nonce = bytes(iv, 'iv', { text: false });
    return seal(answerBytes(response, 'response'), key, nonce);
  }

  return { encryptResponse, seal };
}
