// The Node side of the comparison: our npm package (each RSA engine) against the protocol
// written by hand with node:crypto and with WebCrypto, as an endpoint without the package would.
//
//   node runner.mjs bench DIR [SECONDS]          JSON medians on stdout
//   node runner.mjs mem DIR SIZE MODE IMPL       one media run (MODE idle|oneshot|stream,
//                                                IMPL npm|node:crypto|webcrypto)
//
// The package is imported from bindings/node (built by run.sh: npm install && npm run build).
import {
  constants,
  createDecipheriv,
  createCipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  privateDecrypt,
  timingSafeEqual,
  webcrypto,
} from 'node:crypto';
import { openSync, readFileSync, readSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const packageDir = resolve(process.env.WFC_NODE_PACKAGE ?? join(here, '..', '..', 'bindings', 'node'));
const pkgJson = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
const { FlowPrivateKey, MediaDecryptor, decryptMediaContent, decryptRequest, decryptRequestSync, encryptResponse } =
  await import(pathToFileURL(join(packageDir, 'lib', 'node.mjs')).href);

const subtle = webcrypto.subtle;
const ROUNDS = 7;
const CHUNK = 64 * 1024;
const MEDIA_MIB = [1, 16];

/** Median seconds per call over ROUNDS calibrated batches, about `seconds` in all. */
async function measure(seconds, fn) {
  const now = () => Number(process.hrtime.bigint()) / 1e9;
  const isAsync = fn() instanceof Promise;
  const run = isAsync
    ? async (n) => {
        for (let i = 0; i < n; i += 1) await fn();
      }
    : async (n) => {
        for (let i = 0; i < n; i += 1) fn();
      };
  let start = now();
  let calls = 0;
  while (calls === 0 || now() - start < seconds / 10) {
    await run(1);
    calls += 1;
  }
  const perCall = (now() - start) / calls;
  const batch = Math.max(1, Math.round((seconds * 0.9) / ROUNDS / perCall));
  const times = [];
  for (let r = 0; r < ROUNDS; r += 1) {
    start = now();
    await run(batch);
    times.push((now() - start) / batch);
  }
  times.sort((a, b) => a - b);
  return [times[Math.floor(ROUNDS / 2)], batch * ROUNDS];
}

// ---- the protocol by hand -------------------------------------------------------------------

const fromBase64 = (text) => Buffer.from(text, 'base64');

function nodeDecryptRequest(body, key) {
  const { encrypted_flow_data: data, encrypted_aes_key: wrapped, initial_vector: ivText } = JSON.parse(body);
  const aesKey = privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, fromBase64(wrapped));
  const flow = fromBase64(data);
  const iv = fromBase64(ivText);
  const decipher = createDecipheriv('aes-128-gcm', aesKey, iv);
  decipher.setAuthTag(flow.subarray(-16));
  const plaintext = Buffer.concat([decipher.update(flow.subarray(0, -16)), decipher.final()]).toString('utf8');
  return { decryptedBody: JSON.parse(plaintext), aesKey, iv };
}

