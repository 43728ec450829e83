// Data API 4.0 (flow token signatures), key rings, the flow view and FlowEndpoint, against the
// built package.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  ERROR_ACKNOWLEDGEMENT,
  FlowCryptoError,
  FlowEndpoint,
  FlowKeyRing,
  FlowPrivateKey,
  PING_RESPONSE,
  decryptRequest,
  decryptRequestSync,
  signFlowToken,
  verifyFlowTokenSignature,
  verifySignature,
} from 'wa-flows-crypto';
import { hex, loadVectors, vectorFile } from './support/vectors.mjs';
import { openResponse, sealRequest, sign } from './support/whatsapp.mjs';

const flowTokens = loadVectors('flow_token.json');
const requests = loadVectors('requests.json');
const ENGINES = FlowPrivateKey.engines;
const pem = (file) => vectorFile(file).toString('utf8');
const mainKey = FlowPrivateKey.fromPem(pem('keys/rsa2048_pkcs8.pem'));
const otherKey = FlowPrivateKey.fromPem(pem('keys/rsa2048_other.pem'));

function outcome(operation) {
  try {
    return { ok: true, signature: operation() };
  } catch (error) {
    if (!(error instanceof FlowCryptoError)) throw error;
    return { ok: false, error: error.code, httpStatus: error.httpStatus };
  }
}

function check(actual, expect, label) {
  if (expect.ok) assert.deepEqual(actual, { ok: true, signature: expect.signature }, label);
  else {
    assert.equal(actual.ok, false, label);
    assert.equal(actual.error, expect.error, label);
    assert.equal(actual.httpStatus, expect.error === 'invalid_flow_token_signature' ? 427 : 421, label);
  }
}

/** Whether JSON.parse then JSON.stringify keeps every member (no duplicate keys). */
function roundTrips(text) {
  const keys = [...text.matchAll(/"((?:[^"\\]|\\.)*)"\s*:/g)].map((m) => m[1]);
  return new Set(keys).size === keys.length;
}

describe('flow_token.json through verifyFlowTokenSignature', () => {
  for (const vector of flowTokens.vectors) {
    test(vector.name, async () => {
      const now = vector.now * 1000;
      const forms = { text: vector.request, bytes: Buffer.from(vector.request) };
      if (roundTrips(vector.request)) forms.object = JSON.parse(vector.request);
      for (const [form, request] of Object.entries(forms)) {
        check(outcome(() => verifyFlowTokenSignature(request, vector.app_secret, { now })), vector.expect, form);
        check(outcome(() => verifyFlowTokenSignature(request, vector.app_secret, { now: new Date(now) })), vector.expect, `${form} / Date`);
        check(outcome(() => verifyFlowTokenSignature(request, ['another secret', vector.app_secret], { now })), vector.expect, `${form} / list`);
      }
      // The decrypted request and its .flow, in every engine, sync and async.
      const sealed = sealRequest(mainKey.publicKeyPem(), vector.request);
      for (const engine of ENGINES) {
        const key = mainKey.withEngine(engine);
        const decrypted = [await decryptRequest(sealed.body, key), decryptRequestSync(sealed.body, key)];
        for (const request of decrypted) {
          check(outcome(() => verifyFlowTokenSignature(request, vector.app_secret, { now })), vector.expect, `${engine} / decrypted`);
          let flow;
          try {
            flow = request.flow;
          } catch (error) {
            assert.equal(error.code, 'malformed');
            continue;
          }
          check(outcome(() => verifyFlowTokenSignature(flow, vector.app_secret, { now })), vector.expect, `${engine} / flow`);
        }
      }
    });
  }

  test('signFlowToken makes what verifies; exp is a Date or milliseconds', () => {
    const request = JSON.stringify({ version: '4.0', action: 'INIT', flow_token: 'token-1', flow_token_signature: signFlowToken('token-1', 's3cret') });
    assert.equal(verifyFlowTokenSignature(request, 's3cret'), 'verified');
    const expiring = signFlowToken('token-1', 's3cret', { exp: new Date(1_767_225_600_000) });
    const late = JSON.stringify({ version: '4.0', action: 'INIT', flow_token: 'token-1', flow_token_signature: expiring });
    assert.equal(verifyFlowTokenSignature(late, 's3cret', { now: 1_767_225_600_000 }), 'verified');
    assert.throws(() => verifyFlowTokenSignature(late, 's3cret', { now: 1_767_225_600_000 + 3_600_000 }), { code: 'invalid_flow_token_signature', httpStatus: 427 });
  });

  test('no secret or an empty one is invalid_configuration', () => {
    const request = flowTokens.vectors[0].request;
    assert.throws(() => verifyFlowTokenSignature(request, []), { code: 'invalid_configuration', httpStatus: 500 });
    assert.throws(() => verifyFlowTokenSignature(request, ''), { code: 'invalid_configuration', httpStatus: 500 });
  });
});

