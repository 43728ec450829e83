// Media files: decryption (decryptMediaContent, MediaDecryptor) and verification without
// decryption (MediaVerifier). The core parses the metadata and runs every check, in the
// protocol's order; a platform engine computes only SHA-256, HMAC-SHA256 and AES-256-CBC.

import { outputBytes } from './engines/output.mjs';
import { bytes, describe, jsonInput } from './input.mjs';

/** Media chunks are fed to wasm at most this large, so linear memory stays small. */
const SLICE = 1 << 20;

/**
 * @param {ReturnType<import('./runtime.mjs').createRuntime>} rt
 * @param {{ media?: object }} options a platform media engine: `{ name, sha256(bytes),
 *   hmacSha256(key, iv, ciphertext), aes256CbcNoPadding(key, iv, ciphertext) }`, the default
 *   for `decryptMediaContent`
 */
export function createMedia(rt, { media: platformMedia }) {
  const { wasm, call, release } = rt;
  const mediaMetadataFields = Object.freeze(call(() => wasm.mediaMetadataFields()));
  const metadataInput = (value) => jsonInput(value, 'encryptionMetadata', mediaMetadataFields);

  /** Feeds `data` to `update` in slices; returns what each released. */
  function sliced(data, update) {
    const parts = [];
    for (let at = 0; at < data.length; at += SLICE) parts.push(update(data.subarray(at, at + SLICE)));
    return parts;
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
      const metadata = metadataInput(encryptionMetadata);
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
      this.#generation = rt.generation;
    }

    /** The wasm decryptor, if it is still in the current instance. */
    #live() {
      if (this.#generation !== rt.generation) throw rt.internalError(true);
      return this.#inner;
    }

    /** Feeds the next chunk of the CDN file; returns the (unverified) plaintext it releases. */
    update(chunk) {
      const data = bytes(chunk, 'chunk', { text: false });
      const inner = this.#live();
      this.#processed += data.length;
      if (data.length <= SLICE) return call(() => inner.update(data));
      const parts = sliced(data, (slice) => call(() => inner.update(slice)));
      const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
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

  /**
   * Streaming verification of a CDN file (its hash and MAC) without decrypting it, usable
   * directly (`update`/`finish`) or as a Web Streams WritableStream
   * (`response.body.pipeTo(new MediaVerifier(meta))`, which rejects if a check fails).
   */
  class MediaVerifier extends WritableStream {
    #inner;
    #generation;

    constructor(encryptionMetadata) {
      const metadata = metadataInput(encryptionMetadata);
      const inner = call(() => new wasm.WasmMediaVerifier(metadata));
      let self;
      super({
        write(chunk) {
          self.update(chunk);
        },
        close() {
          self.finish();
        },
      });
      self = this;
      this.#inner = inner;
      this.#generation = rt.generation;
    }

    #live() {
      if (this.#generation !== rt.generation) throw rt.internalError(true);
      return this.#inner;
    }

    /** Feeds the next chunk of the CDN file. */
    update(chunk) {
      const data = bytes(chunk, 'chunk', { text: false });
      const inner = this.#live();
      if (data.length <= SLICE) call(() => inner.update(data));
      else sliced(data, (slice) => call(() => inner.update(slice)));
    }

    /**
     * Runs the checks (lengths, file hash, MAC); throws FlowCryptoError if the file is not
     * authentic. After it, `update` and `finish` throw the core's `already_finished`.
     */
    finish() {
      const inner = this.#live();
      call(() => inner.finish());
    }
  }

  const mediaEngines = Object.freeze(platformMedia ? [platformMedia.name, 'wasm'] : ['wasm']);

  /**
   * Decrypts and verifies a whole CDN file. Returns the plaintext only if every check passed.
   * `options.engine` picks the engine (`mediaEngines`; the platform's by default, else wasm).
   */
  async function decryptMediaContent(cdnFile, encryptionMetadata, options = {}) {
    const engine = options?.engine ?? mediaEngines[0];
    if (!mediaEngines.includes(engine)) {
      const named = typeof engine === 'string' ? JSON.stringify(engine) : describe(engine);
      throw new TypeError(`unknown media engine ${named}; available: ${mediaEngines.join(', ')}`);
    }
    const file = bytes(cdnFile, 'cdnFile', { text: false });
    if (engine === 'wasm') return decryptMediaWasm(file, encryptionMetadata);
    return decryptMediaPlatform(platformMedia, file, encryptionMetadata);
  }

  /** The wasm engine: the streaming decryptor over slices, so wasm memory stays small. */
  function decryptMediaWasm(file, encryptionMetadata) {
    const metadata = metadataInput(encryptionMetadata);
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
   * A platform engine computes the primitives; the core parses the metadata, splits the file
   * and runs every check on their outputs, in the protocol's order (media::checks in the core).
   */
  function decryptMediaPlatform(engine, file, encryptionMetadata) {
    const input = metadataInput(encryptionMetadata);
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
      const lastBlockStart = call(() => wasm.mediaLastBlockStart(ciphertextLength));
      const lastBlock = outputBytes(padded.subarray(lastBlockStart, ciphertextLength));
      secrets.push(lastBlock);
      const length = lastBlockStart + call(() => wasm.mediaCheckPadding(lastBlock));
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

  return { MediaDecryptor, MediaVerifier, decryptMediaContent, mediaEngines };
}
