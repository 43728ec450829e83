// The README's quick start, run as written: a user copies it first, so it must work. The only
// change is the port (any free one, printed for this test instead of 3000).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { FlowPrivateKey } from 'wa-flows-crypto';
import { packageDir, vectorFile } from './support/vectors.mjs';
import { openResponse, sealRequest, sign, tamper } from './support/whatsapp.mjs';

const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
const quickStart = readme.slice(readme.indexOf('## Quick start')).match(/```js\n([\s\S]*?)```/)?.[1];
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
