#!/usr/bin/env node
// The workerd runner of compare.py: decrypt_request in a real edge runtime, the npm package
// (its worker build: WebCrypto engine) against the protocol hand-written in WebCrypto, on the
// inputs `compare gen` wrote.
//
//   node workerd.mjs bench DIR [SECONDS]   # medians as JSON on stdout, progress on stderr
//
// workerd freezes its clocks while a request computes, so each measurement is the wall time of
// requests from here, each running N decryptions in the worker; N is calibrated so a request
// takes about 50 ms, which makes the HTTP round trip (~0.2 ms) negligible.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const packageDir = resolve(here, '..', '..', 'bindings', 'node');
const { startWorkerd } = await import(join(packageDir, 'test', 'support', 'workerd.mjs'));

const ROUNDS = 7;
const [mode, dir, secondsArg] = process.argv.slice(2);
if (mode !== 'bench' || !dir) {
  process.stderr.write('usage: node workerd.mjs bench DIR [SECONDS]\n');
  process.exit(2);
}
const seconds = Number(secondsArg ?? '1.5');
const read = (name) => readFileSync(join(dir, name), 'utf8');

const workerd = await startWorkerd(join(here, 'workerd', 'worker.mjs'), {
  KEY_PEM: read('key.pem'),
  REQUEST_SMALL: read('request_small.json'),
  REQUEST_LARGE: read('request_large.json'),
});

async function run(op, impl, n) {
  const response = await fetch(`${workerd.base}/?op=${op}&impl=${impl}&n=${n}`);
  if (response.status !== 200) throw new Error(`${op} ${impl}: HTTP ${response.status}\n${workerd.logs()}`);
  return response.json();
}

/** How many decryptions one request runs so that it takes about 50 ms. */
async function calibrate(op, impl) {
  await run(op, impl, 5);
  let n = 1;
  for (;;) {
    const start = performance.now();
    await run(op, impl, n);
    const ms = performance.now() - start;
    if (ms >= 50) return n;
    n = Math.min(n * 4, Math.ceil((n * 60) / Math.max(ms, 0.5)));
  }
}

/** Seconds per decryption over requests of `n` decryptions for about `seconds`. */
async function timeRound(op, impl, n, seconds) {
  let count = 0;
  const start = performance.now();
  do {
    await run(op, impl, n);
    count += n;
  } while (performance.now() - start < seconds * 1000);
  return (performance.now() - start) / 1000 / count;
}

const IMPLS = ['npm', 'webcrypto'];
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const results = [];
let info;
try {
  for (const op of ['decrypt_request_300b', 'decrypt_request_200kb']) {
    const n = {};
    for (const impl of IMPLS) {
      info ??= await run(op, impl, 1);
      n[impl] = await calibrate(op, impl);
    }
    // The two implementations take turns, round by round (first one, then the other), so a
    // slow spell of this shared machine hits both alike instead of whichever ran during it.
    const times = { npm: [], webcrypto: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const impl of round % 2 ? [...IMPLS].reverse() : IMPLS) {
        times[impl].push(await timeRound(op, impl, n[impl], seconds / ROUNDS));
      }
    }
    for (const impl of IMPLS) {
      const seconds = median(times[impl]);
      const id = `${impl}:workerd`;
      results.push({ op, impl: id, median_s: seconds, ops_per_s: 1 / seconds, n: n[impl] * ROUNDS });
      process.stderr.write(`  ${id.padEnd(18)} ${op.padEnd(24)} ${(1 / seconds).toFixed(1).padStart(12)} ops/s\n`);
    }
  }
} finally {
  workerd.stop();
}
const workerdVersion = JSON.parse(readFileSync(join(packageDir, 'node_modules', 'workerd', 'package.json'), 'utf8')).version;
process.stdout.write(
  `${JSON.stringify({
    version: `workerd ${workerdVersion} (npm package engine ${info.engine}; Uint8Array.fromBase64: ${info.base64 === 'function' ? 'yes' : 'no'})`,
    results,
  })}\n`,
);
