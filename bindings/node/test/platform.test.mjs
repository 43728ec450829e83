// The platform routes (node:crypto computing primitives, the core checking their outputs):
// a host whose primitive lies is caught by the core with the wasm path's own error, and the
// routes really are taken. Runs createApi directly with instrumented engines.
import assert from 'node:assert/strict';
import { createDecipheriv, createHash, createHmac } from 'node:crypto';
import { describe, test } from 'node:test';

import { FlowPrivateKey, decryptMediaContent, decryptRequestSync } from 'wa-flows-crypto';
import { createApi } from '../lib/platform.mjs';
import * as wasm from '../pkg/wa_flows_crypto_wasm.js';
import { hex, loadVectors, vectorFile } from './support/vectors.mjs';

const media = loadVectors('media.json');
const requests = loadVectors('requests.json');

const honestMedia = {
  name: 'spy',
  calls: [],
  sha256(data) {
    this.calls.push('sha256');
    return createHash('sha256').update(data).digest();
  },
  hmacSha256(key, iv, ciphertext) {
    this.calls.push('hmac');
    return createHmac('sha256', key).update(iv).update(ciphertext).digest();
  },
  aes256CbcNoPadding(key, iv, ciphertext) {
    this.calls.push('cbc');
    const decipher = createDecipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
    return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  },
};

function apiWith(mediaEngine, open) {
  const node = {
    name: 'spy',
    sync: true,
    prepare: () => null,
    unwrap: () => {
      throw new Error('not used');
    },
    open,
  };
  return createApi({ wasm, engines: { spy: node }, defaultEngine: 'spy', media: mediaEngine });
}

async function code(promise) {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return `${error.code}: ${error.message}`;
  }
}

describe('media through a platform engine', () => {
  const vector = media.vectors.find((v) => v.name === 'size_1000');
  const file = vectorFile(vector.file);
  const plaintext = vectorFile(vector.expect.plaintext_file);

  test('the platform engine computes every primitive, once each, and the result is right', async () => {
    const engine = { ...honestMedia, calls: [] };
    const api = apiWith(engine);
    assert.deepEqual(api.mediaEngines, ['spy', 'wasm']);
    assert.equal(hex(await api.decryptMediaContent(file, vector.metadata)), hex(plaintext));
    assert.deepEqual(engine.calls, ['sha256', 'hmac', 'cbc', 'sha256']);
    engine.calls.length = 0;
    assert.equal(hex(await api.decryptMediaContent(file, vector.metadata, { engine: 'wasm' })), hex(plaintext));
    assert.deepEqual(engine.calls, [], 'the wasm engine does not touch the platform');
  });

  test('the package default in Node is the node:crypto route', async () => {
    assert.equal(hex(await decryptMediaContent(file, vector.metadata)), hex(plaintext));
    assert.equal(hex(await decryptMediaContent(file, vector.metadata, { engine: 'node' })), hex(plaintext));
  });

  const wasmError = (metadata, bytes) => code(apiWith(honestMedia).decryptMediaContent(bytes, metadata, { engine: 'wasm' }));

  test('a wrong file hash from the host is the core encrypted_hash_mismatch', async () => {
    const api = apiWith({ ...honestMedia, calls: [], sha256: () => new Uint8Array(32) });
    const got = await code(api.decryptMediaContent(file, vector.metadata));
    assert.match(got, /^encrypted_hash_mismatch: /);
    const tampered = Buffer.from(file);
    tampered[0] ^= 1;
    assert.equal(got, await wasmError(vector.metadata, tampered));
  });

  test('a wrong or short HMAC from the host is the core hmac_mismatch', async () => {
    for (const hmac of [new Uint8Array(32), new Uint8Array(3)]) {
      const api = apiWith({ ...honestMedia, calls: [], hmacSha256: () => hmac });
      assert.match(await code(api.decryptMediaContent(file, vector.metadata)), /^hmac_mismatch: /);
    }
  });

  test('bad padding and a wrong plaintext from the host are caught by the core', async () => {
    const garbage = { ...honestMedia, calls: [], aes256CbcNoPadding: (_k, _iv, c) => new Uint8Array(c.length) };
    assert.match(await code(apiWith(garbage).decryptMediaContent(file, vector.metadata)), /^padding: /);
    const shifted = {
      ...honestMedia,
      calls: [],
      aes256CbcNoPadding(key, iv, ciphertext) {
        const out = honestMedia.aes256CbcNoPadding.call({ calls: [] }, key, iv, ciphertext);
        out[0] ^= 1;
        return out;
      },
    };
    assert.match(await code(apiWith(shifted).decryptMediaContent(file, vector.metadata)), /^plaintext_hash_mismatch: /);
  });

  test('length errors come from the core before any primitive runs', async () => {
    const engine = { ...honestMedia, calls: [] };
    for (const length of [0, 9, 10, 25, 27]) {
      const got = await code(apiWith(engine).decryptMediaContent(file.subarray(0, length), vector.metadata));
      assert.match(got, /^malformed: /);
      assert.equal(got, await wasmError(vector.metadata, file.subarray(0, length)));
    }
    assert.deepEqual(engine.calls, []);
  });
});

describe('request payloads through a platform AES-GCM', () => {
  const vector = requests.vectors.find((v) => v.name === 'init');
  const key = FlowPrivateKey.fromPem(vectorFile(vector.key).toString('utf8'), vector.passphrase ?? undefined);
  const aesKey = Buffer.from(vector.expect.aes_key_hex, 'hex');

  test('the engine opens the payload with the request key, IV, ciphertext and tag', () => {
    const seen = [];
    const api = apiWith(undefined, (k, iv, ciphertext, tag) => {
      seen.push({ k: hex(k), iv: hex(iv), length: ciphertext.length + tag.length });
      const decipher = createDecipheriv('aes-128-gcm', k, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    });
    assert.equal(api.decryptPayload(vector.request, aesKey).plaintext, vector.expect.plaintext);
    assert.deepEqual(seen, [
      {
        k: vector.expect.aes_key_hex,
        iv: hex(Buffer.from(vector.request.initial_vector, 'base64')),
        length: Buffer.from(vector.request.encrypted_flow_data, 'base64').length,
      },
    ]);
  });

  test('whatever the host throws or returns wrongly, the core decides the error', () => {
    const wasmResult = (() => {
      const tampered = { ...vector.request, initial_vector: Buffer.alloc(16).toString('base64') };
      try {
        decryptRequestSync(tampered, key.withEngine('wasm'));
      } catch (error) {
        return error;
      }
      return null;
    })();
    assert.equal(wasmResult.code, 'payload_auth');
    const cases = [
      [() => { throw new Error('Unsupported state or unable to authenticate data'); }, 'payload_auth'],
      [(_k, _iv, c) => new Uint8Array(c.length + 1), 'payload_auth'],
      [() => 'not bytes', 'payload_auth'],
      [(_k, _iv, c) => new Uint8Array(c.length).fill(0xff), 'malformed'],
    ];
    for (const [open, expected] of cases) {
      assert.throws(() => apiWith(undefined, open).decryptPayload(vector.request, aesKey), (error) => {
        assert.equal(error.code, expected);
        assert.equal(error.httpStatus, 421);
        if (expected === 'payload_auth') assert.equal(error.message, wasmResult.message);
        else assert.match(error.message, /not UTF-8/);
        return true;
      });
    }
  });
});
