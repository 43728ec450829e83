// What the npm package gained to match the Python package: sign, MediaVerifier,
// EncryptedRequest with parseRequest, FlowPrivateKey#publicKeyDer. Each is the core's, bound
// through wasm; these check they agree with the rest of the API and with node:crypto.
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { describe, test } from 'node:test';

import {
  EncryptedRequest,
  FlowCryptoError,
  FlowPrivateKey,
  MediaVerifier,
  decryptMediaContent,
  decryptPayload,
  decryptRequestSync,
  parseRequest,
  sign,
  unwrapAesKey,
  verifySignature,
} from 'wa-flows-crypto';
import { loadVectors, vectorFile } from './support/vectors.mjs';
import { sealRequest, sign as whatsappSign } from './support/whatsapp.mjs';

const key = FlowPrivateKey.fromPem(vectorFile('keys/rsa2048_pkcs8.pem').toString());
const isCode = (code) => (error) => error instanceof FlowCryptoError && error.code === code;

test('sign is the header WhatsApp sends, and verifySignature accepts it', () => {
  for (const [body, secret] of [
    ['{"a":1}', 'app secret'],
    [new Uint8Array([0, 255, 1]), new Uint8Array([9, 9])],
    ['', 's'],
  ]) {
    const header = sign(body, secret);
    assert.equal(header, whatsappSign(Buffer.from(body), Buffer.from(secret)));
    assert.equal(verifySignature(body, header, secret), true);
  }
  assert.throws(() => sign({}, 's'), TypeError);
});

test('publicKeyDer is the SPKI DER node:crypto derives, and what the fingerprint hashes', () => {
  const der = key.publicKeyDer();
  assert.ok(der instanceof Uint8Array);
  const expected = createPublicKey(key.publicKeyPem()).export({ type: 'spki', format: 'der' });
  assert.deepEqual(Buffer.from(der), expected);
  assert.equal(createHash('sha256').update(der).digest('hex'), key.publicKeyFingerprint());
});

describe('parseRequest and the separate steps', () => {
  const plaintext = JSON.stringify({ version: '3.0', action: 'ping' });
  const { body } = sealRequest(key.publicKeyPem(), plaintext);

  for (const engine of FlowPrivateKey.engines) {
    test(`unwrapAesKey(EncryptedRequest) and decryptPayload(EncryptedRequest), engine ${engine}`, async () => {
      const parsed = parseRequest(JSON.stringify(body));
      assert.ok(parsed instanceof EncryptedRequest);
      assert.deepEqual(Buffer.from(parsed.encryptedAesKey), Buffer.from(body.encrypted_aes_key, 'base64'));
      const aesKey = await unwrapAesKey(parsed, key.withEngine(engine));
      assert.deepEqual(Buffer.from(aesKey), Buffer.from(await unwrapAesKey(parsed.encryptedAesKey, key)));
      const opened = decryptPayload(parsed, aesKey);
      assert.equal(opened.plaintext, plaintext);
      // The parsed request stays usable: it is the caller's.
      assert.equal(decryptPayload(parsed, aesKey).plaintext, plaintext);
      assert.deepEqual(opened.iv, decryptRequestSync(body, key).iv);
    });
  }

  test('errors are the core’s', async () => {
    assert.throws(() => parseRequest('{}'), isCode('malformed'));
    assert.throws(() => new EncryptedRequest(), TypeError);
    const parsed = parseRequest(body);
    assert.throws(() => decryptPayload(parsed, new Uint8Array(16)), isCode('payload_auth'));
    const other = FlowPrivateKey.generate();
    for (const engine of FlowPrivateKey.engines) {
      await assert.rejects(unwrapAesKey(parsed, other.withEngine(engine)), isCode('key_unwrap'), engine);
    }
  });
});

describe('MediaVerifier', () => {
  const media = loadVectors('media.json');
  // The verifier checks lengths, file hash and MAC; padding and plaintext hash need decryption.
  const verifierCode = (expected) =>
    ['padding', 'plaintext_hash_mismatch', 'padding_or_plaintext_hash'].includes(expected) ? undefined : expected;

  for (const vector of media.vectors) {
    test(vector.name, async () => {
      const expected = vector.expect.ok ? undefined : verifierCode(vector.expect.error);
      let verifier;
      try {
        verifier = new MediaVerifier(vector.metadata);
      } catch (error) {
        assert.ok(isCode(expected)(error), `${expected}: ${error}`);
        return;
      }
      const file = vectorFile(vector.file);
      for (let at = 0; at < file.length; at += 4099) verifier.update(file.subarray(at, at + 4099));
      if (expected === undefined) verifier.finish();
      else assert.throws(() => verifier.finish(), isCode(expected));
      assert.throws(() => verifier.finish(), isCode('already_finished'));
      assert.throws(() => verifier.update(file), isCode('already_finished'));
      if (vector.expect.ok) await decryptMediaContent(file, vector.metadata);
    });
  }

  test('as a WritableStream', async () => {
    const vector = media.vectors.find((v) => v.name === 'size_65536');
    const file = vectorFile(vector.file);
    await new Blob([file]).stream().pipeTo(new MediaVerifier(vector.metadata));
    const tampered = Uint8Array.from(file);
    tampered[7] ^= 1;
    await assert.rejects(new Blob([tampered]).stream().pipeTo(new MediaVerifier(vector.metadata)), isCode('encrypted_hash_mismatch'));
  });
});
