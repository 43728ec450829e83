// The business private key (FlowPrivateKey) and key rotation (FlowKeyRing). The core parses
// and holds every key; this file keeps each key's PKCS#8 DER to re-import it into a fresh
// instance after a trap and to hand it to a platform RSA engine.

import { bytes, describe, optionalBytes } from './input.mjs';

/**
 * @param {ReturnType<import('./runtime.mjs').createRuntime>} rt
 * @param {object} options
 * @param {Record<string, object>} options.engines the platform's RSA engines by name
 * @param {string} options.defaultEngine the engine new keys use
 */
export function createKeys(rt, { engines: platformEngines, defaultEngine }) {
  const { wasm, call } = rt;

  /**
   * One loaded key: the core's parsed key in the current instance, and its PKCS#8 DER.
   * Shared by every `withEngine` copy of a FlowPrivateKey.
   */
  class KeyMaterial {
    constructor(inner) {
      this.inner = inner;
      this.generation = rt.generation;
      this.der = call(() => inner.privateKeyDer());
      /** The platform handles (KeyObject, CryptoKey promise) by engine, made on first use. */
      this.handles = new Map();
    }

    /** The parsed key in the current instance. */
    current() {
      if (this.generation !== rt.generation) {
        this.inner = call(() => wasm.WasmPrivateKey.fromDer(this.der, undefined));
        this.generation = rt.generation;
      }
      return this.inner;
    }
  }

  /** The portable engine: the core's own RSA-OAEP, in wasm. */
  const wasmEngine = {
    name: 'wasm',
    sync: true,
    prepare: () => null,
    unwrap: (material, _handle, wrapped) => call(() => material.current().unwrapAesKey(wrapped)),
  };
  const engines = { ...platformEngines, wasm: wasmEngine };
  const engineNames = Object.freeze(Object.keys(engines));

  /** The platform handle of a key for `engine` (made once per key and engine). */
  function handleFor(engine, material) {
    if (!material.handles.has(engine.name)) material.handles.set(engine.name, engine.prepare(material.der));
    return material.handles.get(engine.name);
  }

  const keyToken = Symbol('FlowPrivateKey');
  let materialOf;
  let loaded;

  /** The business RSA private key. Parse it once at start-up and share it. */
  class FlowPrivateKey {
    #material;
    #engine;

    constructor(token, material, engine) {
      if (token !== keyToken) {
        throw new TypeError('use FlowPrivateKey.fromPem, fromDer or generate');
      }
      this.#material = material;
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
     * Generates a new key: by default of the core's size (what WhatsApp expects), else of
     * `bits`, a size the core generates. The core refuses every other number (negative,
     * fractional, NaN, 2^32 + 2048, …) as `invalid_key`; a BigInt is refused the same way (it
     * is never converted).
     */
    static generate(bits) {
      if (bits !== undefined && typeof bits !== 'number' && typeof bits !== 'bigint') {
        throw new TypeError(`bits must be a number (2048, 3072 or 4096), got ${describe(bits)}`);
      }
      const size = typeof bits === 'bigint' ? Number.NaN : bits;
      return loaded(() => wasm.WasmPrivateKey.generate(size));
    }

    /** The RSA engines this build can use, the default first. */
    static get engines() {
      return [defaultEngine, ...engineNames.filter((name) => name !== defaultEngine)];
    }

    /** The public key as SPKI PEM: what to upload to Meta. */
    publicKeyPem() {
      return call(() => this.#material.current().publicKeyPem());
    }

    /** The public key as SPKI DER (the bytes publicKeyFingerprint hashes). */
    publicKeyDer() {
      return call(() => this.#material.current().publicKeyDer());
    }

    /** SHA-256 of the public key's SPKI DER, lowercase hex. */
    publicKeyFingerprint() {
      return call(() => this.#material.current().publicKeyFingerprint());
    }

    /** The private key as PKCS#8 PEM; encrypted (PBES2, AES-256-CBC) with a passphrase. */
    privateKeyPem(passphrase) {
      const secret = optionalBytes(passphrase, 'passphrase');
      return call(() => this.#material.current().privateKeyPem(secret));
    }

    /** The modulus size in bits. */
    get bits() {
      return call(() => this.#material.current().bits);
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
      return new FlowPrivateKey(keyToken, this.#material, engine);
    }

    static {
      // Module-private access for the other nouns.
      materialOf = (key) => {
        if (!(key instanceof FlowPrivateKey)) {
          throw new TypeError('key must be a FlowPrivateKey (FlowPrivateKey.fromPem(pem, passphrase))');
        }
        return [key.#material, engines[key.#engine]];
      };
      loaded = (load) => new FlowPrivateKey(keyToken, new KeyMaterial(call(load)), defaultEngine);
    }

    get [Symbol.toStringTag]() {
      return 'FlowPrivateKey';
    }
  }

  let ringDers;
  let ringOf;
  let ringKeys;

  /**
   * The business private keys, newest first, for key rotation: a request is decrypted with
   * the first key whose RSA-OAEP unwrap succeeds (the core's ring decides, in wasm), and
   * `keyIndex` on the result says which. An empty list is the core's `invalid_configuration`.
   */
  class FlowKeyRing {
    #keys;
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
      this.#keys = Object.freeze(items);
      this.#ders = items.map((item) => materialOf(item)[0].der);
      this.#inner = call(() => new wasm.WasmKeyRing(this.#ders));
      this.#generation = rt.generation;
    }

    /** How many keys the ring holds. */
    get length() {
      return this.#ders.length;
    }

    static {
      ringDers = (ring) => ring.#ders;
      ringKeys = (ring) => ring.#keys;
      ringOf = (ring) => {
        if (ring.#generation !== rt.generation) {
          ring.#inner = call(() => new wasm.WasmKeyRing(ring.#ders));
          ring.#generation = rt.generation;
        }
        return ring.#inner;
      };
    }

    get [Symbol.toStringTag]() {
      return 'FlowKeyRing';
    }
  }

  /** The keys of a FlowPrivateKey or FlowKeyRing as PKCS#8 DER, newest first. */
  function dersOf(key, name) {
    if (key instanceof FlowKeyRing) return ringDers(key);
    if (key instanceof FlowPrivateKey) return [materialOf(key)[0].der];
    throw new TypeError(`${name} must be a FlowPrivateKey or a FlowKeyRing, got ${describe(key)}`);
  }

  return {
    FlowPrivateKey,
    FlowKeyRing,
    materialOf,
    ringOf,
    ringKeys,
    dersOf,
    handleFor,
    engines,
    wasmEngine,
    defaultEngine: engines[defaultEngine],
  };
}
