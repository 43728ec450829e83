// The WebCrypto engine: RSA-OAEP unwrap and AES-128-GCM open in the platform, every check in
// the core. Used by the worker and browser entry points, and selectable in Node.

/** The engine over a SubtleCrypto. */
export function webCryptoEngine(subtle) {
  return {
    name: 'webcrypto',
    sync: false,
    prepare: (der) => subtle.importKey('pkcs8', der, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']),
    unwrap: (cryptoKey, wrapped) => subtle.decrypt({ name: 'RSA-OAEP' }, cryptoKey, wrapped),
    // AES-128-GCM with the request's 16-byte IV over ciphertext ‖ tag; rejects if the tag does
    // not verify. The core checks the key length and the result.
    openAsync: async (aesKey, iv, sealed) => {
      const key = await subtle.importKey('raw', aesKey, 'AES-GCM', false, ['decrypt']);
      return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv }, key, sealed));
    },
  };
}

/**
 * Standard base64 decoded by the platform (`Uint8Array.fromBase64`, ES2026), when `text` is
 * the canonical encoding of the result; anything else gets `null` and goes to the core's
 * parser. Strict last-chunk handling refuses missing padding and non-zero trailing bits; the
 * decoder skips ASCII whitespace, which the length check refuses. `undefined` where the
 * platform lacks it.
 */
export const webCanonicalBase64 =
  typeof Uint8Array.fromBase64 === 'function'
    ? (text) => {
        if (text.length % 4 !== 0) return null;
        let bytes;
        try {
          bytes = Uint8Array.fromBase64(text, { lastChunkHandling: 'strict' });
        } catch {
          return null;
        }
        const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
        return bytes.length === (text.length / 4) * 3 - padding ? bytes : null;
      }
    : undefined;

/** The engines for the worker and browser entry points. */
export function webEngines() {
  const subtle = globalThis.crypto?.subtle;
  const base64 = webCanonicalBase64;
  if (!subtle) return { engines: {}, defaultEngine: 'wasm', base64 };
  return { engines: { webcrypto: webCryptoEngine(subtle) }, defaultEngine: 'webcrypto', base64 };
}