function nodeEncryptResponse(response, aesKey, iv) {
  const flipped = Buffer.from(iv.map((byte) => byte ^ 0xff));
  const cipher = createCipheriv('aes-128-gcm', aesKey, flipped);
  return Buffer.concat([cipher.update(response, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64');
}

function pemToDer(pem) {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

async function webImportKey(pem) {
  return subtle.importKey('pkcs8', pemToDer(pem), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
}

async function webDecryptRequest(body, key) {
  const { encrypted_flow_data: data, encrypted_aes_key: wrapped, initial_vector: ivText } = JSON.parse(body);
  const raw = new Uint8Array(await subtle.decrypt({ name: 'RSA-OAEP' }, key, fromBase64(wrapped)));
  const aesKey = await subtle.importKey('raw', raw, 'AES-GCM', false, ['decrypt']);
  const iv = fromBase64(ivText);
  const plaintext = await subtle.decrypt({ name: 'AES-GCM', iv, tagLength: 128 }, aesKey, fromBase64(data));
  return { decryptedBody: JSON.parse(new TextDecoder().decode(plaintext)), aesKey: raw, iv };
}

async function webEncryptResponse(response, aesKey, iv) {
  const key = await subtle.importKey('raw', aesKey, 'AES-GCM', false, ['encrypt']);
  const flipped = iv.map((byte) => byte ^ 0xff);
  const sealed = await subtle.encrypt({ name: 'AES-GCM', iv: flipped, tagLength: 128 }, key, new TextEncoder().encode(response));
  return Buffer.from(sealed).toString('base64');
}

/** Media decryption with node:crypto: the same checks in the same order as the package. */
function nodeDecryptMedia(file, metadata) {
  const b = (field) => fromBase64(metadata[field]);
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

/** The same streaming: hash, MAC and decrypt chunk by chunk, holding back the 10-byte MAC. */
class NodeMediaStream {
  constructor(metadata) {
    const b = (field) => fromBase64(metadata[field]);
    this.metadata = metadata;
    this.fileHash = createHash('sha256');
    this.plainHash = createHash('sha256');
    this.hmac = createHmac('sha256', b('hmac_key')).update(b('iv'));
    this.decipher = createDecipheriv('aes-256-cbc', b('encryption_key'), b('iv'));
    this.tail = Buffer.alloc(0);
  }

  update(chunk) {
    this.fileHash.update(chunk);
    const data = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    const keep = Math.min(10, data.length);
    const body = data.subarray(0, data.length - keep);
    this.tail = Buffer.from(data.subarray(data.length - keep));
    this.hmac.update(body);
    const out = this.decipher.update(body);
    this.plainHash.update(out);
    return out; // unverified until finish()
  }

  finish() {
    const b = (field) => fromBase64(this.metadata[field]);
    if (!timingSafeEqual(this.fileHash.digest(), b('encrypted_hash'))) throw new Error('encrypted_hash_mismatch');
    if (!timingSafeEqual(this.hmac.digest().subarray(0, 10), this.tail)) throw new Error('hmac_mismatch');
    const out = this.decipher.final();
    this.plainHash.update(out);
    if (!timingSafeEqual(this.plainHash.digest(), b('plaintext_hash'))) throw new Error('plaintext_hash_mismatch');
    return out;
  }
}

/** Media decryption with WebCrypto (one-shot only: WebCrypto has no streaming ciphers). */
async function webDecryptMedia(file, metadata) {
  const b = (field) => fromBase64(metadata[field]);
  const equal = (a, c) => a.length === c.length && timingSafeEqual(a, c);
  const iv = b('iv');
  if (!equal(new Uint8Array(await subtle.digest('SHA-256', file)), b('encrypted_hash'))) throw new Error('encrypted_hash_mismatch');
  const ciphertext = file.subarray(0, -10);
  const hmacKey = await subtle.importKey('raw', b('hmac_key'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const macInput = new Uint8Array(iv.length + ciphertext.length);
  macInput.set(iv);
  macInput.set(ciphertext, iv.length);
  const mac = new Uint8Array(await subtle.sign('HMAC', hmacKey, macInput)).subarray(0, 10);
  if (!equal(mac, file.subarray(-10))) throw new Error('hmac_mismatch');
  const aesKey = await subtle.importKey('raw', b('encryption_key'), 'AES-CBC', false, ['decrypt']);
  const plaintext = new Uint8Array(await subtle.decrypt({ name: 'AES-CBC', iv }, aesKey, ciphertext));
  if (!equal(new Uint8Array(await subtle.digest('SHA-256', plaintext)), b('plaintext_hash'))) throw new Error('plaintext_hash_mismatch');
  return plaintext;
}

function streamOurs(file, metadata) {
  const decryptor = new MediaDecryptor(metadata);
  let total = 0;
  for (let at = 0; at < file.length; at += CHUNK) total += decryptor.update(file.subarray(at, at + CHUNK)).length;
  return total + decryptor.finish().length;
}

function streamNode(file, metadata) {
  const decryptor = new NodeMediaStream(metadata);
  let total = 0;
  for (let at = 0; at < file.length; at += CHUNK) total += decryptor.update(file.subarray(at, at + CHUNK)).length;
  return total + decryptor.finish().length;
}

// ---- runs -----------------------------------------------------------------------------------

async function bench(dir, seconds) {
  const read = (name) => readFileSync(join(dir, name));
  const pem = read('key.pem').toString('utf8');
  const results = [];
  const push = (op, impl, [median, n], bytes) => {
    const entry = { op, impl, median_s: median, ops_per_s: 1 / median, n };
    if (bytes !== undefined) entry.mb_per_s = bytes / median / 1e6;
    process.stderr.write(`  ${impl.padEnd(14)} ${op.padEnd(24)} ${(1 / median).toFixed(1).padStart(12)} ops/s\n`);
    results.push(entry);
  };

  push('key_load', 'npm', await measure(seconds, () => FlowPrivateKey.fromPem(pem)));
  push('key_load', 'node:crypto', await measure(seconds, () => createPrivateKey(pem)));
  push('key_load', 'webcrypto', await measure(seconds, () => webImportKey(pem)));

  const ours = FlowPrivateKey.fromPem(pem);
  const nodeKey = createPrivateKey(pem);
  const webKey = await webImportKey(pem);
  let aesKey;
  let iv;
  for (const [op, name] of [
    ['decrypt_request_300b', 'request_small.json'],
    ['decrypt_request_200kb', 'request_large.json'],
  ]) {
    const body = read(name).toString('utf8');
    const expected = JSON.stringify(nodeDecryptRequest(body, nodeKey).decryptedBody);
    for (const engine of ['node', 'webcrypto', 'wasm']) {
      const got = await decryptRequest(body, ours.withEngine(engine));
      if (JSON.stringify(got.decryptedBody) !== expected) throw new Error(`engine ${engine} disagrees`);
    }
    if (JSON.stringify((await webDecryptRequest(body, webKey)).decryptedBody) !== expected) throw new Error('webcrypto disagrees');
    if (!aesKey) ({ aesKey, iv } = nodeDecryptRequest(body, nodeKey));

    const nodeEngine = ours.withEngine('node');
    const webEngine = ours.withEngine('webcrypto');
    const wasmEngine = ours.withEngine('wasm');
    push(op, 'npm:node', await measure(seconds, () => decryptRequestSync(body, nodeEngine)));
    push(op, 'npm:webcrypto', await measure(seconds, () => decryptRequest(body, webEngine)));
    push(op, 'npm:wasm', await measure(seconds, () => decryptRequestSync(body, wasmEngine)));
    push(op, 'node:crypto', await measure(seconds, () => nodeDecryptRequest(body, nodeKey)));
    push(op, 'webcrypto', await measure(seconds, () => webDecryptRequest(body, webKey)));
  }

  const response = read('response.json').toString('utf8');
  const size = Buffer.byteLength(response);
  const sealed = encryptResponse(response, aesKey, iv);
  if (sealed !== nodeEncryptResponse(response, aesKey, iv) || sealed !== (await webEncryptResponse(response, aesKey, iv))) {
    throw new Error('encrypt_response disagrees');
  }
  push('encrypt_response_10kb', 'npm', await measure(seconds, () => encryptResponse(response, aesKey, iv)), size);
  push('encrypt_response_10kb', 'node:crypto', await measure(seconds, () => nodeEncryptResponse(response, aesKey, iv)), size);
  push('encrypt_response_10kb', 'webcrypto', await measure(seconds, () => webEncryptResponse(response, aesKey, iv)), size);

  for (const mib of MEDIA_MIB) {
    const file = read(`media_${mib}m.enc`);
    const metadata = JSON.parse(read(`media_${mib}m.json`).toString('utf8'));
    const expected = nodeDecryptMedia(file, metadata);
    for (const got of [await decryptMediaContent(file, metadata), await webDecryptMedia(file, metadata)]) {
      if (Buffer.compare(Buffer.from(got), expected) !== 0) throw new Error('media disagrees');
    }
    const op = `media_${mib}mib`;
    push(op, 'npm', await measure(seconds, () => decryptMediaContent(file, metadata)), file.length);
    push(op, 'node:crypto', await measure(seconds, () => nodeDecryptMedia(file, metadata)), file.length);
    push(op, 'webcrypto', await measure(seconds, () => webDecryptMedia(file, metadata)), file.length);
    push(`${op}_stream`, 'npm', await measure(seconds, () => streamOurs(file, metadata)), file.length);
    push(`${op}_stream`, 'node:crypto', await measure(seconds, () => streamNode(file, metadata)), file.length);
  }

  const version = `node ${process.version}, wa-flows-crypto (npm) ${pkgJson.version}, OpenSSL ${process.versions.openssl}`;
  console.log(JSON.stringify({ runtime: 'node', version, results }));
}

async function memory(dir, mib, mode, impl) {
  const path = join(dir, `media_${mib}m.enc`);
  const metadata = JSON.parse(readFileSync(join(dir, `media_${mib}m.json`), 'utf8'));
  let n;
  if (mode === 'idle') n = readFileSync(path).length;
  else if (mode === 'oneshot') {
    const file = readFileSync(path);
    const decrypt = { npm: decryptMediaContent, 'node:crypto': nodeDecryptMedia, webcrypto: webDecryptMedia }[impl];
    n = (await decrypt(file, metadata)).length;
  } else if (mode === 'stream') {
    const decryptor = impl === 'npm' ? new MediaDecryptor(metadata) : new NodeMediaStream(metadata);
    const fd = openSync(path, 'r');
    const chunk = Buffer.alloc(CHUNK);
    n = 0;
    for (let got; (got = readSync(fd, chunk, 0, CHUNK, null)) > 0; ) n += decryptor.update(chunk.subarray(0, got)).length;
    closeSync(fd);
    n += decryptor.finish().length;
  } else throw new Error(`unknown mode ${mode}`);
  console.log(JSON.stringify({ bytes: n, peak_rss_kib: peakRssKib() }));
}

/** This process's peak RSS (Linux VmHWM: reset by exec, unlike ru_maxrss); 0 elsewhere. */
function peakRssKib() {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
    return line ? Number(line.split(/\s+/)[1]) : 0;
  } catch {
    return 0;
  }
}

const [command, dir, ...rest] = process.argv.slice(2);
if (command === 'bench' && dir) await bench(dir, Number(rest[0] ?? 1.5));
else if (command === 'mem' && rest.length === 3) await memory(dir, ...rest);
else {
  console.error('usage: runner.mjs bench DIR [SECONDS] | mem DIR SIZE MODE IMPL');
  process.exit(2);
}
