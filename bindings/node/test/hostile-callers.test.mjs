// Hostile callers: inputs that lie about themselves or change under the package. Typed-array
// subclasses whose `length`, `byteLength`, `buffer` or `byteOffset` getters lie, getters that
// mutate other inputs, detached and shared buffers, lone surrogates, numbers that do not fit,
// values JSON would silently change, inputs changed after the call returned its promise, and a
// trap inside the wasm module. Every one must give the honest answer or a typed error
// (TypeError, or FlowCryptoError with its code), in every RSA engine, never a RuntimeError
// and never a corrupted wasm heap.
import assert from 'node:assert/strict';
import { generatePrimeSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import {
  FlowCryptoError,
  FlowPrivateKey,
  MediaDecryptor,
  decryptMediaContent,
  decryptPayload,
  decryptRequest,
  decryptRequestSync,
  encryptResponse,
  mediaEngines,
  unwrapAesKey,
  verifySignature,
} from 'wa-flows-crypto';
import { initSync } from '../pkg/wa_flows_crypto_wasm.js';
import { vectorFile } from './support/vectors.mjs';
import { openResponse, sealMedia, sealRequest, sign } from './support/whatsapp.mjs';

// The package instantiated the module already: this returns the current instance's exports.
const currentWasm = () => initSync({ module: readFileSync(new URL('../pkg/wa_flows_crypto_wasm_bg.wasm', import.meta.url)) });

const pem = vectorFile('keys/rsa2048_pkcs8.pem').toString();
const key = FlowPrivateKey.fromPem(pem);
const engines = FlowPrivateKey.engines;
const message = { version: '3.0', action: 'ping', data: { n: 1 } };

/** Seals a request for `key`; the wrapped AES key also as raw bytes. */
function sealed() {
  const { body, aesKey, iv } = sealRequest(key.publicKeyPem(), JSON.stringify(message));
  return { body, aesKey, iv, wrapped: Buffer.from(body.encrypted_aes_key, 'base64') };
}

/** The key still works (in every engine): nothing has corrupted the wasm heap. */
async function heapIntact() {
  for (const engine of engines) {
    const { body } = sealed();
    const request = await decryptRequest(body, key.withEngine(engine));
    assert.deepEqual(request.decryptedBody, message, engine);
  }
}

const isTypeError = (pattern) => (error) => {
  assert.equal(error.constructor, TypeError, `${error.name}: ${error.message}`);
  if (pattern) assert.match(error.message, pattern);
  return true;
};
const isCode = (code, httpStatus) => (error) => {
  assert.ok(error instanceof FlowCryptoError, `${error.name}: ${error.message}`);
  assert.equal(error.code, code, error.message);
  if (httpStatus !== undefined) assert.equal(error.httpStatus, httpStatus);
  return true;
};

/** Copies of `bytes` as typed-array subclasses that each lie through one getter. */
function liars(bytes) {
  const other = new ArrayBuffer(1 << 16);
  const make = (Class) => {
    const view = new Class(bytes.length);
    Uint8Array.prototype.set.call(view, bytes);
    return view;
  };
  return {
    length: make(class extends Uint8Array { get length() { return 1; } }),
    longLength: make(class extends Uint8Array { get length() { return 1 << 16; } }),
    byteLength: make(class extends Uint8Array { get byteLength() { return 1 << 16; } }),
    buffer: make(class extends Uint8Array { get buffer() { return other; } }),
    byteOffset: make(class extends Uint8Array { get byteOffset() { return 1000; } }),
    allFour: make(
      class extends Uint8Array {
        get length() { return 3; }
        get byteLength() { return 1 << 20; }
        get buffer() { return other; }
        get byteOffset() { return 7; }
      },
    ),
  };
}

function detached(bytes = new Uint8Array(16)) {
  const copy = Uint8Array.from(bytes);
  structuredClone(copy.buffer, { transfer: [copy.buffer] });
  return copy;
}

describe('typed-array subclasses that lie about their bytes', () => {
  test('verifySignature reads the real bytes of the body and the secret', async () => {
    const body = Buffer.from('{"real":"body"}');
    const header = sign(body, 'app-secret');
    for (const [lie, view] of Object.entries(liars(body))) {
      assert.equal(verifySignature(view, header, 'app-secret'), true, lie);
    }
    for (const [lie, view] of Object.entries(liars(Buffer.from('app-secret')))) {
      assert.equal(verifySignature(body, header, view), true, lie);
    }
    // The reported case: 64 real bytes declared as 1 wrote past the allocation.
    class Short extends Uint8Array { get length() { return 1; } }
    assert.equal(verifySignature(new Short(64), 'sha256=' + '0'.repeat(64), 's'), false);
    await heapIntact();
  });

  test('MediaDecryptor.update releases only what the real bytes decrypt to', async () => {
    const plaintext = Buffer.alloc(100_000, 7);
    const { cdnFile, metadata } = sealMedia(plaintext);
    // The reported case: 3 real bytes declared as 65536 released 65,520 bytes of wasm memory.
    class Long extends Uint8Array { get length() { return 65536; } }
    const decryptor = new MediaDecryptor(metadata);
    const three = new Long(3);
    three.set(cdnFile.subarray(0, 3));
    assert.equal(decryptor.update(three).length, 0);
    for (const [lie, view] of Object.entries(liars(cdnFile.subarray(3)))) {
      const again = new MediaDecryptor(metadata);
      const out = Buffer.concat([again.update(cdnFile.subarray(0, 3)), again.update(view), again.finish()]);
      assert.deepEqual(out, plaintext, lie);
    }
    const parts = [decryptor.update(liars(cdnFile.subarray(3)).allFour), decryptor.finish()];
    assert.deepEqual(Buffer.concat(parts), plaintext);
    for (const engine of mediaEngines) {
      for (const [lie, view] of Object.entries(liars(cdnFile))) {
        assert.deepEqual(Buffer.from(await decryptMediaContent(view, metadata, { engine })), plaintext, `${engine} ${lie}`);
      }
    }
    await heapIntact();
  });

  test('every request input: body, wrapped key, AES key, IV, response', async () => {
    for (const engine of engines) {
      const k = key.withEngine(engine);
      const { body, aesKey, iv, wrapped } = sealed();
      const text = Buffer.from(JSON.stringify(body));
      for (const [lie, view] of Object.entries(liars(text))) {
        assert.deepEqual((await decryptRequest(view, k)).decryptedBody, message, `${engine} ${lie}`);
        assert.deepEqual(decryptRequestSync(view, k).decryptedBody, message, `${engine} ${lie} sync`);
      }
      for (const [lie, view] of Object.entries(liars(wrapped))) {
        assert.deepEqual(Buffer.from(await unwrapAesKey(view, k)), aesKey, `${engine} ${lie}`);
      }
    }
    const { body, aesKey, iv } = sealed();
    for (const [lie, view] of Object.entries(liars(aesKey))) {
      assert.deepEqual(decryptPayload(body, view).decryptedBody, message, lie);
    }
    const answer = Buffer.from('{"ok":true}');
    for (const [lie, view] of Object.entries(liars(answer))) {
      assert.equal(openResponse(encryptResponse(view, aesKey, iv), aesKey, iv), '{"ok":true}', lie);
    }
    for (const [name, bytes] of [['aesKey', aesKey], ['iv', iv]]) {
      for (const [lie, view] of Object.entries(liars(bytes))) {
        const args = name === 'aesKey' ? [view, iv] : [aesKey, view];
        assert.equal(openResponse(encryptResponse('{}', ...args), aesKey, iv), '{}', `${name} ${lie}`);
      }
    }
    await heapIntact();
  });

  test('keys and passphrases: PEM, DER, passphrase', async () => {
    const fingerprint = key.publicKeyFingerprint();
    for (const [lie, view] of Object.entries(liars(Buffer.from(pem)))) {
      assert.equal(FlowPrivateKey.fromPem(view).publicKeyFingerprint(), fingerprint, lie);
    }
    const encrypted = key.privateKeyPem('pass phrase');
    for (const [lie, view] of Object.entries(liars(Buffer.from('pass phrase')))) {
      assert.equal(FlowPrivateKey.fromPem(encrypted, view).publicKeyFingerprint(), fingerprint, lie);
    }
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    for (const [lie, view] of Object.entries(liars(der))) {
      assert.equal(FlowPrivateKey.fromDer(view).publicKeyFingerprint(), fingerprint, lie);
    }
    await heapIntact();
  });

  test('ArrayBuffer, DataView, other typed arrays and Buffer are read by their real bytes', () => {
    const body = Buffer.from('hello');
    const header = sign(body, 's');
    const copy = Uint8Array.from(body);
    const lyingView = new DataView(copy.buffer);
    Object.defineProperty(lyingView, 'byteLength', { get: () => 1 << 16 });
    for (const input of [copy.buffer, new DataView(copy.buffer), lyingView, Buffer.from(body)]) {
      assert.equal(verifySignature(input, header, 's'), true, Object.prototype.toString.call(input));
    }
    const lyingBuffer = new (class extends ArrayBuffer { get byteLength() { return 1 << 16; } })(5);
    new Uint8Array(lyingBuffer).set(body);
    assert.equal(verifySignature(lyingBuffer, header, 's'), true);
    const odd = new (class extends Uint16Array { get length() { return 1 << 15; } })(Uint8Array.from([...body, 0]).buffer, 0, 3);
    assert.equal(verifySignature(odd, sign(Buffer.from([...body, 0]), 's'), 's'), true);
  });
});

describe('getters and toJSON that change other inputs', () => {
  test('encryptResponse copies the key and IV before the response runs any code', () => {
    const { aesKey, iv } = sealed();
    const key16 = Uint8Array.from(aesKey);
    const iv16 = Uint8Array.from(iv);
    const response = {
      toJSON() {
        key16.fill(0);
        iv16.fill(0);
        return { ok: true };
      },
    };
    assert.equal(openResponse(encryptResponse(response, key16, iv16), aesKey, iv), '{"ok":true}');
  });

  test('a request object is read once per field, and a getter wiping the body changes nothing', async () => {
    for (const engine of engines) {
      const { body } = sealed();
      const reads = {};
      const hostile = {};
      for (const [name, value] of Object.entries(body)) {
        Object.defineProperty(hostile, name, {
          enumerable: true,
          get() {
            reads[name] = (reads[name] ?? 0) + 1;
            return reads[name] === 1 ? value : 'changed';
          },
        });
      }
      assert.deepEqual((await decryptRequest(hostile, key.withEngine(engine))).decryptedBody, message, engine);
      assert.deepEqual(reads, { encrypted_flow_data: 1, encrypted_aes_key: 1, initial_vector: 1 }, engine);
    }
  });

  test('media metadata getters that wipe the CDN file change nothing', async () => {
    const plaintext = Buffer.alloc(5000, 3);
    for (const engine of mediaEngines) {
      const { cdnFile, metadata } = sealMedia(plaintext);
      const file = Uint8Array.from(cdnFile);
      const hostile = { ...metadata };
      Object.defineProperty(hostile, 'iv', {
        enumerable: true,
        get() {
          file.fill(0);
          return metadata.iv;
        },
      });
      const out = await decryptMediaContent(file, hostile, { engine });
      assert.deepEqual(Buffer.from(out), plaintext, engine);
    }
  });

  test('a metadata object with throwing proxy traps fails in JavaScript, not inside wasm', async () => {
    const { metadata } = sealMedia(Buffer.alloc(10));
    const trap = new Proxy(metadata, {
      getPrototypeOf() {
        throw new Error('trap');
      },
    });
    // The fields are read from the proxy (its get trap is honest); the module never sees it.
    assert.ok(new MediaDecryptor(trap));
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    assert.throws(() => new MediaDecryptor(proxy), isTypeError());
    await assert.rejects(decryptRequest(proxy, key), isTypeError());
    await heapIntact();
  });
});

describe('inputs changed after the call returned', () => {
  for (const engine of engines) {
    test(`unwrapAesKey and decryptRequest copy their inputs before the first await (${engine})`, async () => {
      const k = key.withEngine(engine);
      const { body, aesKey, wrapped } = sealed();
      const view = Uint8Array.from(wrapped);
      const pending = unwrapAesKey(view, k);
      view.fill(0);
      assert.deepEqual(Buffer.from(await pending), aesKey);
      const text = Buffer.from(JSON.stringify(body));
      const request = decryptRequest(text, k);
      text.fill(0x20);
      assert.deepEqual((await request).decryptedBody, message);
    });
  }
});

describe('detached and shared buffers', () => {
  for (const engine of engines) {
    test(`a detached buffer is a TypeError (${engine})`, async () => {
      const k = key.withEngine(engine);
      await assert.rejects(unwrapAesKey(detached(), k), isTypeError(/detached/));
      await assert.rejects(unwrapAesKey(detached().buffer, k), isTypeError(/detached/));
      await assert.rejects(decryptRequest(detached(), k), isTypeError(/detached/));
      assert.throws(() => decryptRequestSync(new DataView(detached().buffer), k), isTypeError());
    });
  }

  test('detached inputs everywhere else', async () => {
    const { body, aesKey, iv } = sealed();
    assert.throws(() => verifySignature(detached(), 'sha256=00', 's'), isTypeError(/rawBody.*detached/));
    assert.throws(() => verifySignature('{}', 'sha256=00', detached()), isTypeError(/appSecret.*detached/));
    assert.throws(() => encryptResponse(detached(), aesKey, iv), isTypeError(/response.*detached/));
    assert.throws(() => encryptResponse('{}', detached(), iv), isTypeError(/aesKey.*detached/));
    assert.throws(() => decryptPayload(body, detached()), isTypeError(/aesKey/));
    assert.throws(() => FlowPrivateKey.fromDer(detached()), isTypeError(/der/));
    const { cdnFile, metadata } = sealMedia(Buffer.alloc(100));
    assert.throws(() => new MediaDecryptor(metadata).update(detached(cdnFile)), isTypeError(/chunk/));
    for (const engine of mediaEngines) {
      await assert.rejects(decryptMediaContent(detached(cdnFile), metadata, { engine }), isTypeError(/cdnFile/));
    }
    await heapIntact();
  });

  test('shared memory is refused: SharedArrayBuffer and views of one', async () => {
    const { aesKey, iv } = sealed();
    const shared = new SharedArrayBuffer(16);
    assert.throws(() => encryptResponse(shared, aesKey, iv), isTypeError(/SharedArrayBuffer/));
    assert.throws(() => encryptResponse(new Uint8Array(shared), aesKey, iv), isTypeError(/SharedArrayBuffer/));
    assert.throws(() => encryptResponse({ data: shared }, aesKey, iv), isTypeError(/SharedArrayBuffer/));
    assert.throws(() => encryptResponse('{}', new Uint8Array(shared), iv), isTypeError(/SharedArrayBuffer/));
    assert.throws(() => verifySignature(new Uint8Array(shared), 'sha256=00', 's'), isTypeError(/SharedArrayBuffer/));
    await assert.rejects(unwrapAesKey(new Uint8Array(new SharedArrayBuffer(256)), key), isTypeError(/SharedArrayBuffer/));
  });
});

describe('strings', () => {
  const lone = 'secret\ud800';
  test('a lone surrogate is a TypeError, never replaced by U+FFFD', async () => {
    const { aesKey, iv } = sealed();
    assert.throws(() => verifySignature('{}', sign('{}', 'secret\ufffd'), lone), isTypeError(/appSecret.*surrogate/));
    assert.throws(() => verifySignature(lone, 'sha256=00', 's'), isTypeError(/rawBody.*surrogate/));
    assert.throws(() => verifySignature('{}', `sha256=${'0'.repeat(63)}\udc00`, 's'), isTypeError(/header.*surrogate/));
    assert.throws(() => FlowPrivateKey.fromPem(key.privateKeyPem('secret\ufffd'), lone), isTypeError(/passphrase.*surrogate/));
    assert.throws(() => key.privateKeyPem(lone), isTypeError(/passphrase.*surrogate/));
    assert.throws(() => FlowPrivateKey.fromPem(`${pem}\udfff`), isTypeError(/pem.*surrogate/));
    assert.throws(() => encryptResponse(`{"a":"${lone}"}`, aesKey, iv), isTypeError(/response.*surrogate/));
    assert.throws(() => encryptResponse({ a: lone }, aesKey, iv), isTypeError(/surrogate/));
    const { metadata } = sealMedia(Buffer.alloc(10));
    assert.throws(() => new MediaDecryptor(`${JSON.stringify(metadata)}\ud800`), isTypeError(/surrogate/));
    for (const engine of engines) {
      const { body } = sealed();
      const text = `${JSON.stringify(body)}\ud800`;
      await assert.rejects(decryptRequest(text, key.withEngine(engine)), isTypeError(/body.*surrogate/));
      assert.throws(() => decryptRequestSync(text, key.withEngine(engine)), isTypeError(/body.*surrogate/));
    }
  });

  test('objects with a lying toString are not strings', async () => {
    const liar = { toString: () => 'app-secret' };
    assert.throws(() => verifySignature('{}', sign('{}', 'app-secret'), liar), isTypeError(/appSecret/));
    assert.throws(() => verifySignature(liar, 'sha256=00', 's'), isTypeError(/rawBody/));
    assert.throws(() => verifySignature('{}', { toString: () => sign('{}', 's') }, 's'), isTypeError(/header/));
    assert.throws(() => verifySignature('{}', [sign('{}', 's')], 's'), isTypeError(/header/));
    assert.throws(() => FlowPrivateKey.fromPem({ toString: () => pem }), isTypeError(/pem/));
    assert.throws(() => FlowPrivateKey.fromPem(new String(pem)), isTypeError(/pem/));
    let calls = 0;
    const shifty = { toString: () => (calls++ === 0 ? 'node' : 'nope') };
    assert.throws(() => key.withEngine(shifty), isTypeError(/unknown RSA engine/));
    assert.throws(() => key.withEngine(Symbol('node')), isTypeError(/unknown RSA engine/));
    await assert.rejects(decryptMediaContent(new Uint8Array(0), {}, { engine: 1n }), isTypeError(/unknown media engine/));
  });
});

describe('numbers', () => {
  test('generate: every size but 2048, 3072 and 4096 is invalid_key, never truncated', () => {
    for (const bits of [2 ** 32 + 2048, 2 ** 64 + 2048, -2048, 2048.5, Number.NaN, Infinity, -Infinity, 2 ** 53, 0, 1024, 2048n, 2n ** 32n + 2048n]) {
      assert.throws(() => FlowPrivateKey.generate(bits), isCode('invalid_key', 500), String(bits));
    }
    for (const bits of ['2048', null, {}, [2048], { valueOf: () => 2048 }]) {
      assert.throws(() => FlowPrivateKey.generate(bits), isTypeError(/bits/), String(bits));
    }
  });
});

describe('responses JSON would silently change', () => {
  const { aesKey, iv } = sealRequest(key.publicKeyPem(), '{}');
  const refused = [
    ['a symbol', Symbol('x')],
    ['a function', () => 1],
    ['a symbol member', { a: Symbol('x') }],
    ['a function member', { a() {} }],
    ['NaN', { a: Number.NaN }],
    ['Infinity', { data: { n: [1, Infinity] } }],
    ['a boxed NaN', { a: new Number(Number.NaN) }],
    ['a BigInt', { a: 1n }],
    ['a top-level BigInt', 1n],
    ['a SharedArrayBuffer', new SharedArrayBuffer(4)],
  ];
  for (const [what, response] of refused) {
    test(`${what} is a TypeError`, () => {
      assert.throws(() => encryptResponse(response, aesKey, iv), isTypeError(/^response/));
    });
  }
  test('a circular structure is a TypeError with our message', () => {
    const circular = { data: {} };
    circular.data.self = circular;
    assert.throws(() => encryptResponse(circular, aesKey, iv), isTypeError(/^response is not JSON-serializable: it contains a circular reference/));
  });
  test('undefined at top level is a TypeError; inside an object it is omitted, as JSON does', () => {
    assert.throws(() => encryptResponse(undefined, aesKey, iv), isTypeError());
    assert.equal(openResponse(encryptResponse({ a: undefined, b: 1 }, aesKey, iv), aesKey, iv), '{"b":1}');
    assert.equal(openResponse(encryptResponse({ d: new Date(0) }, aesKey, iv), aesKey, iv), '{"d":"1970-01-01T00:00:00.000Z"}');
  });
  test("a caller's own toJSON error is theirs", () => {
    const error = new TypeError('mine');
    assert.throws(() => encryptResponse({ toJSON() { throw error; } }, aesKey, iv), (thrown) => thrown === error);
  });
});

describe('signatures', () => {
  test('an empty app secret is the core’s invalid_configuration (500), even with its own signature', () => {
    for (const secret of ['', new Uint8Array(0), new ArrayBuffer(0)]) {
      assert.throws(() => verifySignature('{}', sign('{}', ''), secret), isCode('invalid_configuration', 500));
      assert.throws(() => verifySignature('{}', undefined, secret), isCode('invalid_configuration', 500));
    }
  });
});

/** A PKCS#1 RSAPrivateKey DER with p = q: n = p², consistent d, CRT values from it. */
function equalPrimesKey() {
  const modPow = (base, exp, mod) => {
    let result = 1n;
    for (base %= mod; exp > 0n; exp >>= 1n, base = (base * base) % mod) if (exp & 1n) result = (result * base) % mod;
    return result;
  };
  const inverse = (a, m) => {
    let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
    while (r1 !== 0n) {
      const q = r0 / r1;
      [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
    }
    return r0 === 1n ? ((s0 % m) + m) % m : 0n;
  };
  let p;
  const e = 65537n;
  do p = generatePrimeSync(1024, { bigint: true });
  while ((p - 1n) % e === 0n);
  const n = p * p;
  const d = inverse(e, p * (p - 1n));
  assert.equal(modPow(modPow(42n, e, n), d, n), 42n);
  const integer = (value) => {
    let hex = value.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
    return tlv(0x02, Buffer.from(hex, 'hex'));
  };
  const tlv = (tag, content) => {
    const length = content.length < 0x80 ? Buffer.from([content.length]) : (() => {
      const bytes = Buffer.from(content.length.toString(16).padStart(content.length > 0xff ? 4 : 2, '0'), 'hex');
      return Buffer.concat([Buffer.from([0x80 | bytes.length]), bytes]);
    })();
    return Buffer.concat([Buffer.from([tag]), length, content]);
  };
  const fields = [0n, n, e, d, p, p, d % (p - 1n), d % (p - 1n), 1n];
  return tlv(0x30, Buffer.concat(fields.map(integer)));
}

describe('keys the platform would take but the core refuses', () => {
  // OpenSSL loads a p = q key and then fails every unwrap; Python and the CLI refuse it at
  // load. The package loads every key through the core, which also re-encodes it (the DER
  // every platform engine is given): refused there, at load, whatever the engine.
  test('a PKCS#1 key with p = q is invalid_key at load, not key_unwrap on every request', () => {
    const der = equalPrimesKey();
    const pkcs1Pem = `-----BEGIN RSA PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END RSA PRIVATE KEY-----\n`;
    assert.throws(() => FlowPrivateKey.fromDer(der), isCode('invalid_key', 500));
    assert.throws(() => FlowPrivateKey.fromPem(pkcs1Pem), isCode('invalid_key', 500));
  });
});

describe('a trap inside the wasm module', () => {
  // Larger than any free block the heap can hold after the tests above: its allocation fails.
  const huge = new Uint8Array(64 << 20);
  /** Leaves the current instance no memory to grow into: the next large allocation traps. */
  function exhaustMemory() {
    const { memory } = currentWasm();
    try {
      memory.grow(65536 - memory.buffer.byteLength / 65536 - 8); // all but 512 KiB of 4 GiB
      return;
    } catch {
      // a lower limit: find it step by step
    }
    for (let pages = 1 << 15; pages >= 1; pages >>= 1) {
      try {
        memory.grow(pages);
      } catch {
        // at the 4 GiB limit: try a smaller step
      }
    }
  }

  test('fails only that call with internal (500); the next calls and earlier keys work', async () => {
    const { cdnFile, metadata } = sealMedia(Buffer.alloc(100_000, 1));
    const inProgress = new MediaDecryptor(metadata);
    inProgress.update(cdnFile.subarray(0, 1000));
    const before = currentWasm();
    exhaustMemory();
    assert.throws(() => verifySignature(huge, 'sha256=00', 's'), isCode('internal', 500));
    assert.notEqual(currentWasm(), before, 'a fresh instance');
    assert.ok(currentWasm().memory.buffer.byteLength < 16 << 20);
    await heapIntact(); // the key loaded before the trap, re-imported into the new instance
    assert.equal(key.publicKeyFingerprint().length, 64);
    assert.throws(() => inProgress.update(cdnFile.subarray(1000)), isCode('internal', 500));
    assert.throws(() => inProgress.finish(), isCode('internal', 500));
    assert.deepEqual(Buffer.from(await decryptMediaContent(cdnFile, metadata, { engine: 'wasm' })), Buffer.alloc(100_000, 1));
  });

  test('a trap in every route: request (sync, async, each engine), media, key loading', async () => {
    const big = Buffer.alloc(64 << 20, 0x20);
    for (const engine of engines) {
      exhaustMemory();
      await assert.rejects(decryptRequest(big, key.withEngine(engine)), isCode('internal', 500), engine);
      exhaustMemory();
      assert.throws(() => decryptRequestSync(big, key.withEngine(engine)), isCode('internal', 500), engine);
    }
    exhaustMemory();
    assert.throws(() => FlowPrivateKey.fromPem(big), isCode('internal', 500));
    const { cdnFile, metadata } = sealMedia(Buffer.alloc(1 << 20));
    exhaustMemory();
    await assert.rejects(decryptMediaContent(cdnFile, metadata, { engine: 'wasm' }), isCode('internal', 500));
    const decryptor = new MediaDecryptor(metadata, { engine: 'wasm' });
    exhaustMemory();
    assert.throws(() => decryptor.update(cdnFile), isCode('internal', 500));
    await heapIntact();
  });

  test('a caller that runs out of stack mid-call gets its RangeError; the module is replaced before the next call', async () => {
    // Calls made at every depth down to the stack limit: some overflow inside wasm, where the
    // frames that never return leave the shadow stack pointer (or the allocator) mid-update.
    const body = Buffer.from('{"small":"body"}');
    const header = sign(body, 's');
    const seen = new Set();
    const probe = () => {
      try {
        probe();
      } catch {
        // the bottom
      }
      try {
        seen.add(String(verifySignature(body, header, 's')));
      } catch (error) {
        seen.add(error instanceof FlowCryptoError ? error.code : error.constructor.name);
      }
    };
    for (let round = 0; round < 20; round += 1) probe();
    for (const what of seen) assert.ok(['true', 'RangeError', 'internal'].includes(what), what);
    assert.equal(verifySignature(body, header, 's'), true);
    await heapIntact();
  });

  test('450 traps in a row do not wear the module out', async () => {
    for (let i = 0; i < 450; i += 1) {
      exhaustMemory();
      assert.throws(() => verifySignature(huge, 'sha256=00', 's'), isCode('internal', 500));
    }
    await heapIntact();
    const { body, aesKey, iv } = sealed();
    const request = decryptRequestSync(body, key.withEngine('wasm'));
    assert.equal(openResponse(request.encryptResponse({ ok: 1 }), aesKey, iv), '{"ok":1}');
  });
});

describe('hostile arguments to the data API 4.0, ring and endpoint calls', async () => {
  const api = await import('wa-flows-crypto');
  const key = api.FlowPrivateKey.fromPem(readFileSync(new URL('../../../tests/vectors/keys/rsa2048_pkcs8.pem', import.meta.url), 'utf8'));
  const request = '{"version":"4.0","action":"INIT","flow_token":"t"}';

  test('wrong JS types are TypeErrors', () => {
    for (const secret of [1, null, {}, [1], ['ok', {}]]) {
      assert.throws(() => api.verifyFlowTokenSignature(request, secret), TypeError);
    }
    for (const now of ['now', {}, Number.NaN, Infinity, 1n]) {
      assert.throws(() => api.verifyFlowTokenSignature(request, 's', { now }), TypeError);
    }
    for (const bad of [1, null, undefined, [request]]) assert.throws(() => api.verifyFlowTokenSignature(bad, 's'), TypeError);
    assert.throws(() => api.signFlowToken(1, 's'), TypeError);
    assert.throws(() => api.signFlowToken('t', 's', { exp: 'soon' }), TypeError);
    assert.throws(() => new api.FlowKeyRing('key'), TypeError);
    assert.throws(() => new api.FlowKeyRing([key, {}]), TypeError);
    assert.throws(() => new api.FlowEndpoint(), TypeError);
    assert.throws(() => new api.FlowEndpoint({ key, appSecret: [1] }), TypeError);
    assert.throws(() => api.verifySignature('{}', 'sha256=00', ['s', 2]), TypeError);
  });

  test('lone surrogates are refused', () => {
    assert.throws(() => api.verifyFlowTokenSignature(request, '\ud800'), TypeError);
    assert.throws(() => api.verifyFlowTokenSignature('{"action":"\ud800"}', 's'), TypeError);
    assert.throws(() => api.signFlowToken('\udc00', 's'), TypeError);
    assert.throws(() => new api.FlowEndpoint({ key, appSecret: 's', flowTokenSignature: '\ud800' }), TypeError);
  });

  test('bytes are copied before the call returns to the event loop', async () => {
    const endpoint = new api.FlowEndpoint({ key });
    const body = new TextEncoder().encode('{}');
    const pending = endpoint.open(body);
    body.fill(0x41);
    await assert.rejects(pending, { code: 'malformed' });
    await assert.rejects(endpoint.open(1), TypeError);
    await assert.rejects(endpoint.open('{}', 5), TypeError);
  });
});