describe('verifySignature with a list of secrets', () => {
  test('any secret of the list', () => {
    const body = '{"a":1}';
    assert.equal(verifySignature(body, sign(body, 'old'), ['new', 'old']), true);
    assert.equal(verifySignature(body, sign(body, 'other'), ['new', 'old']), false);
    assert.throws(() => verifySignature(body, sign(body, 'old'), []), { code: 'invalid_configuration' });
    assert.throws(() => verifySignature(body, sign(body, 'old'), ['new', '']), { code: 'invalid_configuration' });
  });
});

describe('FlowKeyRing through requests.json', () => {
  test('an empty ring is invalid_configuration', () => {
    assert.throws(() => new FlowKeyRing([]), { code: 'invalid_configuration', httpStatus: 500 });
    assert.throws(() => new FlowKeyRing([mainKey, 'key']), TypeError);
    assert.throws(() => new FlowKeyRing(mainKey), TypeError);
  });

  for (const vector of requests.vectors) {
    if (vector.key.endsWith('rsa2048_other.pem') || vector.expect.error === 'invalid_key') continue;
    test(vector.name, async () => {
      let key;
      try {
        key = vector.key.endsWith('.der')
          ? FlowPrivateKey.fromDer(vectorFile(vector.key), vector.passphrase ?? undefined)
          : FlowPrivateKey.fromPem(pem(vector.key), vector.passphrase ?? undefined);
      } catch {
        return;
      }
      for (const engine of ENGINES) {
        const ring = new FlowKeyRing([otherKey.withEngine(engine), key.withEngine(engine)]);
        for (const body of [JSON.stringify(vector.request), Buffer.from(JSON.stringify(vector.request)), structuredClone(vector.request)]) {
          for (const run of [() => decryptRequest(body, ring), async () => decryptRequestSync(body, ring)]) {
            let result;
            try {
              result = await run();
            } catch (error) {
              assert.equal(vector.expect.ok, false, `${engine}: ${error.code}`);
              assert.equal(error.code, vector.expect.error);
              continue;
            }
            assert.equal(vector.expect.ok, true, engine);
            assert.equal(result.plaintext, vector.expect.plaintext);
            assert.equal(hex(result.aesKey), vector.expect.aes_key_hex);
            assert.equal(result.keyIndex, 1);
          }
        }
        // FlowEndpoint decrypts through the same engines: the same verdict, then the flow
        // request's (a plaintext that is no flow request is malformed).
        const body = JSON.stringify(vector.request);
        let expected;
        try {
          const result = await decryptRequest(body, ring);
          expected = { ok: true, flow: result.flow, keyIndex: result.keyIndex };
        } catch (error) {
          expected = { ok: false, code: error.code };
        }
        try {
          const opened = await new FlowEndpoint({ key: ring }).open(body);
          assert.deepEqual({ ok: true, flow: opened.flow, keyIndex: opened.keyIndex }, expected, engine);
        } catch (error) {
          if (error instanceof assert.AssertionError) throw error;
          assert.deepEqual({ ok: false, code: error.code }, expected, `${engine}: ${error.message}`);
        }
      }
    });
  }
});

describe('the flow view', () => {
  test('fields from the core, camelCase', async () => {
    const plaintext = JSON.stringify({ version: '3.0', action: 'data_exchange', screen: 'A', data: { error_key: 'k', error: 'E', error_message: 'm' }, flow_token: 't' });
    const decrypted = await decryptRequest(sealRequest(mainKey.publicKeyPem(), plaintext).body, mainKey);
    const flow = decrypted.flow;
    assert.equal(flow.action, 'data_exchange');
    assert.equal(flow.screen, 'A');
    assert.equal(flow.flowToken, 't');
    assert.equal(flow.version, '3.0');
    assert.equal(flow.isPing, false);
    assert.deepEqual({ ...flow.errorNotification }, { error: 'E', errorMessage: 'm', errorKey: 'k' });
    assert.equal(decrypted.keyIndex, 0);
    const ping = await decryptRequest(sealRequest(mainKey.publicKeyPem(), '{"version":"3.0","action":"ping"}').body, mainKey);
    assert.equal(ping.flow.isPing, true);
    assert.equal(ping.flow.errorNotification, null);
    assert.equal(PING_RESPONSE, '{"data":{"status":"active"}}');
    assert.equal(ERROR_ACKNOWLEDGEMENT, '{"data":{"acknowledged":true}}');
  });
});

