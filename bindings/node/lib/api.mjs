// The public API, shared by every entry point (node.mjs, worker.mjs, browser.mjs).
//
// Every check is the Rust core's, reached through the wasm-bindgen module `wasm`. This file
// converts JavaScript inputs (input.mjs: copied by their intrinsic lengths, before any
// `await`), turns thrown errors into FlowCryptoError, and routes the heavy primitives to an
// engine: the platform's (`node:crypto` or WebCrypto) or the wasm one. A platform engine
// computes only primitive outputs (RSA-OAEP, AES-GCM, SHA-256, HMAC, AES-CBC); every
// comparison and rule on them is a call into the core.
//
// A trap in the module (a Rust panic, running out of linear memory) leaves that instance in
// an undefined state. The call that trapped fails with `internal` (HTTP 500) and the module is
// replaced by a fresh instance (`__wbg_reset_state`); keys are re-imported into it on their
// next use, and objects in progress in the old one (a MediaDecryptor mid-file, a request
// between its two steps) fail with `internal`.

import { bytes, copyBytes, describe, optionalBytes, responseJson, utf8, wellFormed } from './input.mjs';

/** The error every operation throws: a real `Error` with a stable `code` and `httpStatus`. */
export class FlowCryptoError extends Error {
  /**
   * @param {string} message what went wrong and what to do about it
   * @param {string} code one of the codes in the README (`malformed`, `key_unwrap`, …)
   * @param {number | null} httpStatus 421, 427, 432, 500, or null for media errors
   */
  constructor(message, code, httpStatus) {
    super(message);
    this.code = code;
    this.httpStatus = httpStatus ?? null;
  }
}

Object.defineProperty(FlowCryptoError.prototype, 'name', {
  value: 'FlowCryptoError',
  writable: true,
  configurable: true,
});

const KEY_UNWRAP_MESSAGE =
  'the AES key could not be unwrapped with RSA-OAEP-SHA256: the request was encrypted for a ' +
  "different public key; upload this private key's public key (answering 421 makes WhatsApp " +
  'fetch it again)';

const INTERNAL_MESSAGE =
  'internal error: the WebAssembly module trapped and was restarted; this call failed, retry it';
const STALE_MESSAGE =
  'internal error: this object belonged to a WebAssembly instance that trapped and was replaced; start again';

const encoder = new TextEncoder();

/**
 * A JSON input (request body, media metadata) as the wasm module takes it: the UTF-8 bytes of
 * text, a copy of bytes, or, for an object, a plain object holding each property the core
 * reads, read once. Anything else is `null`, which the core calls "not a JSON object". The
 * module then never runs caller code (getters, proxy traps) in the middle of a call.
 */
