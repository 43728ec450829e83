// Benchmarks (not tests): the package against hand-written node:crypto / WebCrypto code on the
// same inputs, in one run. Prints medians. `npm run bench` after `npm run build`.
//
//   node bench/bench.mjs [--quick]
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
  webcrypto,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

import { FlowPrivateKey, MediaDecryptor, decryptMediaContent, decryptRequest, decryptRequestSync } from 'wa-flows-crypto';
import { initSync } from '../pkg/wa_flows_crypto_wasm.js';

const quick = process.argv.includes('--quick');
const here = new URL('.', import.meta.url);
const wasmUrl = new URL('../pkg/wa_flows_crypto_wasm_bg.wasm', here);
// The package already instantiated the module; this returns its exports (for memory size).
const wasmExports = initSync({ module: readFileSync(wasmUrl) });
const vectors = new URL('../../../tests/vectors/', here);
const pem = readFileSync(new URL('keys/rsa2048_pkcs8.pem', vectors), 'utf8');
const subtle = webcrypto.subtle;

/** Median time per operation (ms) over `rounds` rounds of `batch` operations. */
async function median(fn, options) {
  return (await medians([fn], options))[0];
}

/**
 * Medians for several functions measured round-robin (each round times a batch of every
 * function in turn), so load changes on a shared machine hit all of them alike.
 */
async function medians(fns, { rounds = quick ? 7 : 21, batch = 20 } = {}) {
  for (const fn of fns) for (let i = 0; i < batch; i += 1) await fn(); // warm-up
  const times = fns.map(() => []);
  for (let r = 0; r < rounds; r += 1) {
    for (const [index, fn] of fns.entries()) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < batch; i += 1) await fn();
      times[index].push(Number(process.hrtime.bigint() - start) / 1e6 / batch);
    }
  }
  return times.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]);
}

function row(name, ms, baseline, extra = '') {
  const ratio = baseline ? `${(ms / baseline).toFixed(2)}×` : '1.00×';
  console.log(`  ${name.padEnd(44)} ${ms.toFixed(4).padStart(10)} ms  ${ratio.padStart(7)}${extra}`);
}

// ---- requests -------------------------------------------------------------------------------

