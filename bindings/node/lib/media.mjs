// Media files: decryption (decryptMediaContent, MediaDecryptor) and verification without
// decryption (MediaVerifier). The core parses the metadata and runs every check, in the
// protocol's order; a platform engine computes only SHA-256, HMAC-SHA256 and AES-256-CBC.

import { outputBytes, wipe } from './engines/output.mjs';
import { bytes, describe, jsonInput, viewBytes } from './input.mjs';

/** Media chunks are fed to wasm at most this large, so linear memory stays small. */
const SLICE = 1 << 20;

/**
 * @param {ReturnType<import('./runtime.mjs').createRuntime>} rt
 * @param {{ media?: object }} options a platform media engine, the default for
 *   `decryptMediaContent` and `MediaDecryptor`: `{ name, sha256(bytes), hmacSha256(key, iv,
 *   ciphertext), aes256CbcNoPadding(key, iv, ciphertext), stream(encryptionKey, hmacKey, iv) }`,
 *   where a stream is `{ file(bytes), ciphertext(bytes) → plaintext, plaintext(bytes), fileHash(),
 *   mac(lastBlock), lastBlock(lastBlock) → padded plaintext, plaintextHash(unpadded tail) }`:
 *   `file` is fed every byte, `ciphertext` the ciphertext to authenticate and decrypt, in order,
 *   `plaintext` what was released, to hash, and the last four end the file
 */
