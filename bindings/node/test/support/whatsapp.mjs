// The WhatsApp client's side, written independently with node:crypto (OpenSSL): what the
// tests use to play WhatsApp against the package.
import { constants, createCipheriv, createDecipheriv, createHash, createHmac, publicEncrypt, randomBytes } from 'node:crypto';

/** Encrypts `plaintext` for `publicKeyPem` the way WhatsApp does; returns the body and secrets. */
export function sealRequest(publicKeyPem, plaintext) {
  const aesKey = randomBytes(16);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-gcm', aesKey, iv);
  const encrypted = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  const wrapped = publicEncrypt(
    { key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    aesKey,
  );
  const body = {
    encrypted_flow_data: encrypted.toString('base64'),
    encrypted_aes_key: wrapped.toString('base64'),
    initial_vector: iv.toString('base64'),
  };
  return { body, aesKey, iv };
}

/** Opens an endpoint's response (base64 of AES-128-GCM with the inverted IV). */
export function openResponse(responseBody, aesKey, iv) {
  const data = Buffer.from(responseBody, 'base64');
  const flipped = Buffer.from(iv.map((byte) => byte ^ 0xff));
  const decipher = createDecipheriv('aes-128-gcm', aesKey, flipped);
  decipher.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8');
}

/** The X-Hub-Signature-256 header Meta sends with `rawBody`. */
export function sign(rawBody, appSecret) {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/** A copy of the body with one bit of one base64 field flipped. */
export function tamper(body, field, index = 5) {
  const bytes = Buffer.from(body[field], 'base64');
  bytes[index] ^= 0x01;
  return { ...body, [field]: bytes.toString('base64') };
}

/**
 * Encrypts a media file the way WhatsApp stores a PhotoPicker upload on its CDN:
 * AES-256-CBC with PKCS#7 padding, then the first 10 bytes of HMAC-SHA256(hmac_key, iv ‖ ct).
 * Returns the CDN file and the `encryption_metadata` of the flow request.
 */
export function sealMedia(plaintext) {
  const encryptionKey = randomBytes(32);
  const hmacKey = randomBytes(32);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', encryptionKey, iv); // PKCS#7 by default
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const mac = createHmac('sha256', hmacKey).update(iv).update(ciphertext).digest().subarray(0, 10);
  const cdnFile = Buffer.concat([ciphertext, mac]);
  const sha256 = (data) => createHash('sha256').update(data).digest('base64');
  return {
    cdnFile,
    metadata: {
      encryption_key: encryptionKey.toString('base64'),
      hmac_key: hmacKey.toString('base64'),
      iv: iv.toString('base64'),
      plaintext_hash: sha256(plaintext),
      encrypted_hash: sha256(cdnFile),
    },
  };
}