describe('FlowEndpoint', () => {
  const secret = 'current secret';
  const previous = 'previous secret';
  const ring = new FlowKeyRing([mainKey, otherKey]);
  const request = (fields, publicKeyPem = mainKey.publicKeyPem(), appSecret = secret) => {
    const sealed = sealRequest(publicKeyPem, JSON.stringify({ version: '4.0', ...fields }));
    const body = JSON.stringify(sealed.body);
    return { ...sealed, body, header: sign(body, appSecret) };
  };

  for (const policy of ['if_present', 'required', 'off']) {
    test(`policy ${policy}`, async () => {
      const endpoint = new FlowEndpoint({ key: ring, appSecret: [secret, previous], flowTokenSignature: policy });
      const signed = request({ action: 'INIT', flow_token: 'f', flow_token_signature: signFlowToken('f', previous) }, otherKey.publicKeyPem(), previous);
      const opened = await endpoint.open(signed.body, signed.header);
      assert.equal(opened.keyIndex, 1);
      assert.equal(opened.flowTokenSignature, policy === 'off' ? null : 'verified');
      assert.equal(opened.flow.flowToken, 'f');
      assert.equal(opened.automaticResponse, null);
      assert.equal(verifyFlowTokenSignature(opened, [secret, previous]), 'verified');
      const body = opened.respond({ screen: 'WELCOME', data: {} });
      assert.deepEqual(JSON.parse(openResponse(body, signed.aesKey, signed.iv)), { screen: 'WELCOME', data: {} });
      const refusal = opened.flowTokenError('expired');
      assert.equal(refusal.status, 427);
      assert.deepEqual(JSON.parse(openResponse(refusal.body, signed.aesKey, signed.iv)), { error_msg: 'expired' });

      const forged = request({ action: 'INIT', flow_token: 'f', flow_token_signature: signFlowToken('other', secret) });
      if (policy === 'off') assert.equal((await endpoint.open(forged.body, forged.header)).flowTokenSignature, null);
      else await assert.rejects(endpoint.open(forged.body, forged.header), { code: 'invalid_flow_token_signature', httpStatus: 427 });

      const unsigned = request({ action: 'INIT', flow_token: 'f' });
      if (policy === 'required') await assert.rejects(endpoint.open(unsigned.body, unsigned.header), { httpStatus: 427 });
      else await endpoint.open(unsigned.body, unsigned.header);

      const ping = request({ action: 'ping' });
      assert.equal((await endpoint.open(ping.body, ping.header)).automaticResponse, PING_RESPONSE);
      const notification = request({ action: 'data_exchange', flow_token: 'f', data: { error_key: 'k' } });
      if (policy !== 'required') assert.equal((await endpoint.open(notification.body, notification.header)).automaticResponse, ERROR_ACKNOWLEDGEMENT);

      await assert.rejects(endpoint.open(ping.body, sign(ping.body, 'wrong')), { code: 'invalid_signature', httpStatus: 432 });
      await assert.rejects(endpoint.open(ping.body, undefined), { httpStatus: 432 });
    });
  }

  test('configuration errors', () => {
    assert.throws(() => new FlowEndpoint({ key: mainKey, appSecret: '' }), { code: 'invalid_configuration', httpStatus: 500 });
    assert.throws(() => new FlowEndpoint({ key: mainKey, appSecret: [] }), { code: 'invalid_configuration' });
    assert.throws(() => new FlowEndpoint({ key: mainKey, flowTokenSignature: 'required' }), { code: 'invalid_configuration' });
    assert.throws(() => new FlowEndpoint({ key: mainKey, flowTokenSignature: 'sometimes' }), { code: 'invalid_configuration' });
    assert.throws(() => new FlowEndpoint({ key: 'pem' }), TypeError);
    assert.throws(() => new FlowEndpoint({ key: mainKey, flowTokenSignature: 1 }), TypeError);
  });

  test('no app secret: nothing signed is checked', async () => {
    const endpoint = new FlowEndpoint({ key: mainKey });
    const ping = request({ action: 'ping' });
    const opened = await endpoint.open(ping.body);
    assert.equal(opened.flowTokenSignature, null);
  });
});
