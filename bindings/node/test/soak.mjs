// Soak: REQUESTS decryptRequest + encryptResponse calls (every good request vector of the key,
// in turn, alternating the async and sync styles) and MEDIA streamed decryptions of the 1 MiB
// media vector, with three measures sampled along the way (after a full GC: run with
// --expose-gc): what V8 holds (heap used plus external memory, Buffers included), wasm linear
// memory, and the resident set. Exits 1 when the V8 or wasm figure grows by 2 MiB or more after
// the warm-up, or the resident set by 8 MiB or more (see soak() for how growth is taken), or a
// call gives another plaintext than the vectors.
//
// The resident set gets the wider limit because it also holds glibc's per-thread malloc arenas
// of libuv's thread pool, on which the async calls run: they fill up over the first few
// thousand calls (measured: about +11 MiB by 5000 calls, then mostly flat to 30000, but a CI
// run once saw +2.0 MiB between the first and last third of calls 5000..12000). That is the
// allocator settling, not a leak; a leak of our own shows exactly in the V8 or wasm figure,
// and a native one of 1 KiB a call still crosses 8 MiB in the short run. The warm-up is the
// first tenth of each phase, and for requests at least 5000 calls (at most half).
//
//   node --expose-gc test/soak.mjs REQUESTS MEDIA
//
// test/soak.test.mjs runs a short variant; scripts/soak.sh the long one.
import { readFileSync } from 'node:fs';
import process from 'node:process';

import { FlowPrivateKey, MediaDecryptor, decryptRequest, decryptRequestSync } from 'wa-flows-crypto';
import { initSync } from '../pkg/wa_flows_crypto_wasm.js';
import { loadVectors, vectorFile } from './support/vectors.mjs';

// The package instantiated the module already: this returns its exports, memory included.
const wasm = initSync({ module: readFileSync(new URL('../pkg/wa_flows_crypto_wasm_bg.wasm', import.meta.url)) });
const GROWTH_LIMIT_KIB = { heap: 2048, wasm: 2048, rss: 8192 };
const CHUNK = 65536;
const SAMPLES = 50;

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}

async function memoryKib() {
  globalThis.gc();
  // FinalizationRegistry callbacks (wasm-bindgen's release of objects never freed) run as tasks.
  await new Promise((resolve) => setImmediate(resolve));
  globalThis.gc();
  const { rss, heapUsed, external } = process.memoryUsage();
  return {
    heap: Math.round((heapUsed + external) / 1024),
    wasm: wasm.memory.buffer.byteLength / 1024,
    rss: Math.round(rss / 1024),
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Growth is the median of the last third of the samples less the median of the first third:
 * a leak grows steadily and shows in full, while one sample that caught V8 mid-way through
 * growing a heap space or compiling code (seen: +5 MiB once, gone by the next sample) does not
 * fail the run.
 */
async function soak(phase, iterations, step, minimumWarmUp = 0) {
  const warmUp = Math.min(Math.floor(iterations / 2), Math.max(Math.floor(iterations / 10), minimumWarmUp));
  const every = Math.max(1, Math.floor((iterations - warmUp) / SAMPLES));
  const samples = [];
  for (let i = 0; i < iterations; i++) {
    await step(i);
    if (i >= warmUp && (i - warmUp) % every === 0) samples.push(await memoryKib());
  }
  const third = Math.max(1, Math.floor(samples.length / 3));
  const growthOf = (field) =>
    median(samples.slice(-third).map((s) => s[field])) - median(samples.slice(0, third).map((s) => s[field]));
  const range = (field) => `${Math.min(...samples.map((s) => s[field]))} .. ${Math.max(...samples.map((s) => s[field]))}`;
  const fields = Object.keys(GROWTH_LIMIT_KIB);
  const growth = Object.fromEntries(fields.map((field) => [field, growthOf(field)]));
  console.log(
    `node ${phase} ${iterations}: ` +
      fields.map((field) => `${field}_kib ${range(field)} (growth ${growth[field]} KiB)`).join(', ') +
      `, ${samples.length} samples`,
  );
  return fields.every((field) => growth[field] < GROWTH_LIMIT_KIB[field]);
}

function check(condition, what) {
  if (!condition) throw new Error(`soak: ${what}`);
}

const [requests, media] = process.argv.slice(2).map(Number);
const key = FlowPrivateKey.fromPem(vectorFile('keys/rsa2048_pkcs8.pem').toString('utf8'));
const cases = loadVectors('requests.json')
  .vectors.filter((v) => v.key === 'keys/rsa2048_pkcs8.pem' && v.passphrase === null && v.expect.ok)
  .map((v) => ({ body: JSON.stringify(v.request), plaintext: v.expect.plaintext }));
check(cases.length >= 3, 'good request vectors');

const vector = loadVectors('media.json').vectors.find((v) => v.name.includes('1048579') && v.expect.ok);
const file = vectorFile(vector.file);
const want = vectorFile(vector.expect.plaintext_file);

let flat = await soak('requests', requests, async (i) => {
  const { body, plaintext } = cases[i % cases.length];
  const decrypted = i % 2 ? decryptRequestSync(body, key) : await decryptRequest(body, key);
  check(decrypted.plaintext === plaintext, 'plaintext');
  check(decrypted.encryptResponse({ screen: 'NEXT', data: { ok: true } }).length > 0, 'answer');
}, 5000);
flat =
  (await soak('media', media, async () => {
    const decryptor = new MediaDecryptor(vector.metadata);
    const parts = [];
    for (let at = 0; at < file.length; at += CHUNK) parts.push(decryptor.update(file.subarray(at, at + CHUNK)));
    parts.push(decryptor.finish());
    check(Buffer.concat(parts).equals(want), 'media plaintext');
  })) && flat;
process.exit(flat ? 0 : 1);
