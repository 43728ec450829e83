// Soak: REQUESTS decryptRequest + encryptResponse calls (every good request vector of the key,
// in turn, alternating the async and sync styles) and MEDIA streamed decryptions of the 1 MiB
// media vector, with the resident set and wasm linear memory sampled along the way (after a
// full GC: run with --expose-gc). Exits 1 when either grows by 2 MiB or more after the warm-up
// (see soak() for how growth is taken),
// or a call gives another plaintext than the vectors. The warm-up is the first tenth of each
// phase, and for requests at least 5000 calls (at most half): the async calls run on libuv's
// thread pool, whose per-thread glibc malloc arenas fill up over the first few thousand calls
// (measured: about +11 MiB by 5000 calls, then flat to 30000; with MALLOC_ARENA_MAX=2 the same
// curve, lower). That plateau is the allocator's, not a leak; growth after it would be one.
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
const GROWTH_LIMIT_KIB = 2048;
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
  return { rss: Math.round(process.memoryUsage().rss / 1024), wasm: wasm.memory.buffer.byteLength / 1024 };
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
  const growth = { rss: growthOf('rss'), wasm: growthOf('wasm') };
  console.log(
    `node ${phase} ${iterations}: rss_kib ${range('rss')} (growth ${growth.rss} KiB), ` +
      `wasm_kib ${range('wasm')} (growth ${growth.wasm} KiB), ${samples.length} samples`,
  );
  return growth.rss < GROWTH_LIMIT_KIB && growth.wasm < GROWTH_LIMIT_KIB;
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
