// The node:crypto engines (OpenSSL): the RSA unwrap and AES-128-GCM of a request and of its
// response, SHA-256, HMAC-SHA256 and AES-256-CBC of a media file, and Node's base64 decoder. They
// compute; the core checks every output.
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  privateDecrypt,
} from 'node:crypto';

export const nodeEngine = {
  name: 'node',
  sync: true,
  prepare: (der) => createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' }),
  unwrap: (keyObject, wrapped) =>
    privateDecrypt({ key: keyObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrapped),
  // AES-128-GCM with the request's IV, ciphertext and tag as the core split them; throws if
  // the tag does not verify.
  open: (aesKey, iv, ciphertext, tag) => {
    const decipher = createDecipheriv('aes-128-gcm', aesKey, iv);
    decipher.setAuthTag(tag);
    const head = decipher.update(ciphertext);
    const tail = decipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  },
};

export const nodeResponseEngine = {
  // AES-128-GCM with the IV the core derived; the body is base64(ciphertext ‖ tag). Text is
  // well-formed, so its UTF-8 is exact.
  seal: (aesKey, responseIv, plaintext) => {
    const cipher = createCipheriv('aes-128-gcm', aesKey, responseIv);
    const head = typeof plaintext === 'string' ? cipher.update(plaintext, 'utf8') : cipher.update(plaintext);
    const tail = cipher.final();
    return Buffer.concat([head, tail, cipher.getAuthTag()]).toString('base64');
  },
};

/** A Buffer as a plain Uint8Array over its own memory (copied if it shares a pooled slab). */
function own(buffer) {
  if (buffer.byteOffset === 0 && buffer.buffer.byteLength === buffer.length) {
    return new Uint8Array(buffer.buffer, 0, buffer.length);
  }
  const copy = Uint8Array.from(buffer);
  buffer.fill(0);
  return copy;
}

export const nodeMediaEngine = {
  name: 'node',
  sha256: (data) => createHash('sha256').update(data).digest(),
  hmacSha256: (key, iv, ciphertext) => createHmac('sha256', key).update(iv).update(ciphertext).digest(),
  // The padding stays on: the core checks it.
  aes256CbcNoPadding: (key, iv, ciphertext) => {
    const decipher = createDecipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
    const head = decipher.update(ciphertext);
    const tail = decipher.final();
    return own(tail.length === 0 ? head : Buffer.concat([head, tail]));
  },
  // One streaming pass; the core decides what is ciphertext, what is held back, and whether
  // the digests pass.
  stream: (encryptionKey, hmacKey, iv) => {
    const fileHash = createHash('sha256');
    const mac = createHmac('sha256', hmacKey).update(iv);
    const decipher = createDecipheriv('aes-256-cbc', encryptionKey, iv).setAutoPadding(false);
    const plaintextHash = createHash('sha256');
    return {
      file: (bytes) => {
        fileHash.update(bytes);
      },
      ciphertext: (bytes) => {
        mac.update(bytes);
        return own(decipher.update(bytes));
      },
      plaintext: (bytes) => {
        plaintextHash.update(bytes);
      },
      fileHash: () => fileHash.digest(),
      mac: (lastBlock) => mac.update(lastBlock).digest(),
      lastBlock: (lastBlock) => own(decipher.update(lastBlock)),
      plaintextHash: (tail) => plaintextHash.update(tail).digest(),
    };
  },
};

/**
 * Standard base64 decoded by Node, when `text` is the canonical encoding of the result;
 * anything else gets `null` and goes to the core's stricter parser. Node's decoder skips
 * characters outside its alphabet and stops at `=`, so a decoded length of exactly three
 * bytes per four characters, less the padding, proves that every character decoded; the
 * URL-safe `-` and `_` (which Node accepts) are refused, and re-encoding the last group
 * refuses non-zero trailing bits.
 */
export const nodeCanonicalBase64 = (text) => {
  if (text.length % 4 !== 0 || text.includes('-') || text.includes('_')) return null;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== (text.length / 4) * 3 - padding) return null;
  if (bytes.length > 0 && bytes.subarray(bytes.length - (3 - padding)).toString('base64') !== text.slice(-4)) {
    return null;
  }
  return bytes;
};

/** Bytes the core has checked to be UTF-8, as text: Node's decoder, without validating again. */
export const nodeDecodeUtf8 = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
