// Round trips against WhatsApp played independently with node:crypto, through every engine.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  DecryptedRequest,
  FlowCryptoError,
  FlowPrivateKey,
  decryptRequest,
  decryptRequestSync,
  encryptResponse,
} from 'wa-flows-crypto';
import { vectorFile } from './support/vectors.mjs';
import { openResponse, sealRequest, tamper } from './support/whatsapp.mjs';

const key = FlowPrivateKey.fromPem(vectorFile('keys/rsa2048_pkcs8.pem').toString());

describe('round trip with WhatsApp played by node:crypto', () => {
  for (const engine of FlowPrivateKey.engines) {
    test(`engine ${engine}`, async () => {
      const k = key.withEngine(engine);
      const message = { version: '3.0', action: 'INIT', flow_token: 'token-é✓', data: { n: 1 } };
      const { body, aesKey, iv } = sealRequest(k.publicKeyPem(), JSON.stringify(message));
      const request = await decryptRequest(JSON.stringify(body), k);
      assert.ok(request instanceof DecryptedRequest);
      assert.deepEqual(request.decryptedBody, message);
      assert.deepEqual(Buffer.from(request.aesKey), aesKey);
      assert.deepEqual(Buffer.from(request.iv), iv);
      const answer = { screen: 'WELCOME', data: { greeting: 'olá' } };
      assert.deepEqual(JSON.parse(openResponse(request.encryptResponse(answer), aesKey, iv)), answer);
      // Handlers destructure the result, as the README's quick start does.
      const { encryptResponse: answerWith } = request;
      assert.deepEqual(JSON.parse(openResponse(answerWith(answer), aesKey, iv)), answer);
      assert.equal(
        openResponse(encryptResponse('{"data":{"status":"active"}}', request.aesKey, request.iv), aesKey, iv),
        '{"data":{"status":"active"}}',
      );
      const again = decryptRequestSync(body, k);
      assert.equal(again.plaintext, JSON.stringify(message));

      for (const [field, code] of [
        ['encrypted_flow_data', 'payload_auth'],
        ['initial_vector', 'payload_auth'],
        ['encrypted_aes_key', 'key_unwrap'],
      ]) {
        await assert.rejects(decryptRequest(tamper(body, field), k), (error) => {
          assert.ok(error instanceof FlowCryptoError, `${field}: ${error}`);
          assert.equal(error.code, code, field);
          assert.equal(error.httpStatus, 421);
          return true;
        });
        assert.throws(() => decryptRequestSync(tamper(body, field), k), { code });
      }
      await assert.rejects(decryptRequest('{"encrypted_flow_data":', k), { code: 'malformed', httpStatus: 421 });
      await assert.rejects(decryptRequest(null, k), { code: 'malformed' });
      await assert.rejects(decryptRequest([body], k), { code: 'malformed' });
      await assert.rejects(decryptRequest({ ...body, initial_vector: 7 }, k), { code: 'malformed' });
    });
  }

  test('a request for another key is key_unwrap through every engine', async () => {
    const other = FlowPrivateKey.fromPem(vectorFile('keys/rsa2048_other.pem').toString());
    const { body } = sealRequest(key.publicKeyPem(), '{"action":"ping"}');
    for (const engine of FlowPrivateKey.engines) {
      await assert.rejects(decryptRequest(body, other.withEngine(engine)), { code: 'key_unwrap', httpStatus: 421 });
    }
  });

  test('a key that is not a FlowPrivateKey is a TypeError', async () => {
    await assert.rejects(decryptRequest('{}', 'pem text'), TypeError);
  });
});

describe('generated keys', () => {
  test('generate() makes a 2048-bit key that decrypts what WhatsApp sends it', async () => {
    const generated = FlowPrivateKey.generate();
    assert.equal(generated.bits, 2048);
    const { body } = sealRequest(generated.publicKeyPem(), '{"action":"ping","version":"3.0"}');
    for (const engine of FlowPrivateKey.engines) {
      const request = await decryptRequest(body, generated.withEngine(engine));
      assert.equal(request.decryptedBody.action, 'ping');
    }
  });

  test('unsupported sizes are invalid_key', () => {
    assert.throws(() => FlowPrivateKey.generate(1024), { name: 'FlowCryptoError', code: 'invalid_key', httpStatus: 500 });
  });
});
