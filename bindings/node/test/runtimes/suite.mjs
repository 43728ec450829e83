// The vector suite every runtime runs against the package as installed from the `npm pack`
// tarball: requests.json (every vector, every RSA engine the runtime's build offers, the body
// as text, bytes and object, async and sync), the two-step unwrap, responses.json,
// signatures.json, and the streaming MediaDecryptor over media.json's size_1048579 vector.
// Web APIs only (no Buffer, no node:*), so Deno, Bun, workerd and Chromium run it as it is.
//
// runSuite(api, load, log) -> { passed, failed, failures, engines }
//   api:  the module namespace of `wa-flows-crypto` as the runtime resolved it
//   load: { json(name) -> Promise<object>, bytes(relativePath) -> Promise<Uint8Array> }
//         (paths relative to tests/vectors)

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const fromHex = (text) => new Uint8Array(text.match(/../g)?.map((pair) => parseInt(pair, 16)) ?? []);
const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const STATUS = { malformed: 421, key_unwrap: 421, payload_auth: 421, invalid_key: 500 };

class Mismatch extends Error {}

function check(condition, message) {
  if (!condition) throw new Mismatch(message);
}

function same(actual, expected, label) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${label}:\n  expected ${e}\n  actual   ${a}`);
}

/** A seeded PRNG, so a failing chunking can be reproduced (the seed is in the label). */
function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomChunks(bytes, random) {
  const chunks = [];
  let at = 0;
  while (at < bytes.length) {
    const roll = random();
    const size = roll < 0.3 ? Math.floor(random() * 17) : roll < 0.8 ? Math.floor(random() * 5000) : Math.floor(random() * 300000);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  chunks.splice(Math.floor(random() * chunks.length), 0, new Uint8Array(0));
  return chunks;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

export async function runSuite(api, load, log = () => {}) {
  const {
    FlowCryptoError,
    FlowPrivateKey,
    MediaDecryptor,
    decryptPayload,
    decryptRequest,
    decryptRequestSync,
    encryptResponse,
    unwrapAesKey,
    verifySignature,
  } = api;
  let passed = 0;
  const failures = [];
  async function test(name, body) {
    try {
      await body();
      passed += 1;
    } catch (error) {
      failures.push({ name, error: error instanceof Mismatch ? error.message : String(error?.stack ?? error) });
      log(`FAIL ${name}: ${failures.at(-1).error}`);
    }
  }

  const [requests, responses, signatures, media] = await Promise.all(
    ['requests.json', 'responses.json', 'signatures.json', 'media.json'].map((name) => load.json(name)),
  );
  const keyFiles = new Map();
  for (const vector of requests.vectors) {
    if (!keyFiles.has(vector.key)) keyFiles.set(vector.key, await load.bytes(vector.key));
  }
  const engines = FlowPrivateKey.engines;
  function loadKey(file, passphrase) {
    const data = keyFiles.get(file);
    return file.endsWith('.der')
      ? FlowPrivateKey.fromDer(data, passphrase ?? undefined)
      : FlowPrivateKey.fromPem(new TextDecoder().decode(data), passphrase ?? undefined);
  }

  async function outcome(operation) {
    try {
      const result = await operation();
      return { ok: true, plaintext: result.plaintext, aes_key_hex: hex(result.aesKey), iv_hex: hex(result.iv) };
    } catch (error) {
      if (!(error instanceof FlowCryptoError)) throw error;
      check(error instanceof Error, 'FlowCryptoError is an Error');
      return { ok: false, error: error.code, httpStatus: error.httpStatus, message: error.message };
    }
  }

  function checkExpected(actual, expect, label) {
    if (expect.ok) {
      same(
        { ok: actual.ok, plaintext: actual.plaintext, aes_key_hex: actual.aes_key_hex, iv_hex: actual.iv_hex },
        { ok: true, plaintext: expect.plaintext, aes_key_hex: expect.aes_key_hex, iv_hex: expect.iv_hex },
        label,
      );
    } else {
      same({ ok: actual.ok, error: actual.error, httpStatus: actual.httpStatus }, { ok: false, error: expect.error, httpStatus: STATUS[expect.error] }, label);
    }
  }

  await test('engines: webcrypto or node first, wasm last', () => {
    check(engines.length >= 2 && engines.at(-1) === 'wasm', `engines ${engines}`);
  });

  for (const vector of requests.vectors) {
    await test(`requests.json ${vector.name}`, async () => {
      const text = JSON.stringify(vector.request);
      const forms = { text, bytes: new TextEncoder().encode(text), object: structuredClone(vector.request) };
      const seen = [];
      for (const engine of engines) {
        const key = () => loadKey(vector.key, vector.passphrase).withEngine(engine);
        for (const [form, body] of Object.entries(forms)) {
          const label = `${vector.name} / ${engine} / ${form}`;
          const asyncResult = await outcome(() => decryptRequest(body, key()));
          checkExpected(asyncResult, vector.expect, `${label} / async`);
          const syncResult = await outcome(() => decryptRequestSync(body, key()));
          checkExpected(syncResult, vector.expect, `${label} / sync`);
          seen.push({ label, result: asyncResult }, { label: `${label} / sync`, result: syncResult });
        }
      }
      for (const { label, result } of seen) same(result, seen[0].result, `${label} differs from ${seen[0].label}`);
    });
  }

  await test('requests.json init in two steps (unwrapAesKey, decryptPayload) through every engine', async () => {
    const vector = requests.vectors.find((v) => v.name === 'init');
    for (const engine of engines) {
      const key = loadKey(vector.key, vector.passphrase).withEngine(engine);
      const aesKey = await unwrapAesKey(fromBase64(vector.request.encrypted_aes_key), key);
      same(hex(aesKey), vector.expect.aes_key_hex, `${engine} unwrap`);
      const opened = decryptPayload(vector.request, aesKey);
      same(opened.plaintext, vector.expect.plaintext, `${engine} payload`);
      same(opened.decryptedBody, JSON.parse(vector.expect.plaintext), `${engine} decryptedBody`);
    }
  });

  for (const vector of responses.vectors) {
    await test(`responses.json ${vector.name}`, () => {
      const aesKey = fromHex(vector.aes_key_hex);
      const iv = fromHex(vector.request_iv_hex);
      same(encryptResponse(vector.plaintext, aesKey, iv), vector.expected_body, 'text');
      same(encryptResponse(new TextEncoder().encode(vector.plaintext), aesKey, iv), vector.expected_body, 'bytes');
      const object = JSON.parse(vector.plaintext);
      same(encryptResponse(object, aesKey, iv), encryptResponse(JSON.stringify(object), aesKey, iv), 'object');
    });
  }

  for (const vector of signatures.vectors) {
    await test(`signatures.json ${vector.name}`, () => {
      const body = fromBase64(vector.body_b64);
      same(verifySignature(body, vector.header, vector.app_secret), vector.valid, 'secret as text');
      same(verifySignature(body, vector.header, new TextEncoder().encode(vector.app_secret)), vector.valid, 'secret as bytes');
    });
  }

  const big = media.vectors.find((v) => v.name === 'size_1048579');
  const [bigFile, bigPlain] = await Promise.all([load.bytes(big.file), load.bytes(big.expect.plaintext_file)]);
  const expectedPlain = hex(bigPlain);
  for (let seed = 1; seed <= 3; seed += 1) {
    await test(`media.json size_1048579 streamed with update/finish, seed ${seed}`, () => {
      const decryptor = new MediaDecryptor(big.metadata);
      const chunks = randomChunks(bigFile, prng(seed));
      const parts = chunks.map((chunk) => decryptor.update(chunk));
      parts.push(decryptor.finish());
      const plain = concat(parts);
      same(plain.byteLength, bigPlain.byteLength, `${chunks.length} chunks: length`);
      check(hex(plain) === expectedPlain, `${chunks.length} chunks: plaintext differs from ${big.expect.plaintext_file}`);
    });
  }
  await test('media.json size_1048579 through MediaDecryptor as a TransformStream', async () => {
    const chunks = randomChunks(bigFile, prng(11));
    const source = new ReadableStream({
      pull(controller) {
        if (chunks.length === 0) controller.close();
        else controller.enqueue(chunks.shift());
      },
    });
    const parts = [];
    for await (const part of source.pipeThrough(new MediaDecryptor(JSON.stringify(big.metadata)))) parts.push(part);
    check(hex(concat(parts)) === expectedPlain, `plaintext differs from ${big.expect.plaintext_file}`);
  });
  await test('media.json tampered_file_rehashed streamed: finish refuses with hmac_mismatch', async () => {
    const vector = media.vectors.find((v) => v.name === 'tampered_file_rehashed');
    const file = await load.bytes(vector.file);
    const decryptor = new MediaDecryptor(vector.metadata);
    let code = 'no error';
    try {
      for (const chunk of randomChunks(file, prng(5))) decryptor.update(chunk);
      decryptor.finish();
    } catch (error) {
      if (!(error instanceof FlowCryptoError)) throw error;
      code = error.code;
    }
    same(code, vector.expect.error, 'error code');
  });

  return { passed, failed: failures.length, failures, engines };
}

/** The summary line every driver prints, and the exit code it should end with. */
export function summary(runtime, result) {
  const lines = result.failures.map((f) => `  FAIL ${f.name}\n    ${f.error.replaceAll('\n', '\n    ')}`);
  lines.push(`${runtime}: RSA engines ${result.engines.join(', ')}`);
  lines.push(`${runtime}: ${result.passed} passed, ${result.failed} failed`);
  return { text: lines.join('\n'), code: result.failed === 0 && result.passed > 0 ? 0 : 1 };
}
