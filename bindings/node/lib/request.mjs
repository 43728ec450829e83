// Requests: parsing (EncryptedRequest), the two steps of decryption (the RSA-OAEP unwrap of
// the AES key, then AES-128-GCM of the payload) and their result (DecryptedRequest).
//
// Every check is the core's. A platform engine (`node:crypto`, WebCrypto) may compute the
// unwrap and the GCM open; what it returned, or that it failed, goes back to the core, which
// answers with the AES key or the plaintext, or with the error the wasm engine gives.

import { bytesOrUndefined, outputBytes, wipe } from './engines/output.mjs';
import { bytes, jsonInput, utf8, wellFormed } from './input.mjs';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The base64 fields of a request body (named by the core, in its order), when the platform's
 * JSON parser is sure to read it exactly as the core's (serde_json) would: no escapes and
 * only string values, so none of their differences (number range, nesting depth, escaped
 * surrogates) can arise; duplicate keys resolve to the last in both. Otherwise `undefined`:
 * the core parses the body.
 */
function envelopeFields(body, names) {
  let object = body;
  if (typeof body === 'string' || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    let text = body;
    if (typeof body !== 'string') {
      try {
        text = strictUtf8.decode(body);
      } catch {
        return undefined;
      }
    }
    if (text.includes('\\')) return undefined;
    try {
      object = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (object === null || typeof object !== 'object' || Array.isArray(object)) return undefined;
    for (const name in object) if (typeof object[name] !== 'string') return undefined;
  } else if (object === null || typeof object !== 'object' || Array.isArray(object)) {
    return undefined;
  }
  const fields = names.map((name) => object[name]);
  return fields.every((field) => typeof field === 'string') ? fields : undefined;
}

/**
 * @param {ReturnType<import('./runtime.mjs').createRuntime>} rt
 * @param {ReturnType<import('./key.mjs').createKeys>} keys
 * @param {ReturnType<import('./response.mjs').createResponse>} response
 * @param {ReturnType<import('./flow.mjs').createFlow>} flow
 * @param {{ base64?: (text: string) => Uint8Array | null }} options the platform's base64
 *   decoder, returning `null` unless `text` is canonical padded standard base64: with it,
 *   well-formed bodies are read without the core's parser (which still reads every other body)
 * @param {{ decodeUtf8?: (bytes: Uint8Array) => string }} options the platform's UTF-8 decoder, for
 *   plaintext the core has checked: with it, the text need not cross out of wasm
 */
export function createRequests(rt, keys, { encryptResponse }, { flowRequest }, { base64, decodeUtf8 }) {
  const { wasm, call, release } = rt;
  const { FlowKeyRing, materialOf, ringKeys, handleFor, wasmEngine } = keys;
  const requestFields = Object.freeze(call(() => wasm.requestFields()));

  /** A decrypted request and the means to answer it. */
  class DecryptedRequest {
    #flow;

    constructor(plaintext, aesKey, iv, keyIndex = 0) {
      // The core refused every plaintext that is not one JSON object.
      /** The decrypted request, parsed. */
      this.decryptedBody = JSON.parse(plaintext);
      /** The decrypted JSON text, exactly as sent. */
      this.plaintext = plaintext;
      /** The request's AES-128 key. */
      this.aesKey = aesKey;
      /** The request's IV. */
      this.iv = iv;
      /**
       * Encrypts the answer to this request; returns the base64 body to send as text/plain.
       * An own, bound function rather than a method: `const { decryptedBody, encryptResponse }
       * = await decryptRequest(…)` is how handlers read the result.
       */
      this.encryptResponse = (answer) => encryptResponse(answer, aesKey, iv);
      /** Which key of the FlowKeyRing opened the request (0 is the newest; 0 for a single key). */
      this.keyIndex = keyIndex;
    }

    /**
     * The request as a Flows endpoint sees it, read by the core (see FlowRequest). Throws the
     * core's `malformed` (421) if the plaintext is not a flow request.
     */
    get flow() {
      this.#flow ??= flowRequest(call(() => wasm.flowView(this.plaintext)), this.plaintext);
      return this.#flow;
    }
  }

  const parsedToken = Symbol('EncryptedRequest');
  let parsedOf;

  /**
   * A request body parsed and length-checked by the core, not decrypted: for an unwrap done
   * elsewhere (`unwrapAesKey`, a KMS, an HSM) and `decryptPayload`.
   */
  class EncryptedRequest {
    #parsed;

    constructor(token, parsed) {
      if (token !== parsedToken) throw new TypeError('use parseRequest');
      this.#parsed = parsed;
    }

    /** The RSA-OAEP-wrapped AES key, decoded from base64. */
    get encryptedAesKey() {
      return call(() => this.#parsed.request.encryptedAesKey);
    }

    static {
      parsedOf = (request) => request.#parsed;
    }

    get [Symbol.toStringTag]() {
      return 'EncryptedRequest';
    }
  }

  /** A parsed request, with its encrypted_flow_data as platform bytes if the platform decoded it. */
  function parse(body) {
    // Text is read as it is (its UTF-8 bytes only if the core must parse it): encoding 200 KB
    // only to decode it again for JSON.parse cost more than the rest of the fast route.
    const text = typeof body === 'string' ? wellFormed(body, 'body') : undefined;
    let input = text === undefined ? jsonInput(body, 'body', requestFields) : undefined;
    const fields = base64 && envelopeFields(text ?? input, requestFields);
    const decoded = fields?.map(base64);
    if (decoded?.every((field) => field !== null)) {
      const [encryptedFlowData, encryptedAesKey, initialVector] = decoded;
      try {
        const request = call(() => wasm.requestFromParts(encryptedFlowData, encryptedAesKey, initialVector));
        return { request, sealed: encryptedFlowData };
      } catch (error) {
        // The core's parser gives the error, with the same code and message as always.
        if (rt.isInternal(error)) throw error;
      }
    }
    if (text !== undefined) input = utf8(text, 'body');
    return { request: call(() => wasm.parseRequest(input)) };
  }

  /** Parses a request body without decrypting it. */
  function parseRequest(body) {
    return new EncryptedRequest(parsedToken, parse(body));
  }

  /** What a platform unwrap returned (`undefined`: it failed), through the core's checks; wiped. */
  function unwrapped(output) {
    const aesKey = output === undefined ? undefined : outputBytes(output);
    try {
      return call(() => wasm.hostUnwrapped(aesKey));
    } finally {
      aesKey?.fill(0);
      wipe(output);
    }
  }

  /** The unwrap through `engine`. */
  function unwrapSync(engine, material, wrapped) {
    if (engine.name === wasmEngine.name) return wasmEngine.unwrap(material, null, wrapped);
    let output;
    try {
      output = engine.unwrap(handleFor(engine, material), wrapped);
    } catch {
      output = undefined; // the core's key_unwrap
    }
    return unwrapped(output);
  }

  async function unwrapAsync(engine, material, wrapped) {
    if (engine.sync) return unwrapSync(engine, material, wrapped);
    let handle;
    try {
      handle = await handleFor(engine, material);
    } catch {
      // The platform refused the key (unusual parameters): the wasm engine takes it.
      return wasmEngine.unwrap(material, null, wrapped);
    }
    let output;
    try {
      output = await engine.unwrap(handle, wrapped);
    } catch {
      output = undefined; // the core's key_unwrap
    }
    return unwrapped(output);
  }

  /** Step two: the engine opens the payload if it can (the core checks the result), else wasm. */
  function open({ request, sealed }, aesKey, engine) {
    if (!engine?.open) return decrypted(request, aesKey, call(() => request.decryptPayload(aesKey)));
    const data = sealed ?? call(() => request.encryptedFlowData);
    const iv = call(() => request.initialVector);
    const split = call(() => request.ciphertextLength);
    let opened;
    try {
      opened = engine.open(aesKey, iv, data.subarray(0, split), data.subarray(split));
    } catch {
      opened = undefined; // the core's payload_auth
    }
    return checkedOpen(request, aesKey, opened);
  }

  /** Step two with an asynchronous engine: it opens the payload, the core checks the result. */
  async function openAsync({ request, sealed }, aesKey, engine) {
    const iv = call(() => request.initialVector);
    const data = sealed ?? call(() => request.encryptedFlowData);
    let opened;
    try {
      opened = await engine.openAsync(aesKey, iv, data);
    } catch {
      opened = undefined; // the core's payload_auth
    }
    return checkedOpen(request, aesKey, opened);
  }

  /** The core's checks on a payload the engine opened (`undefined`: it could not); wipes it. */
  function checkedOpen(request, aesKey, opened) {
    const plaintext = bytesOrUndefined(opened);
    try {
      if (decodeUtf8 === undefined || plaintext === undefined) {
        return decrypted(request, aesKey, call(() => request.decryptPayloadOpened(aesKey, plaintext)));
      }
      // The core checks the plaintext (UTF-8 included); the platform turns it into text.
      call(() => request.checkPayloadOpened(aesKey, plaintext));
      return decrypted(request, aesKey, decodeUtf8(plaintext));
    } finally {
      plaintext?.fill(0);
      wipe(opened);
    }
  }

  function decrypted(request, aesKey, text) {
    return new DecryptedRequest(text, Uint8Array.from(aesKey), call(() => request.initialVector));
  }

  /** Runs `step` on a request parsed for it, then frees the request. */
  async function consumingAsync(parsed, step) {
    try {
      return await step(parsed);
    } finally {
      release(parsed.request);
    }
  }

  function consuming(parsed, step) {
    try {
      return step(parsed);
    } finally {
      release(parsed.request);
    }
  }

  /**
   * The two steps with a key's engine, in either call style. Synchronously, an asynchronous
   * engine (WebCrypto) is replaced by wasm.
   */
  const syncSteps = {
    engine: (engine) => (engine.sync ? engine : wasmEngine),
    unwrap: unwrapSync,
    open,
  };
  const asyncSteps = {
    engine: (engine) => engine,
    unwrap: unwrapAsync,
    open: (parsed, aesKey, engine) => (engine.openAsync ? openAsync(parsed, aesKey, engine) : open(parsed, aesKey, engine)),
  };

  /** Promise-aware `then`: the synchronous style stays synchronous. */
  const andThen = (value, onValue, onError) =>
    value instanceof Promise ? value.then(onValue, onError) : onValue(value);

  /**
   * A ring, each key through its own engine, in the order of the core's FlowKeyRing::decrypt:
   * a key the core says the request is not for (`key_unwrap`) passes to the next; any other
   * verdict, success or not, is final; after the last key, its `key_unwrap` stands.
   */
  function throughRing(parsed, ring, steps) {
    const wrapped = call(() => parsed.request.encryptedAesKey);
    const keysOfRing = ringKeys(ring);
    const attempt = (index) => {
      const [material, keyEngine] = materialOf(keysOfRing[index]);
      const engine = steps.engine(keyEngine);
      const next = (error) => {
        if (error?.code !== 'key_unwrap' || index + 1 === keysOfRing.length) throw error;
        return attempt(index + 1);
      };
      const opened = (aesKey) =>
        andThen(steps.open(parsed, aesKey, engine), (request) => {
          request.keyIndex = index;
          return request;
        });
      let aesKey;
      try {
        aesKey = steps.unwrap(engine, material, wrapped);
      } catch (error) {
        return next(error);
      }
      return andThen(aesKey, opened, next);
    };
    return attempt(0);
  }

  /** Decrypts a request body (string, bytes, or parsed object) with the key's engine. */
  function decryptRequest(body, key) {
    try {
      if (key instanceof FlowKeyRing) {
        return consumingAsync(parse(body), (parsed) => throughRing(parsed, key, asyncSteps));
      }
      const [material, engine] = materialOf(key);
      // A synchronous engine (node:crypto, wasm) runs now: no extra turns of the event loop.
      if (engine.sync) return Promise.resolve(decryptWith(engine, material, body));
      return consumingAsync(parse(body), async (parsed) => {
        const aesKey = await unwrapAsync(engine, material, call(() => parsed.request.encryptedAesKey));
        return asyncSteps.open(parsed, aesKey, engine);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function decryptWith(engine, material, body) {
    return consuming(parse(body), (parsed) => {
      const aesKey = unwrapSync(engine, material, call(() => parsed.request.encryptedAesKey));
      return open(parsed, aesKey, engine);
    });
  }

  /** As decryptRequest, synchronously: an asynchronous engine (WebCrypto) is replaced by wasm. */
  function decryptRequestSync(body, key) {
    if (key instanceof FlowKeyRing) return consuming(parse(body), (parsed) => throughRing(parsed, key, syncSteps));
    const [material, engine] = materialOf(key);
    return decryptWith(syncSteps.engine(engine), material, body);
  }

  /**
   * Step one on its own: unwraps `encryptedAesKey` (raw bytes, or the key of an
   * EncryptedRequest) with the key's engine.
   */
  async function unwrapAesKey(encryptedAesKey, key) {
    // Both read (and the bytes copied) before the first await.
    const [material, engine] = materialOf(key);
    const wrapped =
      encryptedAesKey instanceof EncryptedRequest
        ? encryptedAesKey.encryptedAesKey
        : bytes(encryptedAesKey, 'encryptedAesKey', { text: false });
    return Uint8Array.from(await unwrapAsync(engine, material, wrapped));
  }

  /** Step two on its own: opens a request (body or EncryptedRequest) with an AES key unwrapped elsewhere. */
  function decryptPayload(body, aesKey) {
    if (body instanceof EncryptedRequest) {
      // The caller's to reuse: freed when collected, not here.
      return open(parsedOf(body), bytes(aesKey, 'aesKey', { text: false }), keys.defaultEngine);
    }
    const key = bytes(aesKey, 'aesKey', { text: false });
    return consuming(parse(body), (parsed) => open(parsed, key, keys.defaultEngine));
  }

  return {
    DecryptedRequest,
    EncryptedRequest,
    parseRequest,
    decryptRequest,
    decryptRequestSync,
    unwrapAesKey,
    decryptPayload,
  };
}
