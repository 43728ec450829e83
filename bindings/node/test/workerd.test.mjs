// A real edge runtime: workerd (from npm) runs test/workerd/worker.mjs, which imports the
// package through its `workerd` export condition, on 127.0.0.1. The test plays WhatsApp.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { packageDir, vectorFile } from './support/vectors.mjs';
import { startWorkerd } from './support/workerd.mjs';
import { openResponse, sealRequest, sign, tamper } from './support/whatsapp.mjs';

const APP_SECRET = 'workerd-test-app-secret';
const pem = vectorFile('keys/rsa2048_pkcs8_aes256.pem').toString();
const passphrase = 'flows-public-passphrase';
const publicPem = vectorFile('keys/rsa2048_public.pem').toString();

describe('workerd', () => {
  let workerd;
  let base;

  before(async () => {
    workerd = await startWorkerd(join(packageDir, 'test/workerd/worker.mjs'), {
      PRIVATE_KEY_PEM: pem,
      PASSPHRASE: passphrase,
      APP_SECRET,
    });
    base = workerd.base;
  });

  after(() => workerd?.stop());

  async function post(body, { signature } = {}) {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    return fetch(base, {
      method: 'POST',
      body: raw,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature ?? sign(raw, APP_SECRET) },
    });
  }

  test('the worker build uses WebCrypto for RSA', async () => {
    const response = await fetch(base);
    assert.equal(response.status, 200, workerd.logs());
    assert.deepEqual(await response.json(), { engine: 'webcrypto', engines: ['webcrypto', 'wasm'] });
  });

  test('ping is answered', async () => {
    const { body, aesKey, iv } = sealRequest(publicPem, JSON.stringify({ version: '3.0', action: 'ping' }));
    const response = await post(body);
    assert.equal(response.status, 200, workerd.logs());
    assert.deepEqual(JSON.parse(openResponse(await response.text(), aesKey, iv)), { data: { status: 'active' } });
  });

  test('INIT round trip', async () => {
    const message = { version: '3.0', action: 'INIT', flow_token: 'flow-token-42', screen: '', data: {} };
    const { body, aesKey, iv } = sealRequest(publicPem, JSON.stringify(message));
    const response = await post(body);
    assert.equal(response.status, 200, workerd.logs());
    assert.equal(response.headers.get('content-type'), 'text/plain');
    assert.deepEqual(JSON.parse(openResponse(await response.text(), aesKey, iv)), {
      screen: 'WELCOME',
      data: { flow_token: 'flow-token-42', greeting: 'hello from workerd' },
    });
  });

  test('a tampered body is answered 421', async () => {
    const { body } = sealRequest(publicPem, JSON.stringify({ version: '3.0', action: 'INIT' }));
    for (const [field, code] of [
      ['encrypted_flow_data', 'payload_auth'],
      ['encrypted_aes_key', 'key_unwrap'],
      ['initial_vector', 'payload_auth'],
    ]) {
      const response = await post(tamper(body, field));
      assert.equal(response.status, 421, field);
      assert.equal(await response.text(), code, field);
    }
    const response = await post('{"encrypted_flow_data": 1}');
    assert.equal(response.status, 421);
    assert.equal(await response.text(), 'malformed');
  });

  test('a bad signature is answered 432', async () => {
    const { body } = sealRequest(publicPem, JSON.stringify({ version: '3.0', action: 'ping' }));
    const raw = JSON.stringify(body);
    assert.equal((await post(raw, { signature: sign(raw, 'another secret') })).status, 432);
    assert.equal((await post(raw, { signature: sign(`${raw} `, APP_SECRET) })).status, 432);
    assert.equal((await post(raw, { signature: 'sha256=zz' })).status, 432);
  });
});
