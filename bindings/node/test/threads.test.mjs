// Worker threads: each has its own wasm instance and imports the key from the same PEM. Every
// request vector of that key, decrypted, answered and opened by a FlowEndpoint in 3 workers at
// once (each engine, both call styles), must give exactly what the main thread gets alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

import { FlowCryptoError, FlowEndpoint, FlowPrivateKey, decryptRequest, decryptRequestSync } from 'wa-flows-crypto';
import { loadVectors, vectorFile } from './support/vectors.mjs';

const KEY_FILE = 'keys/rsa2048_pkcs8.pem';
const ANSWER = { screen: 'NEXT', data: { ok: true } };

function bodies() {
  return loadVectors('requests.json')
    .vectors.filter((v) => v.key === KEY_FILE && v.passphrase === null)
    .map((v) => JSON.stringify(v.request));
}

function refusal(error) {
  if (!(error instanceof FlowCryptoError)) throw error;
  return { code: error.code, httpStatus: error.httpStatus, message: error.message };
}

/** Everything one body gives, in a form that compares across threads. */
async function outcomes(pem, list) {
  const results = [];
  for (const engine of FlowPrivateKey.engines) {
    const key = FlowPrivateKey.fromPem(pem).withEngine(engine);
    const endpoint = new FlowEndpoint({ key });
    for (const body of list) {
      const row = { engine };
      try {
        const decrypted = await decryptRequest(body, key);
        row.async = { plaintext: decrypted.plaintext, answer: decrypted.encryptResponse(ANSWER) };
      } catch (error) {
        row.async = refusal(error);
      }
      try {
        const decrypted = decryptRequestSync(body, key);
        row.sync = { plaintext: decrypted.plaintext, answer: decrypted.encryptResponse(ANSWER) };
      } catch (error) {
        row.sync = refusal(error);
      }
      try {
        const opened = await endpoint.open(body, null);
        row.open = { action: opened.flow.action, automatic: opened.automaticResponse ?? null };
      } catch (error) {
        row.open = refusal(error);
      }
      results.push(row);
    }
  }
  return results;
}

if (!isMainThread) {
  const { pem, list } = workerData;
  parentPort.postMessage(await outcomes(pem, list));
} else {
  test('3 worker threads give exactly the single-threaded results, in every engine', async () => {
    const pem = vectorFile(KEY_FILE).toString('utf8');
    const list = bodies();
    assert.ok(list.length >= 10);
    const expected = await outcomes(pem, list);
    assert.ok(expected.some((row) => row.async.plaintext !== undefined));
    assert.ok(expected.some((row) => row.async.code !== undefined));
    const workers = Array.from({ length: 3 }, () =>
      new Promise((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: { pem, list } });
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
      }),
    );
    for (const got of await Promise.all(workers)) assert.deepEqual(got, expected);
  });
}
