// The README's code, run as written: a user copies it first, so it must work. The quick start
// is a server (the only change is the port: any free one, printed for this test instead of
// 3000); the data API 4.0 and rotation sections are modules, imported here and called as
// WhatsApp would call them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { FlowPrivateKey, signFlowToken } from 'wa-flows-crypto';
import { packageDir, vectorFile } from './support/vectors.mjs';
import { openResponse, sealRequest, sign, tamper } from './support/whatsapp.mjs';

const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
/** The first js block of a README section. */
const snippet = (heading) => {
  const at = readme.indexOf(`\n## ${heading}\n`);
  return at === -1 ? undefined : readme.slice(at).match(/```js\n([\s\S]*?)```/)?.[1];
};
const quickStart = snippet('Quick start');
const LISTEN = '.listen(3000)';

describe('README quick start', () => {
  const pem = vectorFile('keys/rsa2048_pkcs8.pem').toString();
  const publicKeyPem = FlowPrivateKey.fromPem(pem).publicKeyPem();
  const appSecret = 'the app secret';
  let server;
  let url;
  // Inside the package, so `import … from 'wa-flows-crypto'` resolves to it (self-reference).
  const dir = mkdtempSync(join(packageDir, 'test', '.readme-'));

  before(async () => {
    assert.ok(quickStart?.includes(LISTEN), 'the quick start is a js block that listens on 3000');
    const script = join(dir, 'quick-start.mjs');
    writeFileSync(script, quickStart.replace(LISTEN, '.listen(0, function () { console.log(this.address().port); })'));
    server = spawn(process.execPath, [script], {
      env: { ...process.env, PRIVATE_KEY: pem, APP_SECRET: appSecret },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise((resolve, reject) => {
      server.stdout.once('data', (data) => resolve(Number(String(data).trim())));
      server.once('exit', (code) => reject(new Error(`the quick start exited with ${code}`)));
    });
    url = `http://127.0.0.1:${port}/`;
  });

  after(() => {
    server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  async function post(body, signature = sign(body, appSecret)) {
    const response = await fetch(url, { method: 'POST', body, headers: { 'x-hub-signature-256': signature } });
    return { status: response.status, text: await response.text() };
  }

  test('answers a ping and an INIT, encrypted for the request', async () => {
    for (const [message, expected] of [
      [{ version: '3.0', action: 'ping' }, { data: { status: 'active' } }],
      [{ version: '3.0', action: 'INIT', flow_token: 't' }, { screen: 'SUCCESS', data: {} }],
    ]) {
      const { body, aesKey, iv } = sealRequest(publicKeyPem, JSON.stringify(message));
      const { status, text } = await post(JSON.stringify(body));
      assert.equal(status, 200, text);
      assert.deepEqual(JSON.parse(openResponse(text, aesKey, iv)), expected);
    }
  });

  test('refuses a bad signature with 432 and an undecryptable request with 421', async () => {
    const { body } = sealRequest(publicKeyPem, '{"version":"3.0","action":"ping"}');
    assert.equal((await post(JSON.stringify(body), 'sha256=00')).status, 432);
    assert.equal((await post(JSON.stringify(tamper(body, 'encrypted_flow_data')))).status, 421);
  });
});

/**
 * Imports a README section's module as written, with `env` in process.env while it loads (it
 * reads its configuration at start-up, as a real one does). Inside the package, so
 * `import … from 'wa-flows-crypto'` resolves to it.
 */
async function importSnippet(heading, env) {
  const code = snippet(heading);
  assert.ok(code, `the README has a js block under "## ${heading}"`);
  const dir = mkdtempSync(join(packageDir, 'test', '.readme-'));
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  try {
    const file = join(dir, 'snippet.mjs');
    writeFileSync(file, code);
    Object.assign(process.env, env);
    return await import(pathToFileURL(file).href);
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('README data API 4.0', () => {
  const pem = vectorFile('keys/rsa2048_pkcs8.pem').toString();
  const publicKeyPem = FlowPrivateKey.fromPem(pem).publicKeyPem();
  const appSecret = 'the app secret';
  let handle;

  before(async () => {
    ({ handle } = await importSnippet('Data API 4.0', { PRIVATE_KEY: pem, APP_SECRET: appSecret }));
  });

  /** Seals and signs `message` as WhatsApp does; → the handler's { status, body } and the request's keys. */
  async function call(message, { secret = appSecret, mangle = (body) => body } = {}) {
    const { body, aesKey, iv } = sealRequest(publicKeyPem, JSON.stringify(message));
    const raw = Buffer.from(JSON.stringify(mangle(body)));
    const reply = await handle(raw, sign(raw, secret));
    return { ...reply, open: () => JSON.parse(openResponse(reply.body, aesKey, iv)) };
  }
  const init = (signature) => ({ version: '4.0', action: 'INIT', flow_token: 'flow-1', flow_token_signature: signature });

  test('answers a request whose flow token signature is valid', async () => {
    const reply = await call(init(signFlowToken('flow-1', appSecret, { exp: Date.now() + 600_000 })));
    assert.equal(reply.status, 200, reply.body);
    assert.deepEqual(reply.open(), { screen: 'WELCOME', data: { flow_token: 'flow-1' } });
  });

  test('refuses a forged, expired or misdirected flow token signature with 427', async () => {
    for (const signature of [
      signFlowToken('flow-1', 'another secret'),
      signFlowToken('flow-1', appSecret, { exp: Date.now() - 3_600_000 }),
      signFlowToken('flow-2', appSecret),
    ]) {
      const { status, body } = await call(init(signature));
      assert.deepEqual({ status, body }, { status: 427, body: 'invalid_flow_token_signature' });
    }
  });

  test('answers pings and error notifications itself', async () => {
    const ping = await call({ version: '3.0', action: 'ping' });
    assert.deepEqual([ping.status, ping.open()], [200, { data: { status: 'active' } }]);
    const notification = await call({ version: '4.0', action: 'data_exchange', screen: 'S', data: { error_key: 'flow.timeout' } });
    assert.deepEqual([notification.status, notification.open()], [200, { data: { acknowledged: true } }]);
  });

  test('refuses a bad signature with 432 and an undecryptable request with 421', async () => {
    const { status, body } = await call({ version: '3.0', action: 'ping' }, { secret: 'not the app secret' });
    assert.deepEqual({ status, body }, { status: 432, body: 'invalid_signature' });
    const tampered = await call({ version: '3.0', action: 'ping' }, { mangle: (sealed) => tamper(sealed, 'encrypted_flow_data') });
    assert.deepEqual([tampered.status, tampered.body], [421, 'payload_auth']);
  });
});

describe('README rotating keys and secrets', () => {
  const oldPem = vectorFile('keys/rsa2048_pkcs8.pem').toString();
  const newKey = FlowPrivateKey.generate(2048);
  const oldPublic = FlowPrivateKey.fromPem(oldPem).publicKeyPem();
  const newPublic = newKey.publicKeyPem();
  const [newSecret, oldSecret] = ['the new app secret', 'the app secret before the reset'];
  let rotation;

  before(async () => {
    rotation = await importSnippet('Rotating keys and secrets', {
      PRIVATE_KEY: newKey.privateKeyPem(),
      PREVIOUS_PRIVATE_KEY: oldPem,
      APP_SECRET: newSecret,
      PREVIOUS_APP_SECRET: oldSecret,
    });
  });

  const sealed = (publicKey, secret) => {
    const { body } = sealRequest(publicKey, '{"version":"3.0","action":"ping"}');
    const raw = Buffer.from(JSON.stringify(body));
    return [raw, sign(raw, secret)];
  };

  test('opens requests for either key, signed with either secret', async () => {
    for (const [publicKey, keyIndex] of [[newPublic, 0], [oldPublic, 1]]) {
      for (const secret of [newSecret, oldSecret]) {
        const opened = await rotation.endpoint.open(...sealed(publicKey, secret));
        assert.equal(opened.keyIndex, keyIndex);
        assert.equal(opened.flow.action, 'ping');
        const decrypted = await rotation.openStepByStep(...sealed(publicKey, secret));
        assert.equal(decrypted.keyIndex, keyIndex);
        assert.equal(decrypted.decryptedBody.action, 'ping');
      }
    }
  });

  test('refuses another secret, and a key the ring does not hold', async () => {
    const stranger = FlowPrivateKey.generate(2048).publicKeyPem();
    assert.equal(await rotation.openStepByStep(...sealed(newPublic, 'another secret')), null);
    await assert.rejects(rotation.endpoint.open(...sealed(newPublic, 'another secret')), { code: 'invalid_signature', httpStatus: 432 });
    await assert.rejects(rotation.openStepByStep(...sealed(stranger, newSecret)), { code: 'key_unwrap', httpStatus: 421 });
    await assert.rejects(rotation.endpoint.open(...sealed(stranger, newSecret)), { code: 'key_unwrap', httpStatus: 421 });
  });
});
