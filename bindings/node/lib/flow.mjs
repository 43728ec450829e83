// The flow view of a request (FlowRequest), the endpoint tier (FlowEndpoint, OpenedRequest)
// and the answers the protocol fixes. The core reads the request and runs every step in its
// order; this file converts the view and the options.

import { copyBytes, describe, nowOption, responseJson, secretList, signatureHeader, utf8, wellFormed } from './input.mjs';
import { answerData } from './response.mjs';

const encoder = new TextEncoder();

/**
 * @param {ReturnType<import('./runtime.mjs').createRuntime>} rt
 * @param {ReturnType<import('./key.mjs').createKeys>} keys
 * @param {ReturnType<import('./response.mjs').createResponse>} response
 */
export function createFlow(rt, { dersOf }, { seal }) {
  const { wasm, call, release } = rt;

  /** The plaintext each request object carries, for verifyFlowTokenSignature. */
  const plaintexts = new WeakMap();

  /** The core's answers the protocol fixes. */
  const PING_RESPONSE = call(() => wasm.pingResponse());
  const ERROR_ACKNOWLEDGEMENT = call(() => wasm.errorAcknowledgement());

  const flowToken = Symbol('FlowRequest');

  /** The typed view of a decrypted request, made by the core (this class only converts it). */
  class FlowRequest {
    constructor(token, view) {
      if (token !== flowToken) throw new TypeError('use DecryptedRequest.flow or OpenedRequest.flow');
      const fields = JSON.parse(view);
      /** `ping`, `INIT`, `data_exchange`, `BACK`, or an unknown action as sent. */
      this.action = fields.action;
      this.screen = fields.screen;
      this.data = fields.data;
      this.flowToken = fields.flow_token;
      this.version = fields.version;
      this.isPing = fields.is_ping;
      const notification = fields.error_notification;
      this.errorNotification =
        notification === null
          ? null
          : Object.freeze({
              error: notification.error,
              errorMessage: notification.error_message,
              errorKey: notification.error_key,
            });
      Object.freeze(this);
    }

    get [Symbol.toStringTag]() {
      return 'FlowRequest';
    }
  }

  /** A FlowRequest from the core's view of `plaintext`. */
  function flowRequest(view, plaintext) {
    const flow = new FlowRequest(flowToken, view);
    plaintexts.set(flow, plaintext);
    return flow;
  }

  const openedToken = Symbol('OpenedRequest');

  /** A request that passed every check of FlowEndpoint.open. */
  class OpenedRequest {
    #aesKey;
    #iv;
    #flow;

    constructor(token, opened) {
      if (token !== openedToken) throw new TypeError('use FlowEndpoint.open');
      /** The decrypted JSON text, exactly as sent. */
      this.plaintext = call(() => opened.plaintext);
      /** Which key of the ring opened it (0 is the newest). */
      this.keyIndex = call(() => opened.keyIndex);
      /** "verified", "absent", or null when not checked (policy "off", or no app secret). */
      this.flowTokenSignature = call(() => opened.flowTokenSignature) ?? null;
      /** PING_RESPONSE, ERROR_ACKNOWLEDGEMENT, or null when the flow must answer itself. */
      this.automaticResponse = call(() => opened.automaticResponse) ?? null;
      this.#flow = flowRequest(call(() => opened.flow), this.plaintext);
      this.#aesKey = call(() => opened.aesKey);
      this.#iv = call(() => opened.iv);
      plaintexts.set(this, this.plaintext);
    }

    /** The request as a Flows endpoint sees it (see FlowRequest). */
    get flow() {
      return this.#flow;
    }

    /** Encrypts the answer (object → JSON, string, or bytes); the base64 body to send with 200. */
    respond(answer) {
      return seal(answerData(answer, 'answer'), this.#aesKey, this.#iv);
    }

    /** For a flow token the application refuses: `{ status: 427, body }`, the encrypted `{"error_msg": message}`. */
    flowTokenError(message) {
      if (typeof message !== 'string') throw new TypeError(`message must be a string, got ${describe(message)}`);
      const text = wellFormed(message, 'message');
      const body = call(() => wasm.flowTokenErrorResponse(text, this.#aesKey, this.#iv));
      return { status: call(() => wasm.flowTokenErrorStatus()), body };
    }

    get [Symbol.toStringTag]() {
      return 'OpenedRequest';
    }
  }

  function requestBody(rawBody) {
    if (typeof rawBody === 'string') return utf8(rawBody, 'rawBody');
    const copy = copyBytes(rawBody, 'rawBody');
    if (copy !== undefined) return copy;
    if (rawBody === null || typeof rawBody !== 'object' || Array.isArray(rawBody)) {
      throw new TypeError(`rawBody must be the body as received (a string or a Uint8Array), got ${describe(rawBody)}`);
    }
    return encoder.encode(responseJson(rawBody));
  }

  /**
   * Everything a Flows endpoint does with one POST, in the core's order: the
   * X-Hub-Signature-256 header (432), decryption with the key or ring (421), the flow request
   * (421), the flow token signature (427). Runs in the core (wasm).
   */
  /** The package's decryptRequest, which routes RSA and AES-GCM to the key's engine. */
  let decryptRequest;

  class FlowEndpoint {
    #key;
    #ders;
    #secrets;
    #policy;
    #inner;
    #generation;

    constructor(options) {
      if (options === null || typeof options !== 'object') {
        throw new TypeError(`options must be { key, appSecret, flowTokenSignature }, got ${describe(options)}`);
      }
      const { key, appSecret, flowTokenSignature = 'if_present' } = options;
      this.#ders = dersOf(key, 'key');
      this.#key = key;
      this.#secrets = appSecret === undefined || appSecret === null ? undefined : secretList(appSecret, 'appSecret');
      if (typeof flowTokenSignature !== 'string') {
        throw new TypeError(
          `flowTokenSignature must be "if_present", "required" or "off", got ${describe(flowTokenSignature)}`,
        );
      }
      this.#policy = wellFormed(flowTokenSignature, 'flowTokenSignature');
      this.#inner = call(() => new wasm.WasmEndpoint(this.#ders, this.#secrets, this.#policy));
      this.#generation = rt.generation;
    }

    #current() {
      if (this.#generation !== rt.generation) {
        this.#inner = call(() => new wasm.WasmEndpoint(this.#ders, this.#secrets, this.#policy));
        this.#generation = rt.generation;
      }
      return this.#inner;
    }

    /**
     * Opens one POST: `rawBody` as received (string or bytes: the signature covers these exact
     * bytes), `header` the X-Hub-Signature-256 value (undefined when absent), `options.now` a
     * Date or milliseconds (default Date.now()). Rejects with FlowCryptoError whose
     * `httpStatus` is the answer.
     */
    async open(rawBody, header, options = {}) {
      // Every input is read and copied before the first await.
      const body = requestBody(rawBody);
      const value = signatureHeader(header);
      const now = nowOption(options);
      // The core's steps in its order; decryption in between goes through the key's engine
      // (node:crypto, WebCrypto), as decryptRequest does, instead of the wasm RSA.
      call(() => this.#current().verifyRequestSignature(body, value));
      const decrypted = await decryptRequest(body, this.#key);
      const { plaintext, aesKey, iv, keyIndex } = decrypted;
      const inner = this.#current();
      const opened = call(() => inner.openDecrypted(plaintext, aesKey, iv, keyIndex, now));
      try {
        return new OpenedRequest(openedToken, opened);
      } finally {
        release(opened);
      }
    }

    get [Symbol.toStringTag]() {
      return 'FlowEndpoint';
    }
  }

  return {
    /** Gives FlowEndpoint the package's decryptRequest, made after this module. */
    useDecryptRequest: (decrypt) => {
      decryptRequest = decrypt;
    },
    FlowRequest,
    FlowEndpoint,
    OpenedRequest,
    PING_RESPONSE,
    ERROR_ACKNOWLEDGEMENT,
    flowRequest,
    /** The plaintext of a FlowRequest or OpenedRequest this package made, else `undefined`. */
    plaintextOf: (object) => (object !== null && typeof object === 'object' ? plaintexts.get(object) : undefined),
  };
}
