// The encrypted response: AES-128-GCM with the request's key and the inverted IV, which the
// core derives; the platform's AES-GCM (node:crypto) or the core's encrypts. This file also
// turns the answer into bytes.

import { bytes, copyBytes, responseJson, wellFormed } from './input.mjs';

const encoder = new TextEncoder();

/**
 * An answer as the cipher takes it: a string as it is (well-formed, so its UTF-8 is exact),
 * a copy of bytes, an object as JSON text. Text stays text: a platform cipher encodes it
 * itself, faster than encoding it here first.
 */
export function answerData(answer, name) {
  if (typeof answer === 'string') return wellFormed(answer, name);
  if (answer === undefined) throw new TypeError(`${name} must be an object, a string or a Uint8Array`);
  // JSON.stringify writes well-formed text (a lone surrogate becomes an escape).
  return copyBytes(answer, name) ?? responseJson(answer);
}

/**
 * @param {ReturnType<import('./runtime.mjs').createRuntime>} rt
 * @param {{ response?: { seal(aesKey, responseIv, plaintext): string } }} options a platform
 *   AES-128-GCM that returns base64(ciphertext ‖ tag), the plaintext a well-formed string (to
 *   encode as UTF-8) or bytes; without one, wasm encrypts
 */
export function createResponse({ wasm, call }, { response: platform } = {}) {
  /** Encrypts an answer (answerData) with a request's key and IV (both bytes already). */
  function seal(data, key, iv) {
    if (!platform) {
      const plaintext = typeof data === 'string' ? encoder.encode(data) : data;
      return call(() => wasm.encryptResponse(plaintext, key, iv));
    }
    // The core checks the lengths and inverts the IV; the platform only computes.
    const responseIv = call(() => wasm.responseIv(key, iv));
    return platform.seal(key, responseIv, data);
  }

  /** Encrypts a response (object → JSON, string, or bytes) with a request's key and IV. */
  function encryptResponse(response, aesKey, iv) {
    // The key and IV are copied before the response's own code (toJSON, getters) runs.
    const key = bytes(aesKey, 'aesKey', { text: false });
    const nonce = bytes(iv, 'iv', { text: false });
    return seal(answerData(response, 'response'), key, nonce);
  }

  return { encryptResponse, seal };
}