export function createMedia(rt, { media: platformMedia }) {
  const { wasm, call, release } = rt;
  const mediaMetadataFields = Object.freeze(call(() => wasm.mediaMetadataFields()));
  const metadataInput = (value) => jsonInput(value, 'encryptionMetadata', mediaMetadataFields);

  /**
   * Feeds `data` to `update` in slices, and an empty chunk as itself (so a finished stream
   * still says `already_finished`); returns what each released.
   */
  function sliced(data, update) {
    const parts = [update(data.subarray(0, SLICE))];
    for (let at = SLICE; at < data.length; at += SLICE) parts.push(update(data.subarray(at, at + SLICE)));
    return parts;
  }

  /**
   * Streaming media decryption in constant memory, usable directly (`update`/`finish`) or as
   * a Web Streams TransformStream (`response.body.pipeThrough(new MediaDecryptor(meta))`).
   * Released plaintext is unverified until `finish` returns (the stream errors on a failed
   * final check). `options.engine` picks the engine, as for `decryptMediaContent`.
   */
  class MediaDecryptor extends TransformStream {
    #stream;
    #generation;
    #processed = 0;

    constructor(encryptionMetadata, options = {}) {
      const engine = pickEngine(options);
      const stream =
        engine === 'wasm' ? wasmStream(encryptionMetadata) : platformStream(platformMedia, encryptionMetadata);
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
      this.#stream = stream;
      this.#generation = rt.generation;
    }

    /** The stream, if its wasm objects are still in the current instance. */
    #live() {
      if (this.#generation !== rt.generation) throw rt.internalError(true);
      return this.#stream;
    }

    /** Feeds the next chunk of the CDN file; returns the (unverified) plaintext it releases. */
    update(chunk) {
      const data = viewBytes(chunk, 'chunk');
      const stream = this.#live();
      const parts = sliced(data, stream.update);
      this.#processed += data.length;
      return parts.length === 1 ? parts[0] : joined(parts);
    }

    /**
     * Runs every check; returns the last plaintext bytes, or throws FlowCryptoError. After it,
     * `update` and `finish` throw the core's `already_finished` (the wasm object, now empty,
     * stays until collected to say so).
     */
    finish() {
      return this.#live().finish();
    }

    /** Bytes of the CDN file fed so far. */
    get bytesProcessed() {
      return this.#processed;
    }
  }

  /** The wasm engine's stream: the core's MediaDecryptor. */
  function wasmStream(encryptionMetadata) {
    const metadata = metadataInput(encryptionMetadata);
    const inner = call(() => new wasm.WasmMediaDecryptor(metadata));
    return {
      update: (slice) => call(() => inner.update(slice)),
      finish: () => call(() => inner.finish()),
    };
  }

  /**
   * A platform engine's stream: the core's MediaStreamSplit says which bytes are ciphertext to
   * process now and which to hold back (the MAC and the last, padded block); the platform
   * computes; the core runs the final checks on its outputs (finalChecks).
   */
  function platformStream(engine, encryptionMetadata) {
    const input = metadataInput(encryptionMetadata);
    const metadata = call(() => new wasm.WasmMediaMetadata(input));
    const split = call(() => new wasm.WasmMediaStreamSplit());
    const encryptionKey = call(() => metadata.encryptionKey);
    const hmacKey = call(() => metadata.hmacKey);
    let primitives;
    try {
      primitives = engine.stream(encryptionKey, hmacKey, call(() => metadata.iv));
    } finally {
      encryptionKey.fill(0);
      hmacKey.fill(0);
    }
    let held = new Uint8Array(0);
    return {
      update(slice) {
        const released = call(() => split.update(slice.length));
        primitives.file(slice);
        const fromHeld = Math.min(released, held.length);
        const ciphertext =
          fromHeld === 0
            ? slice.subarray(0, released)
            : joined([held.subarray(0, fromHeld), slice.subarray(0, released - fromHeld)]);
        held = joined([held.subarray(fromHeld), slice.subarray(released - fromHeld)]);
        if (released === 0) return new Uint8Array(0);
        const plaintext = releasedBytes(primitives.ciphertext(ciphertext));
        // Hashed as released, so the final check covers exactly what the caller got.
        primitives.plaintext(plaintext);
        return plaintext;
      },
      finish() {
        try {
          const lastBlockLength = call(() => split.finish());
          const lastBlock = held.subarray(0, lastBlockLength);
          let padded;
          try {
            return finalChecks(metadata, {
              fileHash: () => primitives.fileHash(),
              mac: () => primitives.mac(lastBlock),
              tag: held.subarray(lastBlockLength),
              lastBlock: () => {
                const output = primitives.lastBlock(lastBlock);
                padded = outputBytes(output);
                wipe(output);
                return padded;
              },
              plaintextHash: (kept) => primitives.plaintextHash(padded.subarray(0, kept)),
            }).slice();
          } finally {
            padded?.fill(0);
          }
        } finally {
          release(metadata);
        }
      },
    };
  }

  /**
   * The core's checks after the whole file, in the protocol's order (file hash, MAC, padding,
   * plaintext hash), on what a platform engine computes when asked; returns the unpadded last
   * block (a view of `lastBlock()`'s output).
   */
  function finalChecks(metadata, { fileHash, mac, tag, lastBlock, plaintextHash }) {
    call(() => metadata.checkEncryptedHash(outputBytes(fileHash())));
    call(() => metadata.checkMac(outputBytes(mac()), tag));
    const block = lastBlock();
    const kept = call(() => wasm.mediaCheckPadding(block));
    call(() => metadata.checkPlaintextHash(outputBytes(plaintextHash(kept))));
    return block.subarray(0, kept);
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
      const data = viewBytes(chunk, 'chunk');
      const inner = this.#live();
      sliced(data, (slice) => call(() => inner.update(slice)));
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

  /** The media engine `options.engine` names: the platform's by default, else wasm. */
  function pickEngine(options) {
    const engine = options?.engine ?? mediaEngines[0];
    if (!mediaEngines.includes(engine)) {
      const named = typeof engine === 'string' ? JSON.stringify(engine) : describe(engine);
      throw new TypeError(`unknown media engine ${named}; available: ${mediaEngines.join(', ')}`);
    }
    return engine;
  }

  /**
   * Decrypts and verifies a whole CDN file. Returns the plaintext only if every check passed.
   * `options.engine` picks the engine (`mediaEngines`; the platform's by default, else wasm).
   */
  async function decryptMediaContent(cdnFile, encryptionMetadata, options = {}) {
    const engine = pickEngine(options);
    // A copy: the metadata's getters, which run after this, may change the caller's buffer.
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
   * The ciphertext is decrypted only once the MAC has passed.
   */
  function decryptMediaPlatform(engine, file, encryptionMetadata) {
    const input = metadataInput(encryptionMetadata);
    const metadata = call(() => new wasm.WasmMediaMetadata(input));
    const secrets = [];
    let padded;
    try {
      const ciphertextLength = call(() => wasm.mediaCiphertextLength(file.length));
      const ciphertext = file.subarray(0, ciphertextLength);
      const iv = call(() => metadata.iv);
      const lastBlockStart = call(() => wasm.mediaLastBlockStart(ciphertextLength));
      const kept = finalChecks(metadata, {
        fileHash: () => engine.sha256(file),
        mac: () => {
          const hmacKey = call(() => metadata.hmacKey);
          secrets.push(hmacKey);
          return engine.hmacSha256(hmacKey, iv, ciphertext);
        },
        tag: file.subarray(ciphertextLength),
        lastBlock: () => {
          const encryptionKey = call(() => metadata.encryptionKey);
          secrets.push(encryptionKey);
          padded = engine.aes256CbcNoPadding(encryptionKey, iv, ciphertext);
          const lastBlock = outputBytes(padded.subarray(lastBlockStart, ciphertextLength));
          secrets.push(lastBlock);
          return lastBlock;
        },
        plaintextHash: (length) => engine.sha256(padded.subarray(0, lastBlockStart + length)),
      });
      return padded.subarray(0, lastBlockStart + kept.length);
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

/** One array of the parts' bytes, in order. */
function joined(parts) {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Released plaintext from a platform engine: its own array if it is a plain one, else a copy. */
function releasedBytes(value) {
  return value instanceof Uint8Array && value.constructor === Uint8Array ? value : outputBytes(value);
}
