// The platform routes (node:crypto computing primitives, the core checking their outputs):
// a host whose primitive lies is caught by the core with the wasm path's own error, and the
// routes really are taken. Runs createApi directly with instrumented engines.
import assert from 'node:assert/strict';
import { createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import { FlowPrivateKey, decryptMediaContent, decryptRequestSync, encryptResponse } from 'wa-flows-crypto';
import { nodeMediaEngine } from '../lib/engines/node.mjs';
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
  stream(encryptionKey, hmacKey, iv) {
    this.calls.push('stream');
    return nodeMediaEngine.stream(encryptionKey, hmacKey, iv);
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

describe('media streams through a platform engine', () => {
  const vector = media.vectors.find((v) => v.name === 'size_1000');
  const file = vectorFile(vector.file);
  const plaintext = vectorFile(vector.expect.plaintext_file);

  /** The outcome of streaming `bytes` in 100-byte chunks through `api`'s default engine. */
  function streamed(api, bytes, options) {
    try {
      const decryptor = new api.MediaDecryptor(vector.metadata, options);
      const parts = [];
      for (let at = 0; at < bytes.length; at += 100) parts.push(decryptor.update(bytes.subarray(at, at + 100)));
      parts.push(decryptor.finish());
      return hex(Buffer.concat(parts));
    } catch (error) {
      return `${error.code}: ${error.message}`;
    }
  }

  /** An engine whose stream's `name` primitive is replaced by `lie(honest)`. */
  function lying(name, lie) {
    return {
      ...honestMedia,
      calls: [],
      stream(...args) {
        const honest = nodeMediaEngine.stream(...args);
        return { ...honest, [name]: lie(honest[name]) };
      },
    };
  }

  test('MediaDecryptor streams through the platform engine; the wasm engine leaves it alone', () => {
    const engine = { ...honestMedia, calls: [] };
    const api = apiWith(engine);
    assert.equal(streamed(api, file), hex(plaintext));
    assert.deepEqual(engine.calls, ['stream']);
    engine.calls.length = 0;
    assert.equal(streamed(api, file, { engine: 'wasm' }), hex(plaintext));
    assert.deepEqual(engine.calls, []);
  });

  test('whatever a stream primitive computes wrongly, the core fails the file as wasm would', () => {
    const api = apiWith(honestMedia);
    const tampered = Buffer.from(file);
    tampered[0] ^= 1;
    const zeros = (length) => () => new Uint8Array(length);
    assert.equal(streamed(apiWith(lying('fileHash', () => zeros(32))), file), streamed(api, tampered, { engine: 'wasm' }));
    for (const mac of [zeros(32), zeros(3), () => 'not bytes']) {
      assert.match(streamed(apiWith(lying('mac', () => mac)), file), /^hmac_mismatch: /);
    }
    assert.match(streamed(apiWith(lying('lastBlock', () => zeros(16))), file), /^padding: /);
    // Released bytes that are not what the ciphertext decrypts to fail the plaintext hash,
    // which covers what was released, not what the engine hashed.
    const flipped = (ciphertext) => (bytes) => {
      const out = ciphertext(bytes);
      if (out.length > 0) out[0] ^= 1;
      return out;
    };
    assert.match(streamed(apiWith(lying('ciphertext', flipped)), file), /^plaintext_hash_mismatch: /);
    for (const length of [0, 9, 10, 25, 27]) {
      assert.equal(streamed(apiWith(honestMedia), file.subarray(0, length)), streamed(api, file.subarray(0, length), { engine: 'wasm' }));
    }
  });
});

describe('responses through a platform AES-GCM', () => {
  const core = createApi({ wasm, engines: {}, defaultEngine: 'wasm' });

  test('node:crypto seals every length exactly as the core does', () => {
    for (const length of [0, 1, 15, 16, 17, 1000, 10_000, 65_537]) {
      const aesKey = randomBytes(16);
      const iv = randomBytes(16);
      const answer = randomBytes(length);
      assert.equal(encryptResponse(answer, aesKey, iv), core.encryptResponse(answer, aesKey, iv), `${length} bytes`);
    }
  });

  test('the core checks the key and IV lengths', () => {
    for (const [aesKey, iv] of [
      [new Uint8Array(15), new Uint8Array(16)],
      [new Uint8Array(32), new Uint8Array(16)],
      [new Uint8Array(16), new Uint8Array(12)],
    ]) {
      const error = (api) => {
        try {
          api.encryptResponse('{}', aesKey, iv);
          return 'ok';
        } catch (caught) {
          return `${caught.code}: ${caught.message}`;
        }
      };
      assert.match(error({ encryptResponse }), /^malformed: /);
      assert.equal(error({ encryptResponse }), error(core));
    }
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