function jsonInput(value, name, fields) {
  // Text goes in as its UTF-8 bytes: the same input to the core, and for a 200 KB body less
  // than half the time of passing the string itself across the boundary.
  if (typeof value === 'string') return utf8(value, name);
  const copy = copyBytes(value, name);
  if (copy !== undefined) return copy;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const plain = Object.create(null);
  for (const field of fields) plain[field] = value[field];
  return plain;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The three base64 fields of a request body, when the platform's JSON parser is sure to read
 * it exactly as the core's (serde_json) would: no escapes and only string values, so none of
 * their differences (number range, nesting depth, escaped surrogates) can arise; duplicate
 * keys resolve to the last in both. Otherwise `undefined`: the core parses the body.
 */
function envelopeFields(body) {
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
  const fields = [object.encrypted_flow_data, object.encrypted_aes_key, object.initial_vector];
  return fields.every((field) => typeof field === 'string') ? fields : undefined;
}

/** A copy of a platform primitive's output if it is bytes; anything else fails the core's checks. */
function bytesOrUndefined(value) {
  try {
    return copyBytes(value, 'output') ?? undefined;
  } catch {
    return undefined;
  }
}

/** As bytesOrUndefined, with empty bytes (which every check of the core refuses) for "none". */
function outputBytes(value) {
  return bytesOrUndefined(value) ?? new Uint8Array(0);
}

/** Wipes a platform output the caller never sees. */
function wipe(value) {
  if (value instanceof Uint8Array) value.fill(0);
}

/** Media chunks are fed to wasm at most this large, so linear memory stays small. */
const SLICE = 1 << 20;

/**
 * @param {object} options
 * @param {object} options.wasm the initialised wasm-bindgen module
 * @param {Record<string, object>} options.engines RSA engines by name, besides `wasm`; an engine
 *   with a synchronous `open(aesKey, iv, ciphertext, tag)` (AES-128-GCM, throws on a bad tag)
 *   also opens the payload, one with an asynchronous `openAsync(aesKey, iv, sealed)` does so
 *   in `decryptRequest`
 * @param {string} options.defaultEngine the engine new keys use
 * @param {object} [options.media] a platform media engine: `{ name, sha256(bytes),
 *   hmacSha256(key, iv, ciphertext), aes256CbcNoPadding(key, iv, ciphertext) }`, the default
 *   for `decryptMediaContent`
 * @param {(text: string) => Uint8Array | null} [options.base64] the platform's base64 decoder,
 *   returning `null` unless `text` is canonical padded standard base64: with it, well-formed
 *   bodies are read without the core's parser (which still reads every other body)
 */
export function createApi({ wasm, engines: platformEngines, defaultEngine, media: platformMedia, base64 }) {
  /** How many times the module was replaced after a trap. */
  let generation = 0;
  /** Whether the instance may be inconsistent and is to be replaced before the next call. */
  let suspect = false;

  /**
   * Replaces the instance. If that fails (no stack left to instantiate in, a build without
   * `__wbg_reset_state`), the old instance stays suspect and the next call tries again; its
   * objects may already count as stale, which fails them with `internal`, never reads memory.
   */
  function reset() {
    try {
      wasm.__wbg_reset_state();
    } catch {
      suspect = true;
      return;
    }
    generation += 1;
    suspect = false;
  }

  /** Errors thrown by the wasm module are plain Errors named FlowCryptoError: re-class them. */
  function converted(error) {
    if (error instanceof WebAssembly.RuntimeError) {
      // A trap: the instance is undefined from here on. Replace it, fail only this call.
      reset();
      return new FlowCryptoError(INTERNAL_MESSAGE, 'internal', 500);
    }
    if (error instanceof RangeError && String(error.message).includes('call stack')) {
      // (No regular expression here: compiling one with no stack left throws a SyntaxError.)
      // The caller's stack ran out, perhaps inside wasm: frames that never returned leave the
      // module's shadow stack (or the allocator) mid-update. Replace the instance before the
      // next call, at a depth where there is stack to do it; this one is the caller's error.
      suspect = true;
      return error;
    }
    if (error instanceof Error && error.message === 'Invalid stale object from previous Wasm instance') {
      return new FlowCryptoError(STALE_MESSAGE, 'internal', 500);
    }
    if (
      error instanceof Error &&
      !(error instanceof FlowCryptoError) &&
      error.name === 'FlowCryptoError' &&
      typeof error.code === 'string'
    ) {
      return new FlowCryptoError(error.message, error.code, error.httpStatus);
    }
    return error;
  }

  function call(fn) {
    if (suspect) reset();
    try {
      return fn();
    } catch (error) {
      throw converted(error);
    }
  }

  /** Frees a wasm object, which may belong to a replaced instance (then there is nothing to free). */
  function release(object) {
    try {
      object.free();
    } catch {
      // stale: its memory went with the old instance
    }
  }

  const requestFields = Object.freeze(call(() => wasm.requestFields()));
  const mediaMetadataFields = Object.freeze(call(() => wasm.mediaMetadataFields()));

  /**
   * One loaded key: the core's parsed key in the current instance, and its PKCS#8 DER, kept
   * to re-import the key into a fresh instance after a trap (and to hand it to the platform).
   * Shared by every `withEngine` copy of a FlowPrivateKey.
   */
  class KeyMaterial {
    constructor(inner) {
      this.inner = inner;
      this.generation = generation;
      this.der = call(() => inner.privateKeyDer());
      /** The platform handles (KeyObject, CryptoKey promise) by engine, made on first use. */
      this.handles = new Map();
    }

    /** The parsed key in the current instance. */
    current() {
      if (this.generation !== generation) {
        this.inner = call(() => wasm.WasmPrivateKey.fromDer(this.der, undefined));
        this.generation = generation;
      }
      return this.inner;
    }
  }

  const wasmEngine = {
    name: 'wasm',
    sync: true,
    prepare: () => null,
    unwrap: (material, _handle, wrapped) => call(() => material.current().unwrapAesKey(wrapped)),
  };
  const engines = { ...platformEngines, wasm: wasmEngine };
  const engineNames = Object.freeze(Object.keys(engines));

  function handleFor(engine, material) {
    if (!material.handles.has(engine.name)) material.handles.set(engine.name, engine.prepare(material.der));
    return material.handles.get(engine.name);
  }

  const keyToken = Symbol('FlowPrivateKey');
  let innerOf;
  let loaded;

  /** The business RSA private key. Parse it once at start-up and share it. */
  class FlowPrivateKey {
    #inner;
    #engine;

    constructor(token, inner, engine) {
      if (token !== keyToken) {
        throw new TypeError('use FlowPrivateKey.fromPem, fromDer or generate');
      }
      this.#inner = inner;
      this.#engine = engine;
    }

    /** Loads a PEM key: PKCS#1 or PKCS#8, encrypted (PBES2 or legacy OpenSSL) or not. */
    static fromPem(pem, passphrase) {
      const text = bytes(pem, 'pem');
      const secret = optionalBytes(passphrase, 'passphrase');
      return loaded(() => wasm.WasmPrivateKey.fromPem(text, secret));
    }

    /** Loads a DER key: PKCS#1, PKCS#8 or encrypted PKCS#8. */
    static fromDer(der, passphrase) {
      const data = bytes(der, 'der', { text: false });
      const secret = optionalBytes(passphrase, 'passphrase');
      return loaded(() => wasm.WasmPrivateKey.fromDer(data, secret));
    }

    /**
     * Generates a new key: 2048 bits (what WhatsApp expects), 3072 or 4096. The core refuses
     * every other number (negative, fractional, NaN, 2^32 + 2048, …) as `invalid_key`; a
     * BigInt is refused the same way (it is never converted).
     */
    static generate(bits = 2048) {
      if (typeof bits !== 'number' && typeof bits !== 'bigint') {
        throw new TypeError(`bits must be a number (2048, 3072 or 4096), got ${describe(bits)}`);
      }
      return loaded(() => wasm.WasmPrivateKey.generate(typeof bits === 'number' ? bits : Number.NaN));
    }

    /** The RSA engines this build can use, the default first. */
    static get engines() {
      return [defaultEngine, ...engineNames.filter((name) => name !== defaultEngine)];
    }

    /** The public key as SPKI PEM: what to upload to Meta. */
    publicKeyPem() {
      return call(() => this.#inner.current().publicKeyPem());
    }

    /** SHA-256 of the public key's SPKI DER, lowercase hex. */
    publicKeyFingerprint() {
      return call(() => this.#inner.current().publicKeyFingerprint());
    }

    /** The private key as PKCS#8 PEM; encrypted (PBES2, AES-256-CBC) with a passphrase. */
    privateKeyPem(passphrase) {
      const secret = optionalBytes(passphrase, 'passphrase');
      return call(() => this.#inner.current().privateKeyPem(secret));
    }

    /** The modulus size in bits. */
    get bits() {
      return call(() => this.#inner.current().bits);
    }

    /** The engine that performs the RSA unwrap: `node`, `webcrypto` or `wasm`. */
    get engine() {
      return this.#engine;
    }

    /** The same key using another RSA engine (all give identical results and errors). */
    withEngine(engine) {
      if (typeof engine !== 'string' || !Object.hasOwn(engines, engine)) {
        const named = typeof engine === 'string' ? JSON.stringify(engine) : describe(engine);
        throw new TypeError(`unknown RSA engine ${named}; available: ${engineNames.join(', ')}`);
      }
      return new FlowPrivateKey(keyToken, this.#inner, engine);
    }

    static {
      // Module-private access for the functions below.
      innerOf = (key) => {
        if (!(key instanceof FlowPrivateKey)) {
          throw new TypeError('key must be a FlowPrivateKey (FlowPrivateKey.fromPem(pem, passphrase))');
        }
        return [key.#inner, engines[key.#engine]];
      };
      loaded = (load) => new FlowPrivateKey(keyToken, new KeyMaterial(call(load)), defaultEngine);
    }

    get [Symbol.toStringTag]() {
      return 'FlowPrivateKey';
    }
  }

  /** The unwrap through `engine`; platform failures become the core's `key_unwrap`. */
  function unwrapSync(engine, inner, wrapped) {
    if (engine.name === 'wasm') return wasmEngine.unwrap(inner, null, wrapped);
    let aesKey;
    try {
      aesKey = outputBytes(engine.unwrap(handleFor(engine, inner), wrapped));
    } catch {
      throw new FlowCryptoError(KEY_UNWRAP_MESSAGE, 'key_unwrap', 421);
    }
    return aesKey;
  }

  async function unwrapAsync(engine, inner, wrapped) {
    if (engine.sync) return unwrapSync(engine, inner, wrapped);
    let handle;
    try {
      handle = await handleFor(engine, inner);
    } catch {
      // The platform refused the key (unusual parameters): the wasm engine takes it.
      return wasmEngine.unwrap(inner, null, wrapped);
    }
    try {
      return outputBytes(await engine.unwrap(handle, wrapped));
    } catch {
      throw new FlowCryptoError(KEY_UNWRAP_MESSAGE, 'key_unwrap', 421);
    }
  }

  /** A decrypted request and the means to answer it. */
  class DecryptedRequest {
    #flow;

    constructor(plaintext, aesKey, iv, keyIndex = 0) {
      let decryptedBody;
      try {
        decryptedBody = JSON.parse(plaintext);
      } catch {
        throw new FlowCryptoError('malformed input: the decrypted payload is not JSON', 'malformed', 421);
      }
      /** The decrypted request, parsed. */
      this.decryptedBody = decryptedBody;
      /** The decrypted JSON text, exactly as sent. */
      this.plaintext = plaintext;
      /** The request's AES-128 key (16 bytes). */
      this.aesKey = aesKey;
      /** The request's IV (16 bytes). */
      this.iv = iv;
      /**
       * Encrypts the answer to this request; returns the base64 body to send as text/plain.
       * An own, bound function rather than a method: `const { decryptedBody, encryptResponse }
       * = await decryptRequest(…)` is how handlers read the result.
       */
      this.encryptResponse = (response) => encryptResponse(response, aesKey, iv);
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

  /**
   * Step two: the engine opens the payload if it can (the core checks the result), else wasm.
   * `sealed` is encrypted_flow_data as platform bytes when the platform decoded the body.
   */
  function open({ request, sealed }, aesKey, engine) {
    try {
      if (!engine?.open) return decrypted(request, aesKey, call(() => request.decryptPayload(aesKey)));
      const data = sealed ?? call(() => request.encryptedFlowData);
      const iv = call(() => request.initialVector);
      let opened;
      try {
        opened = engine.open(aesKey, iv, data.subarray(0, -16), data.subarray(-16));
      } catch {
        opened = undefined; // the core's payload_auth
      }
      return checkedOpen(request, aesKey, opened);
    } finally {
      release(request);
    }
  }

  /** The core's checks on a payload the engine opened (`undefined`: it could not); wipes it. */
  function checkedOpen(request, aesKey, opened) {
    const plaintext = bytesOrUndefined(opened);
    try {
      return decrypted(request, aesKey, call(() => request.decryptPayloadOpened(aesKey, plaintext)));
    } finally {
      plaintext?.fill(0);
      wipe(opened);
    }
  }

  function decrypted(request, aesKey, text) {
    return new DecryptedRequest(text, Uint8Array.from(aesKey), call(() => request.initialVector));
  }

  /** A parsed request, with its encrypted_flow_data as platform bytes if the platform decoded it. */
  function parse(body) {
    const input = jsonInput(body, 'body', requestFields);
    const fields = base64 && envelopeFields(input);
    const decoded = fields?.map(base64);
    if (decoded?.every((field) => field !== null)) {
      const [encryptedFlowData, encryptedAesKey, initialVector] = decoded;
      try {
        const request = call(() => wasm.requestFromParts(encryptedFlowData, encryptedAesKey, initialVector));
        return { request, sealed: encryptedFlowData };
      } catch (error) {
        // The core's parser gives the error, with the same code and message as always.
        if (error?.code === 'internal') throw error;
      }
    }
    return { request: call(() => wasm.parseRequest(input)) };
  }

  /** Step two with an asynchronous engine: it opens the payload, the core checks the result. */
  async function openAsync({ request, sealed }, aesKey, engine) {
    try {
      const iv = call(() => request.initialVector);
      const data = sealed ?? call(() => request.encryptedFlowData);
      let opened;
      try {
        opened = await engine.openAsync(aesKey, iv, data);
      } catch {
        opened = undefined; // the core's payload_auth
      }
      return checkedOpen(request, aesKey, opened);
    } finally {
      release(request);
    }
  }

  /** Decrypts a request body (string, bytes, or parsed object) with the key's engine. */
  function decryptRequest(body, key) {
    try {
      if (key instanceof FlowKeyRing) return Promise.resolve(decryptRing(body, key));
      const [inner, engine] = innerOf(key);
      // A synchronous engine (node:crypto, wasm) runs now: no extra turns of the event loop.
      if (engine.sync) return Promise.resolve(decryptWith(engine, inner, body));
      return decryptAsync(engine, inner, body);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async function decryptAsync(engine, inner, body) {
    const parsed = parse(body);
    let aesKey;
    try {
      aesKey = await unwrapAsync(engine, inner, call(() => parsed.request.encryptedAesKey));
    } catch (error) {
      release(parsed.request);
      throw error;
    }
    if (engine.openAsync) return openAsync(parsed, aesKey, engine);
    return open(parsed, aesKey, engine);
  }

  function decryptWith(engine, inner, body) {
    const parsed = parse(body);
    let aesKey;
    try {
      aesKey = unwrapSync(engine, inner, call(() => parsed.request.encryptedAesKey));
    } catch (error) {
      release(parsed.request);
      throw error;
    }
    return open(parsed, aesKey, engine);
  }

  /** As decryptRequest, synchronously: an asynchronous engine (WebCrypto) is replaced by wasm. */
  function decryptRequestSync(body, key) {
    if (key instanceof FlowKeyRing) return decryptRing(body, key);
    const [inner, engine] = innerOf(key);
    return decryptWith(engine.sync ? engine : wasmEngine, inner, body);
  }

  /** Step one on its own: unwraps `encryptedAesKey` (raw bytes) with the key's engine. */
  async function unwrapAesKey(encryptedAesKey, key) {
    // Both read (and the bytes copied) before the first await.
    const [inner, engine] = innerOf(key);
    const wrapped = bytes(encryptedAesKey, 'encryptedAesKey', { text: false });
    return Uint8Array.from(await unwrapAsync(engine, inner, wrapped));
  }

  /** Step two on its own: opens a request body with an AES key unwrapped elsewhere. */
  function decryptPayload(body, aesKey) {
    const key = bytes(aesKey, 'aesKey', { text: false });
    return open(parse(body), key, engines[defaultEngine]);
  }

  /** Encrypts a response (object → JSON, string, or bytes) with a request's key and IV. */
  function encryptResponse(response, aesKey, iv) {
    // The key and IV are copied before the response's own code (toJSON, getters) runs.
    const key = bytes(aesKey, 'aesKey', { text: false });
    const nonce = bytes(iv, 'iv', { text: false });
    let data;
    if (typeof response === 'string') data = utf8(response, 'response');
    else if (response === undefined) throw new TypeError('response must be an object, a string or a Uint8Array');
    else data = copyBytes(response, 'response') ?? encoder.encode(responseJson(response));
    return call(() => wasm.encryptResponse(data, key, nonce));
  }

  /** Whether `header` (X-Hub-Signature-256) authenticates the raw body with the app secret. */
  function verifySignature(rawBody, header, appSecret) {
    const body = bytes(rawBody, 'rawBody');
    let value;
    if (typeof header === 'string') value = wellFormed(header, 'header');
    else if (header !== undefined && header !== null) {
      throw new TypeError(`header must be the X-Hub-Signature-256 string (or undefined), got ${describe(header)}`);
    }
    if (Array.isArray(appSecret)) {
      const secrets = secretList(appSecret, 'appSecret');
      // Every secret is compared; an empty list or secret is the core's `invalid_configuration`.
      return call(() => wasm.verifySignatureAny(body, value, secrets)) !== undefined;
    }
    const secret = bytes(appSecret, 'appSecret');
    // An empty secret is the core's `invalid_configuration`; any other refusal is `false`.
    return call(() => wasm.verifySignature(body, value, secret));
  }

  // -- data API 4.0, key rotation, the endpoint tier ------------------------------------------

  /** One app secret (string or bytes) or an array of them, as fresh Uint8Array copies. */
  function secretList(value, name) {
    if (!Array.isArray(value)) return [bytes(value, name)];
    const items = Array.prototype.slice.call(value);
    return items.map((item, index) => bytes(item, `${name}[${index}]`));
  }

  /** A `Date` or milliseconds since the epoch, as Unix seconds for the core. */
  function unixSeconds(value, name) {
    let ms = value;
    if (value instanceof Date) ms = Date.prototype.getTime.call(value);
    else if (typeof value !== 'number') {
      throw new TypeError(`${name} must be a Date or milliseconds since the epoch, got ${describe(value)}`);
    }
    if (!Number.isFinite(ms)) throw new TypeError(`${name} must be a finite time, got ${ms}`);
    return ms / 1000;
  }

  function nowOption(options) {
    const now = options?.now;
    return now === undefined ? Date.now() / 1000 : unixSeconds(now, 'now');
  }

  /** The plaintext each request object carries, for verifyFlowTokenSignature. */
  const plaintexts = new WeakMap();

  /** The decrypted request's JSON text (as bytes), from any of the forms it may come in. */
  function requestText(request) {
    if (request !== null && typeof request === 'object' && plaintexts.has(request)) {
      return encoder.encode(plaintexts.get(request));
    }
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

  function flowRequest(view, plaintext) {
    const flow = new FlowRequest(flowToken, view);
    plaintexts.set(flow, plaintext);
    return flow;
  }

  /** The keys of a FlowPrivateKey or FlowKeyRing as PKCS#8 DER, newest first. */
  function dersOf(key, name) {
    if (key instanceof FlowKeyRing) return ringDers(key);
    if (key instanceof FlowPrivateKey) return [innerOf(key)[0].der];
    throw new TypeError(`${name} must be a FlowPrivateKey or a FlowKeyRing, got ${describe(key)}`);
  }

  let ringDers;
  let ringOf;

  /**
   * The business private keys, newest first, for key rotation: a request is decrypted with
   * the first key whose RSA-OAEP unwrap succeeds (the core's ring decides, in wasm), and
   * `keyIndex` on the result says which. An empty list is the core's `invalid_configuration`.
   */
  class FlowKeyRing {
    #ders;
    #inner;
    #generation;

    constructor(keys) {
      if (!Array.isArray(keys)) {
        throw new TypeError(`keys must be an array of FlowPrivateKey (newest first), got ${describe(keys)}`);
      }
      const items = Array.prototype.slice.call(keys);
      items.forEach((item, index) => {
        if (!(item instanceof FlowPrivateKey)) {
          throw new TypeError(`keys[${index}] must be a FlowPrivateKey, got ${describe(item)}`);
        }
      });
      this.#ders = items.map((item) => innerOf(item)[0].der);
      this.#inner = call(() => new wasm.WasmKeyRing(this.#ders));
      this.#generation = generation;
    }

    /** How many keys the ring holds. */
    get length() {
      return this.#ders.length;
    }

    static {
      ringDers = (ring) => ring.#ders;
      ringOf = (ring) => {
        if (ring.#generation !== generation) {
          ring.#inner = call(() => new wasm.WasmKeyRing(ring.#ders));
          ring.#generation = generation;
        }
        return ring.#inner;
      };
    }

    get [Symbol.toStringTag]() {
      return 'FlowKeyRing';
    }
  }

  function decryptRing(body, ring) {
    const input = jsonInput(body, 'body', requestFields);
    const inner = ringOf(ring);
    const decryptedRequest = call(() => inner.decryptRequest(input));
    try {
      const plaintext = call(() => decryptedRequest.plaintext);
      const aesKey = call(() => decryptedRequest.aesKey);
      const iv = call(() => decryptedRequest.iv);
      return new DecryptedRequest(plaintext, aesKey, iv, call(() => decryptedRequest.keyIndex));
    } finally {
      release(decryptedRequest);
    }
  }

  /** The bytes of an answer: a string as it is, bytes as they are, an object as JSON. */
  function answerBytes(answer, name) {
    if (typeof answer === 'string') return utf8(answer, name);
    if (answer === undefined) throw new TypeError(`${name} must be an object, a string or a Uint8Array`);
    return copyBytes(answer, name) ?? encoder.encode(responseJson(answer));
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
      const data = answerBytes(answer, 'answer');
      return call(() => wasm.encryptResponse(data, this.#aesKey, this.#iv));
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

  /**
   * Everything a Flows endpoint does with one POST, in the core's order: the
   * X-Hub-Signature-256 header (432), decryption with the key or ring (421), the flow request
   * (421), the flow token signature (427). Runs in the core (wasm).
   */
  class FlowEndpoint {
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
      this.#secrets = appSecret === undefined || appSecret === null ? undefined : secretList(appSecret, 'appSecret');
      if (typeof flowTokenSignature !== 'string') {
        throw new TypeError(
          `flowTokenSignature must be "if_present", "required" or "off", got ${describe(flowTokenSignature)}`,
        );
      }
      this.#policy = wellFormed(flowTokenSignature, 'flowTokenSignature');
      this.#inner = call(() => new wasm.WasmEndpoint(this.#ders, this.#secrets, this.#policy));
      this.#generation = generation;
    }

    #current() {
      if (this.#generation !== generation) {
        this.#inner = call(() => new wasm.WasmEndpoint(this.#ders, this.#secrets, this.#policy));
        this.#generation = generation;
      }
      return this.#inner;
    }

    /**
     * Opens one POST: `rawBody` as received (string or bytes: the signature covers these exact
     * bytes), `header` the X-Hub-Signature-256 value (undefined when absent), `options.now` a
     * Date or milliseconds (default Date.now()). Rejects with FlowCryptoError whose
     * `httpStatus` is the answer.
     */
    open(rawBody, header, options = {}) {
      try {
        const body = requestBody(rawBody);
        let value;
        if (typeof header === 'string') value = wellFormed(header, 'header');
        else if (header !== undefined && header !== null) {
          throw new TypeError(`header must be the X-Hub-Signature-256 string (or undefined), got ${describe(header)}`);
        }
        const now = nowOption(options);
        const inner = this.#current();
        const opened = call(() => inner.open(body, value, now));
        try {
          return Promise.resolve(new OpenedRequest(openedToken, opened));
        } finally {
          release(opened);
        }
      } catch (error) {
        return Promise.reject(error);
      }
    }

    get [Symbol.toStringTag]() {
      return 'FlowEndpoint';
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
   * Streaming media decryption in constant memory, usable directly (`update`/`finish`) or as
   * a Web Streams TransformStream (`response.body.pipeThrough(new MediaDecryptor(meta))`).
   * Released plaintext is unverified until `finish` returns (the stream errors on a failed
   * final check).
   */
  class MediaDecryptor extends TransformStream {
    #inner;
    #generation;
    #processed = 0;

    constructor(encryptionMetadata) {
      const metadata = jsonInput(encryptionMetadata, 'encryptionMetadata', mediaMetadataFields);
      const inner = call(() => new wasm.WasmMediaDecryptor(metadata));
      let self;
      super({
        transform(chunk, controller) {
          const out = self.update(chunk);
          if (out.length > 0) controller.enqueue(out);
        },
        flush(controller) {
          const out = self.finish();
          if (out.length > 0) controller.enqueue(out);
        },
      });
      self = this;
      this.#inner = inner;
      this.#generation = generation;
    }

    /** The wasm decryptor, if it is still in the current instance. */
    #live() {
      if (this.#generation !== generation) throw new FlowCryptoError(STALE_MESSAGE, 'internal', 500);
      return this.#inner;
    }

    /** Feeds the next chunk of the CDN file; returns the (unverified) plaintext it releases. */
    update(chunk) {
      const data = bytes(chunk, 'chunk', { text: false });
      const inner = this.#live();
      this.#processed += data.length;
      if (data.length <= SLICE) return call(() => inner.update(data));
      const parts = [];
      let total = 0;
      for (let at = 0; at < data.length; at += SLICE) {
        const part = call(() => inner.update(data.subarray(at, at + SLICE)));
        parts.push(part);
        total += part.length;
      }
      const out = new Uint8Array(total);
      let at = 0;
      for (const part of parts) {
        out.set(part, at);
        at += part.length;
      }
      return out;
    }

    /**
     * Runs every check; returns the last plaintext bytes, or throws FlowCryptoError. After it,
     * `update` and `finish` throw the core's `already_finished` (the wasm object, now empty,
     * stays until collected to say so).
     */
    finish() {
      const inner = this.#live();
      return call(() => inner.finish());
    }

    /** Bytes of the CDN file fed so far. */
    get bytesProcessed() {
      return this.#processed;
    }
  }

  const mediaEngineNames = Object.freeze(platformMedia ? [platformMedia.name, 'wasm'] : ['wasm']);

  /**
   * Decrypts and verifies a whole CDN file. Returns the plaintext only if every check passed.
   * `options.engine` picks the engine (`mediaEngines`; the platform's by default, else wasm).
   */
  async function decryptMediaContent(cdnFile, encryptionMetadata, options = {}) {
    const engine = options?.engine ?? mediaEngineNames[0];
    if (!mediaEngineNames.includes(engine)) {
      const named = typeof engine === 'string' ? JSON.stringify(engine) : describe(engine);
      throw new TypeError(`unknown media engine ${named}; available: ${mediaEngineNames.join(', ')}`);
    }
    const file = bytes(cdnFile, 'cdnFile', { text: false });
    if (engine === 'wasm') return decryptMediaWasm(file, encryptionMetadata);
    return decryptMediaPlatform(platformMedia, file, encryptionMetadata);
  }

  /** The wasm engine: the streaming decryptor over slices, so wasm memory stays small. */
  function decryptMediaWasm(file, encryptionMetadata) {
    const metadata = jsonInput(encryptionMetadata, 'encryptionMetadata', mediaMetadataFields);
    const decryptor = call(() => new wasm.WasmMediaDecryptor(metadata));
    const out = new Uint8Array(file.length);
    let at = 0;
    try {
      for (let start = 0; start < file.length; start += SLICE) {
        const part = call(() => decryptor.update(file.subarray(start, start + SLICE)));
        out.set(part, at);
        at += part.length;
      }
      const last = call(() => decryptor.finish());
      out.set(last, at);
      at += last.length;
    } catch (error) {
      out.fill(0);
      throw error;
    } finally {
      release(decryptor);
    }
    return out.subarray(0, at);
  }

  /**
   * A platform engine computes the primitives; the core parses the metadata and runs every
   * check on their outputs, in the protocol's order (media::checks in the core).
   */
  function decryptMediaPlatform(engine, file, encryptionMetadata) {
    const input = jsonInput(encryptionMetadata, 'encryptionMetadata', mediaMetadataFields);
    const metadata = call(() => new wasm.WasmMediaMetadata(input));
    const secrets = [];
    let padded;
    try {
      const ciphertextLength = call(() => wasm.mediaCiphertextLength(file.length));
      const ciphertext = file.subarray(0, ciphertextLength);
      const tag = file.subarray(ciphertextLength);
      const iv = call(() => metadata.iv);
      const fileHash = outputBytes(engine.sha256(file));
      call(() => metadata.checkEncryptedHash(fileHash));
      const hmacKey = call(() => metadata.hmacKey);
      secrets.push(hmacKey);
      const mac = outputBytes(engine.hmacSha256(hmacKey, iv, ciphertext));
      call(() => metadata.checkMac(mac, tag));
      const encryptionKey = call(() => metadata.encryptionKey);
      secrets.push(encryptionKey);
      padded = engine.aes256CbcNoPadding(encryptionKey, iv, ciphertext);
      const lastBlock = outputBytes(padded.subarray(ciphertextLength - 16, ciphertextLength));
      secrets.push(lastBlock);
      const length = ciphertextLength - 16 + call(() => wasm.mediaCheckPadding(lastBlock));
      const plaintext = padded.subarray(0, length);
      const plaintextHash = outputBytes(engine.sha256(plaintext));
      call(() => metadata.checkPlaintextHash(plaintextHash));
      return plaintext;
    } catch (error) {
      padded?.fill(0);
      throw error;
    } finally {
      for (const secret of secrets) secret.fill(0);
      release(metadata);
    }
  }

  return {
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
    mediaEngines: mediaEngineNames,
    verifySignature,
    verifyFlowTokenSignature,
    signFlowToken,
    FlowKeyRing,
    FlowRequest,
    FlowEndpoint,
    OpenedRequest,
    PING_RESPONSE,
    ERROR_ACKNOWLEDGEMENT,
  };
}