function seal(publicKeyPem, plaintext) {
  const aesKey = randomBytes(16);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-gcm', aesKey, iv);
  const data = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  const wrapped = publicEncrypt({ key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, aesKey);
  return JSON.stringify({
    encrypted_flow_data: data.toString('base64'),
    encrypted_aes_key: wrapped.toString('base64'),
    initial_vector: iv.toString('base64'),
  });
}

/** The protocol written by hand with node:crypto, as an endpoint without this package would. */
const nodeKey = createPrivateKey(pem);
function handWrittenNode(body) {
  const { encrypted_flow_data: data, encrypted_aes_key: wrapped, initial_vector: ivText } = JSON.parse(body);
  const aesKey = privateDecrypt(
    { key: nodeKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    Buffer.from(wrapped, 'base64'),
  );
  const flow = Buffer.from(data, 'base64');
  const iv = Buffer.from(ivText, 'base64');
  const decipher = createDecipheriv('aes-128-gcm', aesKey, iv);
  decipher.setAuthTag(flow.subarray(-16));
  const plaintext = Buffer.concat([decipher.update(flow.subarray(0, -16)), decipher.final()]).toString('utf8');
  return { decryptedBody: JSON.parse(plaintext), aesKey, iv };
}

/** The same with WebCrypto, as a Worker without this package would. */
const webKey = await subtle.importKey(
  'pkcs8',
  createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' }),
  { name: 'RSA-OAEP', hash: 'SHA-256' },
  false,
  ['decrypt'],
);
const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
async function handWrittenWebCrypto(body) {
  const { encrypted_flow_data: data, encrypted_aes_key: wrapped, initial_vector: ivText } = JSON.parse(body);
  const raw = await subtle.decrypt({ name: 'RSA-OAEP' }, webKey, fromBase64(wrapped));
  const aesKey = await subtle.importKey('raw', raw, 'AES-GCM', false, ['decrypt']);
  const iv = fromBase64(ivText);
  const plaintext = await subtle.decrypt({ name: 'AES-GCM', iv, tagLength: 128 }, aesKey, fromBase64(data));
  return { decryptedBody: JSON.parse(new TextDecoder().decode(plaintext)), aesKey: raw, iv };
}

const key = FlowPrivateKey.fromPem(pem);
const publicPem = key.publicKeyPem();
const bodies = {
  'ping (small)': seal(publicPem, JSON.stringify({ version: '3.0', action: 'ping' })),
  'data_exchange 200 KB': seal(
    publicPem,
    JSON.stringify({ version: '3.0', action: 'data_exchange', screen: 'S', flow_token: 't', data: { blob: 'x'.repeat(200_000) } }),
  ),
};

console.log(`\nnode ${process.version}; medians per operation${quick ? ' (quick)' : ''}\n`);
for (const [label, body] of Object.entries(bodies)) {
  console.log(`decrypt a request: ${label}`);
  const [base, ours, oursSync, web, webPkg] = await medians([
    () => handWrittenNode(body),
    () => decryptRequest(body, key),
    () => decryptRequestSync(body, key),
    () => handWrittenWebCrypto(body),
    () => decryptRequest(body, key.withEngine('webcrypto')),
  ]);
  row('hand-written node:crypto', base, 0);
  row('decryptRequest (engine node)', ours, base);
  row('decryptRequestSync (engine node)', oursSync, base);
  row('hand-written WebCrypto', web, base);
  row('decryptRequest (engine webcrypto)', webPkg, base, `  (${(webPkg / web).toFixed(2)}× hand-written WebCrypto)`);
  row('decryptRequest (engine wasm)', await median(() => decryptRequest(body, key.withEngine('wasm')), { batch: 3 }), base);
}

// ---- media ----------------------------------------------------------------------------------

function sealMedia(plaintext) {
  const encryptionKey = randomBytes(32);
  const hmacKey = randomBytes(32);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', encryptionKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const mac = createHmac('sha256', hmacKey).update(iv).update(ciphertext).digest().subarray(0, 10);
  const file = Buffer.concat([ciphertext, mac]);
  const metadata = {
    encryption_key: encryptionKey.toString('base64'),
    hmac_key: hmacKey.toString('base64'),
    iv: iv.toString('base64'),
    plaintext_hash: createHash('sha256').update(plaintext).digest('base64'),
    encrypted_hash: createHash('sha256').update(file).digest('base64'),
  };
  return { file, metadata };
}

/** Media decryption written by hand with node:crypto (same checks, same order). */
function handWrittenMedia(file, metadata) {
  const b = (field) => Buffer.from(metadata[field], 'base64');
  const iv = b('iv');
  if (!timingSafeEqual(createHash('sha256').update(file).digest(), b('encrypted_hash'))) throw new Error('encrypted_hash_mismatch');
  const ciphertext = file.subarray(0, -10);
  const mac = createHmac('sha256', b('hmac_key')).update(iv).update(ciphertext).digest().subarray(0, 10);
  if (!timingSafeEqual(mac, file.subarray(-10))) throw new Error('hmac_mismatch');
  const decipher = createDecipheriv('aes-256-cbc', b('encryption_key'), iv);
  const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  if (!timingSafeEqual(createHash('sha256').update(plaintext).digest(), b('plaintext_hash'))) throw new Error('plaintext_hash_mismatch');
  return plaintext;
}

const mib = 1024 * 1024;
for (const size of quick ? [4 * mib] : [1 * mib, 16 * mib]) {
  const { file, metadata } = sealMedia(randomBytes(size));
  console.log(`\nmedia one-shot: ${size / mib} MiB`);
  const rounds = { rounds: quick ? 3 : 7, batch: 1 };
  const [base, ours, wasmOnly] = await medians(
    [
      () => handWrittenMedia(file, metadata),
      () => decryptMediaContent(file, metadata),
      () => decryptMediaContent(file, metadata, { engine: 'wasm' }),
    ],
    rounds,
  );
  const mbps = (ms) => `  ${((size / mib) / (ms / 1000)).toFixed(0)} MiB/s`;
  row('hand-written node:crypto', base, 0, mbps(base));
  row('decryptMediaContent (engine node)', ours, base, `${mbps(ours)}, ${(base / ours).toFixed(2)}× platform throughput`);
  row('decryptMediaContent (engine wasm)', wasmOnly, base, `${mbps(wasmOnly)}, ${(base / wasmOnly).toFixed(2)}× platform throughput`);
}

// ---- streaming memory -----------------------------------------------------------------------

{
  const size = 64 * mib;
  const { file, metadata } = sealMedia(randomBytes(size));
  const before = wasmExports.memory.buffer.byteLength;
  const start = process.hrtime.bigint();
  const source = new ReadableStream({
    start(controller) {
      for (let at = 0; at < file.length; at += 64 * 1024) controller.enqueue(file.subarray(at, at + 64 * 1024));
      controller.close();
    },
  });
  let total = 0;
  for await (const part of source.pipeThrough(new MediaDecryptor(metadata))) total += part.length;
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const after = wasmExports.memory.buffer.byteLength;
  console.log(`\nstreaming 64 MiB through MediaDecryptor (64 KiB chunks): ${ms.toFixed(0)} ms, ${(size / mib / (ms / 1000)).toFixed(0)} MiB/s`);
  console.log(`  plaintext ${total} bytes; wasm linear memory ${(before / mib).toFixed(2)} MiB before, ${(after / mib).toFixed(2)} MiB after`);
}

// ---- size -----------------------------------------------------------------------------------

const wasmBytes = readFileSync(wasmUrl);
console.log(
  `\n.wasm: ${(wasmBytes.length / 1024).toFixed(1)} KiB, ${(gzipSync(wasmBytes, { level: 9 }).length / 1024).toFixed(1)} KiB gzipped\n`,
);
