// A real edge runtime: workerd (from npm) runs test/workerd/worker.mjs, which imports the
// package through its `workerd` export condition, on 127.0.0.1. The test plays WhatsApp.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { packageDir, vectorFile } from './support/vectors.mjs';
import { openResponse, sealRequest, sign, tamper } from './support/whatsapp.mjs';

const APP_SECRET = 'workerd-test-app-secret';
const pem = vectorFile('keys/rsa2048_pkcs8_aes256.pem').toString();
const passphrase = 'flows-public-passphrase';
const publicPem = vectorFile('keys/rsa2048_public.pem').toString();

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const capnpString = (text) => JSON.stringify(text);

/** The workerd config: the worker, plus the package's files as modules under node_modules/. */
function config(dir, port) {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const entry = manifest.exports['.'].workerd.default.replace(/^\.\//, '');
  // workerd embeds files relative to the config: copy them next to it.
  const embed = (source, name) => {
    const local = name.replace(/[^A-Za-z0-9._-]/g, '_');
    copyFileSync(source, join(dir, local));
    return `embed ${capnpString(local)}`;
  };
  const modules = [`(name = "worker.mjs", esModule = ${embed(join(packageDir, 'test/workerd/worker.mjs'), 'worker.mjs')})`];
  modules.push(
    `(name = "wa-flows-crypto", esModule = ${capnpString(`export * from "node_modules/wa-flows-crypto/${entry}";`)})`,
  );
  for (const sub of ['lib', 'pkg']) {
    for (const file of readdirSync(join(packageDir, sub))) {
      const path = join(packageDir, sub, file);
      const moduleName = `node_modules/wa-flows-crypto/${sub}/${file}`;
      const name = capnpString(moduleName);
      // The Node entry points are not part of the worker build.
      if (file.startsWith('node.')) continue;
      if (file.endsWith('.mjs') || file.endsWith('.js')) modules.push(`(name = ${name}, esModule = ${embed(path, moduleName)})`);
      else if (file.endsWith('.wasm')) modules.push(`(name = ${name}, wasm = ${embed(path, moduleName)})`);
    }
  }
  const text = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .flows) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const flows :Workerd.Worker = (
  modules = [ ${modules.join(',\n    ')} ],
  bindings = [
    (name = "PRIVATE_KEY_PEM", text = ${capnpString(pem)}),
    (name = "PASSPHRASE", text = ${capnpString(passphrase)}),
    (name = "APP_SECRET", text = ${capnpString(APP_SECRET)}),
  ],
  compatibilityDate = "2025-09-01",
);
`;
  const file = join(dir, 'config.capnp');
  writeFileSync(file, text);
  return file;
}

describe('workerd', () => {
  let child;
  let base;
  let dir;
  let logs = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wfc-workerd-'));
    const port = await freePort();
    const require = createRequire(import.meta.url);
    const workerd = join(require.resolve('workerd/package.json'), '..', 'bin', 'workerd');
    child = spawn(workerd, ['serve', config(dir, port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (data) => (logs += data));
    child.stderr.on('data', (data) => (logs += data));
    base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`workerd exited:\n${logs}`);
      try {
        await fetch(base);
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`workerd did not start:\n${logs}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });

  after(() => {
    child?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function post(body, { signature } = {}) {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    return fetch(base, {
      method: 'POST',
      body: raw,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature ?? sign(raw, APP_SECRET) },
    });
  }

  test('the worker build uses WebCrypto for RSA', async () => {
    const response = await fetch(base);
    assert.equal(response.status, 200, logs);
    assert.deepEqual(await response.json(), { engine: 'webcrypto', engines: ['webcrypto', 'wasm'] });
  });

  test('ping is answered', async () => {
    const { body, aesKey, iv } = sealRequest(publicPem, JSON.stringify({ version: '3.0', action: 'ping' }));
    const response = await post(body);
    assert.equal(response.status, 200, logs);
    assert.deepEqual(JSON.parse(openResponse(await response.text(), aesKey, iv)), { data: { status: 'active' } });
  });

  test('INIT round trip', async () => {
    const message = { version: '3.0', action: 'INIT', flow_token: 'flow-token-42', screen: '', data: {} };
    const { body, aesKey, iv } = sealRequest(publicPem, JSON.stringify(message));
    const response = await post(body);
    assert.equal(response.status, 200, logs);
    assert.equal(response.headers.get('content-type'), 'text/plain');
    assert.deepEqual(JSON.parse(openResponse(await response.text(), aesKey, iv)), {
      screen: 'WELCOME',
      data: { flow_token: 'flow-token-42', greeting: 'hello from workerd' },
    });
  });

  test('a tampered body is answered 421', async () => {
    const { body } = sealRequest(publicPem, JSON.stringify({ version: '3.0', action: 'INIT' }));
    for (const [field, code] of [
      ['encrypted_flow_data', 'payload_auth'],
      ['encrypted_aes_key', 'key_unwrap'],
      ['initial_vector', 'payload_auth'],
    ]) {
      const response = await post(tamper(body, field));
      assert.equal(response.status, 421, field);
      assert.equal(await response.text(), code, field);
    }
    const response = await post('{"encrypted_flow_data": 1}');
    assert.equal(response.status, 421);
    assert.equal(await response.text(), 'malformed');
  });

  test('a bad signature is answered 432', async () => {
    const { body } = sealRequest(publicPem, JSON.stringify({ version: '3.0', action: 'ping' }));
    const raw = JSON.stringify(body);
    assert.equal((await post(raw, { signature: sign(raw, 'another secret') })).status, 432);
    assert.equal((await post(raw, { signature: sign(`${raw} `, APP_SECRET) })).status, 432);
    assert.equal((await post(raw, { signature: 'sha256=zz' })).status, 432);
  });
});
