// Signatures: the X-Hub-Signature-256 header of a request (HMAC-SHA256 of the raw body with
// the app secret) and data API 4.0's flow_token_signature (HS256). The core computes and
// compares; this file converts the arguments.

import {
  bytes,
  copyBytes,
  describe,
  nowOption,
  responseJson,
  secretList,
  signatureHeader,
  unixSeconds,
  utf8,
  wellFormed,
} from './input.mjs';

const encoder = new TextEncoder();

/**
 * @param {ReturnType<import('./runtime.mjs').createRuntime>} rt
 * @param {ReturnType<import('./flow.mjs').createFlow>} flow
 * @param {ReturnType<import('./request.mjs').createRequests>} requests
 */
export function createSignatures({ wasm, call }, { plaintextOf }, { DecryptedRequest }) {
  /** Whether `header` (X-Hub-Signature-256) authenticates the raw body with the app secret. */
  function verifySignature(rawBody, header, appSecret) {
    const body = bytes(rawBody, 'rawBody');
    const value = signatureHeader(header);
    if (Array.isArray(appSecret)) {
      const secrets = secretList(appSecret, 'appSecret');
      // Every secret is compared; an empty list or secret is the core's `invalid_configuration`.
      return call(() => wasm.verifySignatureAny(body, value, secrets)) !== undefined;
    }
    const secret = bytes(appSecret, 'appSecret');
    // An empty secret is the core's `invalid_configuration`; any other refusal is `false`.
    return call(() => wasm.verifySignature(body, value, secret));
  }

  /** The X-Hub-Signature-256 header value Meta sends with `rawBody`, for clients and tests. */
  function sign(rawBody, appSecret) {
    const body = bytes(rawBody, 'rawBody');
    const secret = bytes(appSecret, 'appSecret');
    return call(() => wasm.sign(body, secret));
  }

  /** The decrypted request's JSON text (as bytes), from any of the forms it may come in. */
  function requestText(request) {
    const plaintext = plaintextOf(request);
    if (plaintext !== undefined) return encoder.encode(plaintext);
    if (request instanceof DecryptedRequest) return utf8(request.plaintext, 'request.plaintext');
    if (typeof request === 'string') return utf8(request, 'request');
    const copy = copyBytes(request, 'request');
    if (copy !== undefined) return copy;
    if (request === null || typeof request !== 'object' || Array.isArray(request)) {
      throw new TypeError(
        `request must be the decrypted text, its bytes, the parsed object or a decrypted request, got ${describe(request)}`,
      );
    }
    return encoder.encode(responseJson(request));
  }

  /**
   * Data API 4.0: checks the request's `flow_token_signature` (HS256 over its `flow_token`,
   * made with the app secret). Returns "verified", or "absent" when the request has none.
   */
  function verifyFlowTokenSignature(request, appSecret, options = {}) {
    const text = requestText(request);
    const secrets = secretList(appSecret, 'appSecret');
    const now = nowOption(options);
    return call(() => wasm.verifyFlowTokenSignature(text, secrets, now));
  }

  /** A `flow_token_signature` as WhatsApp makes it (`exp`: a Date or milliseconds), for clients and tests. */
  function signFlowToken(flowToken, appSecret, options = {}) {
    if (typeof flowToken !== 'string') throw new TypeError(`flowToken must be a string, got ${describe(flowToken)}`);
    const token = wellFormed(flowToken, 'flowToken');
    const secret = bytes(appSecret, 'appSecret');
    const exp = options?.exp === undefined ? undefined : unixSeconds(options.exp, 'exp');
    return call(() => wasm.signFlowToken(token, secret, exp));
  }

  return { verifySignature, sign, verifyFlowTokenSignature, signFlowToken };
}
