// Streaming keeps wasm memory small: a 64 MiB file through MediaDecryptor, in large and small
// chunks, must leave linear memory under 8 MiB (the one-shot function streams too).
import assert from 'node:assert/strict';
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { MediaDecryptor, decryptMediaContent } from 'wa-flows-crypto';
import { initSync } from '../pkg/wa_flows_crypto_wasm.js';

// The package instantiated the module already: this returns its exports, memory included.
const wasm = initSync({ module: readFileSync(new URL('../pkg/wa_flows_crypto_wasm_bg.wasm', import.meta.url)) });
const MiB = 1024 * 1024;

function sealMedia(plaintext) {
  const encryptionKey = randomBytes(32);
  const hmacKey = randomBytes(32);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', encryptionKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const mac = createHmac('sha256', hmacKey).update(iv).update(ciphertext).digest().subarray(0, 10);
  const file = Buffer.concat([ciphertext, mac]);
  return {
    file,
    metadata: {
      encryption_key: encryptionKey.toString('base64'),
      hmac_key: hmacKey.toString('base64'),
      iv: iv.toString('base64'),
      plaintext_hash: createHash('sha256').update(plaintext).digest('base64'),
      encrypted_hash: createHash('sha256').update(file).digest('base64'),
    },
  };
}

test('a 64 MiB file streams and decrypts one-shot with wasm memory under 8 MiB', async () => {
  const plaintext = randomBytes(64 * MiB);
  const { file, metadata } = sealMedia(plaintext);
  const digest = createHash('sha256');
  let total = 0;
  const source = new ReadableStream({
    start(controller) {
      controller.enqueue(file.subarray(0, 20 * MiB)); // one large chunk
      for (let at = 20 * MiB; at < file.length; at += 65536) controller.enqueue(file.subarray(at, at + 65536));
      controller.close();
    },
  });
  for await (const part of source.pipeThrough(new MediaDecryptor(metadata))) {
    digest.update(part);
    total += part.length;
  }
  assert.equal(total, plaintext.length);
  assert.deepEqual(digest.digest(), createHash('sha256').update(plaintext).digest());

  const oneShot = await decryptMediaContent(file, metadata);
  assert.equal(Buffer.compare(Buffer.from(oneShot.buffer, oneShot.byteOffset, oneShot.byteLength), plaintext), 0);

  const memory = wasm.memory.buffer.byteLength;
  assert.ok(memory < 8 * MiB, `wasm memory grew to ${(memory / MiB).toFixed(1)} MiB`);
});
