// Request bodies the package reads with the platform's JSON.parse and base64 decoder instead of
// the core's parser: every body gives exactly what the core's parser gives (result, or error
// code and message), and well-formed bodies really take the platform route.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

// The package entry point instantiates the wasm module the tests share.
import 'wa-flows-crypto';
import { createApi } from '../lib/platform.mjs';
import { nodeCanonicalBase64 } from '../lib/engines/node.mjs';
import { webCanonicalBase64 } from '../lib/engines/webcrypto.mjs';
import * as wasm from '../pkg/wa_flows_crypto_wasm.js';
import { loadVectors, vectorFile } from './support/vectors.mjs';

const vectors = loadVectors('requests.json').vectors;
const pem = vectorFile('keys/rsa2048_pkcs8.pem').toString('utf8');

/** Counts the bodies that reach the core's parser. */
const spy = { ...wasm, parsed: 0 };
spy.parseRequest = (body) => {
  spy.parsed += 1;
  return wasm.parseRequest(body);
};

const decoders = { node: nodeCanonicalBase64 };
if (webCanonicalBase64) decoders.web = webCanonicalBase64;

const core = createApi({ wasm, engines: {}, defaultEngine: 'wasm' });
const coreKey = core.FlowPrivateKey.fromPem(pem);

async function outcome(api, body, key) {
  try {
    const decrypted = await api.decryptRequest(body, key);
    return { plaintext: decrypted.plaintext, aesKey: [...decrypted.aesKey], iv: [...decrypted.iv] };
  } catch (error) {
    return { code: error.code, message: error.message, httpStatus: error.httpStatus };
  }
}

const valid = vectors.find((v) => v.name === 'init').request;
const flow = valid.encrypted_flow_data;
const iv = valid.initial_vector;
const text = (fields) => JSON.stringify(fields);
const utf8 = (string) => new TextEncoder().encode(string);
const escapedFirstCharacter = text({
  ...valid,
  encrypted_flow_data: `@${flow.slice(1)}`,
}).replace('@', `\\u${flow.charCodeAt(0).toString(16).padStart(4, '0')}`);
// The URL-safe case below needs characters to replace.
assert.match(flow, /[+/]/);

/** Flips the bits below the last decoded byte of canonical padded base64. */
function trailingBits(base64) {
  const padding = base64.endsWith('==') ? 2 : 1;
  const at = base64.length - padding - 1;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const value = alphabet.indexOf(base64[at]) | (padding === 2 ? 0x0f : 0x03);
  return base64.slice(0, at) + alphabet[value] + base64.slice(at + 1);
}

// [name, body, takes the platform route]
const bodies = [
  ['canonical text', text(valid), true],
  ['canonical bytes', utf8(text(valid)), true],
  ['canonical ArrayBuffer', utf8(text(valid)).buffer, true],
  ['canonical DataView', new DataView(utf8(text(valid)).buffer), true],
  ['parsed object', { ...valid }, true],
  ['extra string fields, one named like a field', text({ ...valid, note: 'encrypted_flow_data' }), true],
  ['__proto__ key', `{"__proto__":"x",${text(valid).slice(1)}`, true],
  ['duplicate key, the valid one last', `{"encrypted_flow_data":"AAAA",${text(valid).slice(1)}`, true],
  ['duplicate key, the valid one first', `${text(valid).slice(0, -1)},"encrypted_flow_data":"AAAA"}`, false],
  ['unpadded IV', text({ ...valid, initial_vector: iv.replace(/=+$/, '') }), false],
  ['IV with non-zero trailing bits', text({ ...valid, initial_vector: trailingBits(iv) }), false],
  ['URL-safe alphabet', text({ ...valid, encrypted_flow_data: flow.replace(/\+/g, '-').replace(/\//g, '_') }), false],
  ['a space inside base64', text({ ...valid, encrypted_flow_data: `${flow.slice(0, 8)} ${flow.slice(8)}` }), false],
  ['padding inside base64', text({ ...valid, encrypted_flow_data: `${flow.slice(0, 6)}==${flow.slice(8)}` }), false],
  ['extra padding', text({ ...valid, initial_vector: `${iv}==` }), false],
  ['a stray non-alphabet character', text({ ...valid, encrypted_flow_data: `${flow.slice(0, 7)}*${flow.slice(8)}` }), false],
  ['escaped key', text(valid).replace('"encrypted_aes_key"', '"encrypted\\u005faes_key"'), false],
  ['an escaped character in base64', escapedFirstCharacter, false],
  ['escaped lone surrogate in an extra field', `${text(valid).slice(0, -1)},"x":"\\ud800"}`, false],
  ['raw lone surrogate in an extra field', `${text(valid).slice(0, -1)},"x":"\ud800"}`, true],
  ['number out of range in an extra field', `${text(valid).slice(0, -1)},"x":1e400}`, false],
  ['deep nesting in an extra field', `${text(valid).slice(0, -1)},"x":${'['.repeat(200)}${']'.repeat(200)}}`, false],
  ['nested object in an extra field', text({ ...valid, x: { y: 1 } }), false],
  ['byte order mark, text', `\ufeff${text(valid)}`, false],
  ['byte order mark, bytes', utf8(`\ufeff${text(valid)}`), false],
  ['invalid UTF-8 in an extra field', Uint8Array.of(...utf8(text(valid)).slice(0, -1), ...utf8(',"x":"'), 0xff, ...utf8('"}')), false],
  ['a number for a field', text({ ...valid, initial_vector: 7 }), false],
  ['a String object for a field', { ...valid, initial_vector: new String(iv) }, false],
  ['a missing field', text({ encrypted_flow_data: flow, initial_vector: iv }), false],
  ['empty fields', text({ encrypted_flow_data: '', encrypted_aes_key: '', initial_vector: '' }), false],
  ['an array', `[${text(valid)}]`, false],
  ['null', 'null', false],
  ['trailing garbage', `${text(valid)}x`, false],
  ['trailing whitespace', `${text(valid)}\n\t `, true],
];

for (const [decoderName, base64] of Object.entries(decoders)) {
  describe(`request bodies through the ${decoderName} base64 decoder`, () => {
    const api = createApi({ wasm: spy, engines: {}, defaultEngine: 'wasm', base64 });
    const key = api.FlowPrivateKey.fromPem(pem);

    for (const [name, body, platformRoute] of bodies) {
      test(name, async () => {
        const expected = await outcome(core, body, coreKey);
        const before = spy.parsed;
        assert.deepEqual(await outcome(api, body, key), expected);
        assert.equal(spy.parsed === before, platformRoute, platformRoute ? 'went to the core parser' : 'skipped the core parser');
      });
    }

    test('the shared request vectors', async () => {
      for (const vector of vectors.filter((v) => v.key === 'keys/rsa2048_pkcs8.pem')) {
        assert.deepEqual(await outcome(api, vector.request, key), await outcome(core, vector.request, coreKey), vector.name);
      }
    });
  });
}

test('canonical base64 decoders agree with each other and refuse what the core refuses', () => {
  const samples = ['', 'AA==', 'AAE=', 'AAEC', 'AAF=', 'AB==', 'AA=', 'AA', 'A===', '====', 'AA-_', 'AA/+', 'AA E', flow, iv];
  for (const base64 of Object.values(decoders)) {
    const accepted = samples.filter((sample) => base64(sample) !== null);
    assert.deepEqual(accepted, ['', 'AA==', 'AAE=', 'AAEC', 'AA/+', flow, iv]);
    assert.deepEqual([...base64('AAE=')], [0, 1]);
  }
});
