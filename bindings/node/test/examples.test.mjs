// End to end: the endpoint examples (examples/endpoint.mjs on node:http, and the Worker of
// examples/worker/ in workerd) called exactly as WhatsApp calls them. Each is started as a
// child process on 127.0.0.1 with a freshly generated key, next to a fake CDN on another
// loopback port serving media sealed by test/support/whatsapp.mjs (node:crypto), and this
// test plays WhatsApp: the flow, three photos checked byte for byte, every refusal, 200
// concurrent requests, key and app secret rotation, data API 4.0's flow token signatures. The
// behaviour checked is the one specified in crates/wa-flows-crypto-endpoint-example/README.md.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { signFlowToken } from 'wa-flows-crypto';

import { packageDir } from './support/vectors.mjs';
import { openResponse, sealMedia, sealRequest, sign, tamper } from './support/whatsapp.mjs';

const APP_SECRET = 'examples test app secret';
/** The app secret before a reset, still accepted while rotating. */
const OLD_SECRET = 'examples test app secret before the reset';
const PASSPHRASE = 'correct horse battery staple';
/** Every wait is bounded: a hang fails the test instead of blocking CI. */
const START_LIMIT_MS = 60_000;
const REQUEST_LIMIT_MS = 60_000;
const TEST_LIMIT_MS = 180_000;

const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
/** The key that replaces `keys` in the rotation tests (`keys` is then the previous one). */
const newKeys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const otherPublicKey = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
}).publicKey;

const ENDPOINT = join(packageDir, 'examples', 'endpoint.mjs');
const WORKER_LAUNCHER = join(packageDir, 'examples', 'worker', 'serve.mjs');
const VARIABLES = [
  'PRIVATE_KEY',
  'PRIVATE_KEY_FILE',
  'PASSPHRASE',
  'PREVIOUS_PRIVATE_KEY',
  'PREVIOUS_PRIVATE_KEY_FILE',
  'PREVIOUS_PASSPHRASE',
  'APP_SECRET',
  'PREVIOUS_APP_SECRET',
  'FLOW_TOKEN_SIGNATURE',
  'PORT',
  'HOST',
  'MEDIA_ALLOW_HTTP',
];

// ---------------------------------------------------------------------------------------------
// Processes and servers; every one is stopped in `after`.

/** Spawns `script` with `vars` (and none of the example's variables inherited). */
function spawnExample(script, vars) {
  const env = { ...process.env };
  for (const name of VARIABLES) delete env[name];
  Object.assign(env, vars);
  const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { text: '' };
  child.stdout.on('data', (data) => (output.text += data));
  child.stderr.on('data', (data) => (output.text += data));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output, exited };
}

/** Starts an example and waits (bounded) for `listening on URL`. */
async function startExample(script, vars) {
  const running = spawnExample(script, { HOST: '127.0.0.1', PORT: '0', ...vars });
  const deadline = Date.now() + START_LIMIT_MS;
  let exitedEarly = false;
  running.exited.then(() => (exitedEarly = true));
  for (;;) {
    const match = /listening on (http:\/\/\S+)/.exec(running.output.text);
    if (match) {
      return {
        url: match[1],
        logs: () => running.output.text,
        async stop() {
          if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGTERM');
          const timer = setTimeout(() => running.child.kill('SIGKILL'), 10_000);
          const status = await running.exited;
          clearTimeout(timer);
          return status;
        },
      };
    }
    if (exitedEarly) throw new Error(`the example exited before listening:\n${running.output.text}`);
    if (Date.now() > deadline) {
      running.child.kill('SIGKILL');
      throw new Error(`the example did not say where it listens:\n${running.output.text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs an example that must refuse to start: its exit code and output. */
async function runToExit(script, vars) {
  const running = spawnExample(script, vars);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), 30_000);
  const status = await running.exited;
  clearTimeout(timer);
  return { ...status, output: running.output.text };
}

/** A fake WhatsApp CDN on 127.0.0.1: `/media/NAME` serves `files[NAME]`, `/hop/N/NAME` redirects. */
async function startCdn(files) {
  const server = createServer((req, res) => {
    const hop = /^\/hop\/(\d+)\/(.+)$/.exec(req.url);
    if (hop) {
      const left = Number(hop[1]);
      const next = left === 0 ? `/media/${hop[2]}` : `/hop/${left - 1}/${hop[2]}`;
      res.writeHead(302, { location: next }).end();
      return;
    }
    const name = req.url.startsWith('/media/') ? req.url.slice('/media/'.length) : undefined;
    const file = name === undefined ? undefined : files.get(name);
    if (file === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    // In pieces, as a CDN streams it: the endpoint must decrypt across chunk boundaries.
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.length });
    const piece = 65_537;
    for (let at = 0; at < file.length; at += piece) res.write(file.subarray(at, at + piece));
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// WhatsApp's side.

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
after(() => agent.destroy());

/** A raw POST: exactly these bytes and headers. → { status, contentType, body }. */
function post(url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', agent, headers: { ...headers, 'content-length': body.length } });
    request.setTimeout(REQUEST_LIMIT_MS, () => request.destroy(new Error('the request took too long')));
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () =>
        resolve({
          status: response.statusCode,
          contentType: response.headers['content-type'] ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    request.end(body);
  });
}

class WhatsApp {
  constructor(url, appSecret, logs = () => '', publicKey = keys.publicKey) {
    this.url = url;
    this.appSecret = appSecret;
    /** The endpoint's output, shown when an exchange fails. */
    this.logs = logs;
    /** The public key WhatsApp has for the business (a cached one, while rotating). */
    this.publicKey = publicKey;
  }

  /** Posts `raw` as WhatsApp does: JSON, signed with the app secret when there is one. */
  postSigned(raw) {
    const body = Buffer.from(raw);
    const headers = { 'content-type': 'application/json' };
    if (this.appSecret !== undefined) headers['x-hub-signature-256'] = sign(body, this.appSecret);
    return post(this.url, body, headers);
  }

  seal(plaintext, publicKey = this.publicKey) {
    const { body, aesKey, iv } = sealRequest(publicKey, typeof plaintext === 'string' ? plaintext : JSON.stringify(plaintext));
    return { raw: JSON.stringify(body), body, aesKey, iv };
  }

  /** A whole exchange: seal, sign, post, check 200 text/plain, open the answer. */
  async call(plaintext) {
    const sealed = this.seal(plaintext);
    const reply = await this.postSigned(sealed.raw);
    const context = () => `${JSON.stringify(plaintext).slice(0, 300)}: ${reply.body}\n--- endpoint log:\n${this.logs().slice(-3000)}`;
    assert.equal(reply.status, 200, context());
    assert.match(reply.contentType, /^text\/plain/);
    return JSON.parse(openResponse(reply.body, sealed.aesKey, sealed.iv));
  }
}

/** Checks a refusal: its status, the error code as its body, and text/plain. */
function expectRefused(reply, status, code) {
  assert.deepEqual([reply.status, reply.body], [status, code]);
  assert.match(reply.contentType, /^text\/plain/);
}

const ping = () => ({ version: '3.0', action: 'ping' });
const profile = (errorMessage) => ({ screen: 'PROFILE', data: { error_message: errorMessage } });
const submit = (photos) => ({
  version: '3.0',
  action: 'data_exchange',
  screen: 'PROFILE',
  flow_token: 'token-1',
  data: { name: 'Ada', photos },
});

/** Bytes that are not all alike, of any length. */
function pattern(length, seed) {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) out[i] = (Math.imul((i + seed) >>> 0, 2654435761) >>> 13) & 0xff;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The same protocol tests for each example.

const EXAMPLES = [
  { id: 'node', name: 'node example (examples/endpoint.mjs)', script: ENDPOINT },
  { id: 'worker', name: 'worker example in workerd (examples/worker/)', script: WORKER_LAUNCHER },
];
/** WFC_EXAMPLES=node or =worker runs one example's tests (scripts/test-examples.sh does); default both. */
const selected = process.env.WFC_EXAMPLES ? process.env.WFC_EXAMPLES.split(',') : ['node', 'worker'];

for (const example of EXAMPLES) {
  const skip = selected.includes(example.id) ? false : `WFC_EXAMPLES=${process.env.WFC_EXAMPLES}`;
  describe(example.name, { timeout: 10 * TEST_LIMIT_MS, skip }, () => {
    const photos = [
      ['IMG_0001.jpg', pattern(1, 1)],
      ['IMG_0002.png', pattern(70_001, 2)],
      ['IMG_0003.heic', pattern(1_500_017, 3)],
    ];
    const sealed = photos.map(([, plaintext]) => sealMedia(plaintext));
    let cdn;
    let signed;
    let unsigned;
    let wa;

    before(async () => {
      const files = new Map(sealed.map((media, i) => [`ok${i}`, media.cdnFile]));
      const tampered = Buffer.from(sealed[1].cdnFile);
      tampered[100] ^= 0x20;
      files.set('tampered', tampered);
      cdn = await startCdn(files);
      signed = await startExample(example.script, {
        PRIVATE_KEY: keys.privateKey,
        APP_SECRET,
        MEDIA_ALLOW_HTTP: '1',
      });
      wa = new WhatsApp(signed.url, APP_SECRET, signed.logs);
    });

    after(async () => {
      await signed?.stop();
      await unsigned?.stop();
      await cdn?.stop();
    });

    const url = (name) => `${cdn.base}/media/${name}`;
    const uploads = () =>
      photos.map(([fileName], i) => ({
        file_name: fileName,
        media_id: `media-${fileName}`,
        cdn_url: url(`ok${i}`),
        encryption_metadata: structuredClone(sealed[i].metadata),
      }));

    test('answers the flow as documented', { timeout: TEST_LIMIT_MS }, async () => {
      assert.deepEqual(await wa.call(ping()), { data: { status: 'active' } });
      assert.deepEqual(await wa.call({ version: '3.0', action: 'INIT', flow_token: 'token-1' }), profile(''));
      assert.deepEqual(await wa.call({ version: '3.0', action: 'BACK', screen: 'SUMMARY', flow_token: 't' }), profile(''));
      const notification = {
        version: '3.0',
        action: 'data_exchange',
        screen: 'SUMMARY',
        flow_token: 't',
        data: { error: 'INVALID_SCREEN_TRANSITION', error_message: 'no such screen' },
      };
      assert.deepEqual(await wa.call(notification), { data: { acknowledged: true } });
      // Only an error_key (no error): still a notification, acknowledged, not a submission.
      const keyOnly = {
        version: '3.0',
        action: 'data_exchange',
        screen: 'PROFILE',
        flow_token: 't',
        data: { error_key: 'flow.timeout' },
      };
      const sealedKeyOnly = wa.seal(keyOnly);
      const keyOnlyReply = await wa.postSigned(sealedKeyOnly.raw);
      assert.equal(keyOnlyReply.status, 200, keyOnlyReply.body);
      assert.equal(openResponse(keyOnlyReply.body, sealedKeyOnly.aesKey, sealedKeyOnly.iv), '{"data":{"acknowledged":true}}');
      const done = { version: '3.0', action: 'data_exchange', screen: 'SUMMARY', flow_token: 'token-1', data: {} };
      assert.deepEqual(await wa.call(done), {
        screen: 'SUCCESS',
        data: { extension_message_response: { params: { flow_token: 'token-1' } } },
      });
      assert.deepEqual(await wa.call({ version: '3.0', action: 'data_exchange', screen: 'X' }), profile('unknown screen'));
      assert.deepEqual(await wa.call({ version: '3.0', action: 'navigate' }), profile('unsupported action'));
      // The action as the core names it: a Kelvin sign is no K, whatever Unicode case folding says.
      assert.deepEqual(await wa.call({ version: '3.0', action: 'BAC\u212A', screen: 'SUMMARY' }), profile('unsupported action'));
      assert.deepEqual(await wa.call(submit([])), {
        screen: 'SUMMARY',
        data: { name: 'Ada', photo_count: 0, total_bytes: 0, photos: [], summary: '0 photos, 0 bytes' },
      });
      assert.deepEqual(await wa.call(submit('photo.jpg')), profile('photos is not a list'));
      const tooMany = Array.from({ length: 31 }, (_, i) => ({ file_name: i }));
      assert.deepEqual(await wa.call(submit(tooMany)), profile('too many photos: at most 30'));

      // The exact text of an answer, not only its parsed value (key order as specified).
      const sealedInit = wa.seal({ version: '3.0', action: 'INIT' });
      const reply = await wa.postSigned(sealedInit.raw);
      assert.equal(openResponse(reply.body, sealedInit.aesKey, sealedInit.iv), '{"screen":"PROFILE","data":{"error_message":""}}');

      const health = await fetch(signed.url);
      assert.equal(health.status, 200);
      await health.arrayBuffer();
    });

    test('decrypts three uploaded photos byte for byte', { timeout: TEST_LIMIT_MS }, async () => {
      const answer = await wa.call(submit(uploads()));
      const total = photos.reduce((sum, [, plaintext]) => sum + plaintext.length, 0);
      assert.deepEqual(answer, {
        screen: 'SUMMARY',
        data: {
          name: 'Ada',
          photo_count: 3,
          total_bytes: total,
          photos: photos.map(([fileName, plaintext]) => ({
            file_name: fileName,
            size: plaintext.length,
            sha256: createHash('sha256').update(plaintext).digest('hex'),
          })),
          summary: `3 photos, ${total} bytes`,
        },
      });

      // Through redirects (at most 3), and not one more.
      const redirected = uploads();
      redirected[0].cdn_url = `${cdn.base}/hop/2/ok0`;
      assert.equal((await wa.call(submit(redirected))).data.photo_count, 3);
      redirected[0].cdn_url = `${cdn.base}/hop/3/ok0`;
      assert.deepEqual(await wa.call(submit(redirected)), profile('could not read photo IMG_0001.jpg: download_failed'));

      // The first photo that cannot be read, in request order, sends the user back.
      const bad = uploads();
      bad[1].cdn_url = url('tampered');
      assert.deepEqual(await wa.call(submit(bad)), profile('could not read photo IMG_0002.png: encrypted_hash_mismatch'));
      const swapped = uploads();
      swapped[2].encryption_metadata = swapped[0].encryption_metadata;
      assert.deepEqual(await wa.call(submit(swapped)), profile('could not read photo IMG_0003.heic: encrypted_hash_mismatch'));
      const missing = uploads();
      missing[0].cdn_url = url('nothing-here');
      missing[2].cdn_url = url('tampered');
      assert.deepEqual(await wa.call(submit(missing)), profile('could not read photo IMG_0001.jpg: download_failed'));
      const ftp = uploads();
      ftp[0].cdn_url = 'ftp://127.0.0.1/media/ok0';
      assert.deepEqual(await wa.call(submit(ftp)), profile('could not read photo IMG_0001.jpg: cdn_url_refused'));
      const noMetadata = uploads();
      noMetadata[1].encryption_metadata.hmac_key = 'short';
      assert.deepEqual(await wa.call(submit(noMetadata)), profile('could not read photo IMG_0002.png: malformed'));
      const unnamed = uploads();
      delete unnamed[0].file_name;
      unnamed[0].cdn_url = 42;
      assert.deepEqual(await wa.call(submit(unnamed)), profile('could not read photo #1: malformed'));
    });

    test('refuses what it cannot trust', { timeout: TEST_LIMIT_MS }, async () => {
      // Tampered in transit: the payload, the IV, or the wrapped key; or sealed for another key.
      for (const [field, code] of [
        ['encrypted_flow_data', 'payload_auth'],
        ['initial_vector', 'payload_auth'],
        ['encrypted_aes_key', 'key_unwrap'],
      ]) {
        const { body } = wa.seal(ping());
        expectRefused(await wa.postSigned(JSON.stringify(tamper(body, field))), 421, code);
      }
      expectRefused(await wa.postSigned(wa.seal(ping(), otherPublicKey).raw), 421, 'key_unwrap');

      // Truncated, signed as received: undecryptable; and empty.
      const { raw } = wa.seal(ping());
      expectRefused(await wa.postSigned(raw.slice(0, raw.length / 2)), 421, 'malformed');
      expectRefused(await wa.postSigned(''), 421, 'malformed');
      // Decrypts, but is no flow request.
      for (const plaintext of ['hello', '{}', '{"action": 3}', '[]', '{"action":"ping","screen":5}']) {
        expectRefused(await wa.postSigned(wa.seal(plaintext).raw), 421, 'malformed');
      }

      // Signatures: wrong, missing, odd; never a crash.
      const body = Buffer.from(wa.seal(ping()).raw);
      for (const signature of [sign(body, 'not the secret'), 'sha256=zz', 'sha1=0000', '', 'sha256=\xff\xfe']) {
        const reply = await post(wa.url, body, { 'content-type': 'application/json', 'x-hub-signature-256': signature });
        expectRefused(reply, 432, 'invalid_signature');
      }
      expectRefused(await post(wa.url, body, { 'content-type': 'application/json' }), 432, 'invalid_signature');
      const altered = Buffer.concat([body, Buffer.from(' ')]);
      expectRefused(
        await post(wa.url, altered, { 'content-type': 'application/json', 'x-hub-signature-256': sign(body, APP_SECRET) }),
        432,
        'invalid_signature',
      );

      // Content-Type: JSON in any case and with parameters, nothing else (checked first).
      for (const contentType of [undefined, 'text/plain', 'application/x-www-form-urlencoded']) {
        const sealedPing = Buffer.from(wa.seal(ping()).raw);
        const headers = { 'x-hub-signature-256': 'sha256=zz' };
        if (contentType !== undefined) headers['content-type'] = contentType;
        expectRefused(await post(wa.url, sealedPing, headers), 415, 'unsupported_media_type');
      }
      for (const contentType of ['application/json; charset=utf-8', 'Application/JSON']) {
        const sealedPing = wa.seal(ping());
        const raw = Buffer.from(sealedPing.raw);
        const reply = await post(wa.url, raw, { 'content-type': contentType, 'x-hub-signature-256': sign(raw, APP_SECRET) });
        assert.equal(reply.status, 200, contentType);
        assert.deepEqual(JSON.parse(openResponse(reply.body, sealedPing.aesKey, sealedPing.iv)), { data: { status: 'active' } });
      }

      // Far larger than any request WhatsApp sends (checked before the signature).
      expectRefused(await wa.postSigned(Buffer.alloc(1024 * 1024 + 1, 'a')), 413, 'body_too_large');

      // After all that, the endpoint still answers.
      assert.deepEqual(await wa.call(ping()), { data: { status: 'active' } });
    });

    test('answers 200 concurrent requests', { timeout: TEST_LIMIT_MS }, async () => {
      const calls = Array.from({ length: 200 }, async (_, i) => {
        let request;
        let expected;
        if (i % 3 === 0) {
          request = ping();
          expected = { data: { status: 'active' } };
        } else if (i % 3 === 1) {
          request = { version: '3.0', action: 'INIT', flow_token: `t${i}` };
          expected = profile('');
        } else {
          const token = `token-${i}`;
          request = { version: '3.0', action: 'data_exchange', screen: 'SUMMARY', flow_token: token, data: {} };
          expected = { screen: 'SUCCESS', data: { extension_message_response: { params: { flow_token: token } } } };
        }
        // `call` checks the status and Content-Type and opens the answer with this request's
        // own key: a mixed-up answer would not open.
        assert.deepEqual(await wa.call(request), expected, `request ${i}`);
        return i;
      });
      const answered = await Promise.all(calls);
      assert.equal(answered.length, 200);
    });

    test('without an app secret, signatures are not required', { timeout: TEST_LIMIT_MS }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'wfc-examples-'));
      try {
        const file = join(dir, 'private.pem');
        writeFileSync(file, keys.privateKey);
        unsigned = await startExample(example.script, { PRIVATE_KEY_FILE: file });
        assert.match(unsigned.logs(), /APP_SECRET is not set/);
        const open = new WhatsApp(unsigned.url, undefined, unsigned.logs);
        assert.deepEqual(await open.call(ping()), { data: { status: 'active' } });
        // A header is ignored, whatever it holds.
        const sealedPing = open.seal(ping());
        const reply = await post(open.url, Buffer.from(sealedPing.raw), {
          'content-type': 'application/json',
          'x-hub-signature-256': 'sha256=zz',
        });
        assert.equal(reply.status, 200);
        openResponse(reply.body, sealedPing.aesKey, sealedPing.iv);
        // The other checks still apply, and http:// media is refused without MEDIA_ALLOW_HTTP.
        expectRefused(await open.postSigned(open.seal(ping()).raw.slice(0, 100)), 421, 'malformed');
        expectRefused(await post(open.url, Buffer.from(open.seal(ping()).raw), { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
        assert.deepEqual(await open.call(submit(uploads())), profile('could not read photo IMG_0001.jpg: cdn_url_refused'));
      } finally {
        await unsigned?.stop();
        unsigned = undefined;
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('accepts the previous key and app secret while rotating them', { timeout: TEST_LIMIT_MS }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'wfc-examples-'));
      let rotating;
      try {
        // The previous key as a DER file: the Worker's launcher hands it over as PEM text.
        const previousFile = join(dir, 'previous.der');
        writeFileSync(previousFile, createPrivateKey(keys.privateKey).export({ type: 'pkcs1', format: 'der' }));
        rotating = await startExample(example.script, {
          PRIVATE_KEY: newKeys.privateKey,
          PREVIOUS_PRIVATE_KEY_FILE: previousFile,
          APP_SECRET,
          PREVIOUS_APP_SECRET: OLD_SECRET,
        });
        assert.match(rotating.logs(), /listening on \S+ \(.*2 key\(s\), 2 app secret\(s\), signature check on/);
        const init = { version: '3.0', action: 'INIT', flow_token: 't' };
        // Sealed for the new key, for the previous one (a client that cached it), signed with
        // either secret: all answered, each encrypted for its own request.
        for (const [publicKey, secret] of [
          [newKeys.publicKey, APP_SECRET],
          [keys.publicKey, APP_SECRET],
          [newKeys.publicKey, OLD_SECRET],
          [keys.publicKey, OLD_SECRET],
        ]) {
          const client = new WhatsApp(rotating.url, secret, rotating.logs, publicKey);
          assert.deepEqual(await client.call(init), profile(''));
          assert.deepEqual(await client.call(ping()), { data: { status: 'active' } });
        }
        // Neither secret, nor a key the ring lacks.
        const stranger = new WhatsApp(rotating.url, 'not the secret', rotating.logs, newKeys.publicKey);
        expectRefused(await stranger.postSigned(stranger.seal(init).raw), 432, 'invalid_signature');
        const outdated = new WhatsApp(rotating.url, APP_SECRET, rotating.logs, otherPublicKey);
        expectRefused(await outdated.postSigned(outdated.seal(init).raw), 421, 'key_unwrap');
      } finally {
        await rotating?.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('checks data API 4.0 flow token signatures', { timeout: TEST_LIMIT_MS }, async () => {
      const request = (signature, token = 'flow-1') => ({
        version: '4.0',
        action: 'INIT',
        flow_token: token,
        flow_token_signature: signature,
      });
      const inTenMinutes = Date.now() + 600_000;
      // if_present (the default): a valid signature passes, with the current or the old secret.
      assert.deepEqual(await wa.call(request(signFlowToken('flow-1', APP_SECRET, { exp: inTenMinutes }))), profile(''));
      assert.deepEqual(await wa.call(request(signFlowToken('flow-1', APP_SECRET))), profile(''));
      // None at all is fine under if_present.
      assert.deepEqual(await wa.call({ version: '4.0', action: 'INIT', flow_token: 'flow-1' }), profile(''));
      for (const [what, signature] of [
        ['forged with another secret', signFlowToken('flow-1', 'forged')],
        ['expired an hour ago', signFlowToken('flow-1', APP_SECRET, { exp: Date.now() - 3_600_000 })],
        ['made for another flow token', signFlowToken('flow-2', APP_SECRET)],
        ['not a JWT', 'not.a.jwt'],
      ]) {
        const reply = await wa.postSigned(wa.seal(request(signature)).raw);
        assert.deepEqual([reply.status, reply.body], [427, 'invalid_flow_token_signature'], what);
        assert.match(reply.contentType, /^text\/plain/);
      }

      // The previous app secret signs flow tokens too, while rotating.
      const rotating = await startExample(example.script, {
        PRIVATE_KEY: keys.privateKey,
        APP_SECRET,
        PREVIOUS_APP_SECRET: OLD_SECRET,
      });
      try {
        const client = new WhatsApp(rotating.url, APP_SECRET, rotating.logs);
        assert.deepEqual(await client.call(request(signFlowToken('flow-1', OLD_SECRET))), profile(''));
        const forged = await client.postSigned(client.seal(request(signFlowToken('flow-1', 'forged'))).raw);
        expectRefused(forged, 427, 'invalid_flow_token_signature');
      } finally {
        await rotating.stop();
      }

      // required: every request but a ping must carry a valid one; off: none is checked.
      const strict = await startExample(example.script, {
        PRIVATE_KEY: keys.privateKey,
        APP_SECRET,
        FLOW_TOKEN_SIGNATURE: 'required',
      });
      try {
        assert.match(strict.logs(), /flow_token_signature required\)/);
        const client = new WhatsApp(strict.url, APP_SECRET, strict.logs);
        const unsigned = await client.postSigned(client.seal({ version: '4.0', action: 'INIT', flow_token: 'flow-1' }).raw);
        expectRefused(unsigned, 427, 'invalid_flow_token_signature');
        const forged = await client.postSigned(client.seal(request(signFlowToken('flow-1', 'forged'))).raw);
        expectRefused(forged, 427, 'invalid_flow_token_signature');
        assert.deepEqual(await client.call(ping()), { data: { status: 'active' } });
        assert.deepEqual(await client.call(request(signFlowToken('flow-1', APP_SECRET))), profile(''));
        assert.match(strict.logs(), /flow endpoint: 427 invalid_flow_token_signature \d+\.\dms/);
      } finally {
        await strict.stop();
      }
      const lax = await startExample(example.script, { PRIVATE_KEY: keys.privateKey, APP_SECRET, FLOW_TOKEN_SIGNATURE: 'off' });
      try {
        const client = new WhatsApp(lax.url, APP_SECRET, lax.logs);
        assert.deepEqual(await client.call(request(signFlowToken('flow-1', 'forged'))), profile(''));
      } finally {
        await lax.stop();
      }
    });

    test('logs one line per request, and never a secret, a plaintext or a file name', { timeout: TEST_LIMIT_MS }, async () => {
      const sealedPing = wa.seal(ping());
      await wa.postSigned(sealedPing.raw);
      const logs = signed.logs();
      assert.match(logs, /flow endpoint: 200 ping \d+\.\dms/);
      assert.match(logs, /flow endpoint: 200 data_exchange \d+\.\dms/);
      assert.match(logs, /flow endpoint: 421 payload_auth \d+\.\dms/);
      assert.match(logs, /flow endpoint: 432 invalid_signature \d+\.\dms/);
      assert.match(logs, /flow endpoint: 415 unsupported_media_type \d+\.\dms/);
      assert.match(logs, /flow endpoint: 200 other \d+\.\dms/);
      assert.match(logs, /WhatsApp reports an error in our last answer: INVALID_SCREEN_TRANSITION\n/);
      assert.match(logs, /WhatsApp reports an error in our last answer: flowtimeout\n/);
      for (const secret of [APP_SECRET, keys.privateKey.split('\n')[2], 'IMG_0001', 'navigate', 'BAC\u212A', 'flow.timeout', 'no such screen', 'Ada']) {
        assert.ok(!logs.includes(secret), `the logs contain ${JSON.stringify(secret)}`);
      }
    });

    test('stops on SIGTERM', { timeout: TEST_LIMIT_MS }, async () => {
      const status = await signed.stop();
      assert.ok(status.code === 0 || status.signal === 'SIGTERM', JSON.stringify(status));
      signed = undefined;
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Start-up: the Node example, and the Worker's launcher, which reads the same variables.

for (const example of EXAMPLES) {
  const skip = selected.includes(example.id) ? false : `WFC_EXAMPLES=${process.env.WFC_EXAMPLES}`;
  describe(`${example.id} example start-up`, { skip }, () => {
    const encrypted = (() => {
      const { privateKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      return privateKey;
    })();

    test('refuses to start with a clear message', { timeout: TEST_LIMIT_MS }, async () => {
      const WRONG = 'wrong passphrase 12345';
      const missingFile = join(tmpdir(), 'wa-flows-crypto-no-such-key.pem');
      const cases = [
        [{}, 'no private key: set PRIVATE_KEY'],
        [{ PRIVATE_KEY: 'not a key' }, 'PRIVATE_KEY: invalid private key'],
        [{ PRIVATE_KEY: keys.publicKey }, '(invalid_key)'],
        [{ PRIVATE_KEY: encrypted }, 'the key is encrypted; give the passphrase'],
        [{ PRIVATE_KEY: encrypted, PASSPHRASE: WRONG }, 'the passphrase does not decrypt the key'],
        [{ PRIVATE_KEY_FILE: missingFile }, 'cannot be read'],
        [{ PRIVATE_KEY: 'x', PRIVATE_KEY_FILE: missingFile }, 'not both'],
        [{ PRIVATE_KEY: encrypted, PASSPHRASE, PORT: 'http' }, 'PORT="http" is not a port number'],
        [{ PRIVATE_KEY: encrypted, PASSPHRASE, HOST: 'localhost:80' }, 'is not an IP address'],
        [{ PRIVATE_KEY: encrypted, PASSPHRASE, MEDIA_ALLOW_HTTP: 'yes' }, 'is not 0 or 1'],
      ];
      const key = keys.privateKey;
      const previousFile = join(tmpdir(), 'wa-flows-crypto-no-such-previous-key.pem');
      cases.push(
        // Set but empty, a secret would turn the signature check off: refused, not ignored.
        [{ PRIVATE_KEY: key, APP_SECRET: '' }, 'APP_SECRET is set but empty'],
        [{ PRIVATE_KEY: key, APP_SECRET, PREVIOUS_APP_SECRET: '' }, 'PREVIOUS_APP_SECRET is set but empty'],
        [{ PRIVATE_KEY: key, PREVIOUS_APP_SECRET: OLD_SECRET }, 'PREVIOUS_APP_SECRET is set without APP_SECRET'],
        [{ PRIVATE_KEY: key, APP_SECRET, FLOW_TOKEN_SIGNATURE: 'always' }, 'FLOW_TOKEN_SIGNATURE="always" is not if_present, required or off'],
        [{ PRIVATE_KEY: key, APP_SECRET, FLOW_TOKEN_SIGNATURE: 'Required' }, 'is not if_present, required or off'],
        [{ PRIVATE_KEY: key, FLOW_TOKEN_SIGNATURE: 'required' }, 'no app secret is configured'],
        [{ PRIVATE_KEY: key, PREVIOUS_PRIVATE_KEY: 'not a key' }, 'PREVIOUS_PRIVATE_KEY: invalid private key'],
        [{ PRIVATE_KEY: key, PREVIOUS_PRIVATE_KEY: 'x', PREVIOUS_PRIVATE_KEY_FILE: previousFile }, 'set PREVIOUS_PRIVATE_KEY or PREVIOUS_PRIVATE_KEY_FILE, not both'],
        [{ PRIVATE_KEY: key, PREVIOUS_PRIVATE_KEY_FILE: previousFile }, 'PREVIOUS_PRIVATE_KEY_FILE="'],
        // Each key has its own passphrase: the current key's does not open the previous one.
        [{ PRIVATE_KEY: key, PASSPHRASE, PREVIOUS_PRIVATE_KEY: encrypted }, 'PREVIOUS_PRIVATE_KEY: invalid private key: the key is encrypted'],
        [{ PRIVATE_KEY: key, PREVIOUS_PRIVATE_KEY: encrypted, PREVIOUS_PASSPHRASE: WRONG }, 'PREVIOUS_PRIVATE_KEY: invalid private key: the passphrase does not decrypt'],
        [{ PREVIOUS_PRIVATE_KEY: key }, 'no private key: set PRIVATE_KEY'],
      );
      for (const [vars, expected] of cases) {
        const { code, output } = await runToExit(example.script, vars);
        assert.equal(code, 1, `started anyway: ${output}`);
        assert.ok(output.includes('refusing to start') && output.includes(expected), `expected ${expected} in ${output}`);
        // One line, that line: nothing else is printed before the program stops.
        assert.match(output, /^flow endpoint: refusing to start: [^\n]+\n$/, output);
        assert.ok(!output.includes(PASSPHRASE) && !output.includes(WRONG), output);
        for (const pem of [encrypted, keys.publicKey]) assert.ok(!output.includes(pem.split('\n')[2]), output);
      }
    });

    test('starts with an escaped encrypted PEM, or a DER file', { timeout: TEST_LIMIT_MS }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'wfc-examples-'));
      const der = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs1', format: 'der' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      const derFile = join(dir, 'private.der');
      writeFileSync(derFile, der.privateKey);
      const encryptedPublic = createPublicKey({ key: encrypted, passphrase: PASSPHRASE }).export({ type: 'spki', format: 'pem' });
      try {
        for (const [vars, publicKey, secret] of [
          [{ PRIVATE_KEY: encrypted.trimEnd().replaceAll('\n', '\\n'), PASSPHRASE, APP_SECRET }, encryptedPublic, APP_SECRET],
          [{ PRIVATE_KEY_FILE: derFile }, der.publicKey, undefined],
        ]) {
          const running = await startExample(example.script, vars);
          try {
            assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
            const wa = new WhatsApp(running.url, secret);
            const sealedPing = wa.seal(ping(), publicKey);
            const reply = await wa.postSigned(sealedPing.raw);
            assert.equal(reply.status, 200, reply.body);
            assert.deepEqual(JSON.parse(openResponse(reply.body, sealedPing.aesKey, sealedPing.iv)), { data: { status: 'active' } });
            assert.ok(!running.logs().includes(PASSPHRASE));
          } finally {
            await running.stop();
          }
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The Worker on its own bindings (as Wrangler would give them, without the launcher's checks):
// it cannot refuse to start, so a configuration the launcher refuses is answered 500.

describe('worker bindings in workerd', { skip: selected.includes('worker') ? false : `WFC_EXAMPLES=${process.env.WFC_EXAMPLES}` }, () => {
  const workerd = join(packageDir, 'node_modules', 'workerd', 'bin', 'workerd');
  const capnp = join(packageDir, 'examples', 'worker', 'config.capnp');

  /** A free loopback port (the OS picks it; workerd is then told to bind it). */
  const freePort = () =>
    new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address();
        server.close(() => resolve(port));
      });
    });

  /** Runs workerd on `config.capnp` with exactly `vars`, and GETs / once it answers. */
  async function answerWith(vars) {
    const port = await freePort();
    const env = { ...process.env };
    for (const name of VARIABLES) delete env[name];
    Object.assign(env, vars);
    const child = spawn(workerd, ['serve', capnp, '--socket-addr', `http=127.0.0.1:${port}`], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (data) => (output += data));
    child.stderr.on('data', (data) => (output += data));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + START_LIMIT_MS;
      for (;;) {
        try {
          const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5_000) });
          return { status: response.status, body: await response.text(), logs: () => output };
        } catch (error) {
          if (child.exitCode !== null || Date.now() > deadline) throw new Error(`workerd did not answer: ${error}\n${output}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } finally {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }

  test('config.capnp embeds every module the package\'s Worker entry imports', () => {
    // workerd cannot resolve a module config.capnp does not list; while lib/ changes, this
    // names the missing one instead of a Worker that does not start.
    const embedded = new Set(
      [...readFileSync(capnp, 'utf8').matchAll(/name = "examples\/node_modules\/wa-flows-crypto\/([^"]+)"/g)].map((m) => m[1]),
    );
    const reached = new Set();
    const pending = ['lib/worker.mjs'];
    while (pending.length > 0) {
      const file = pending.pop();
      if (reached.has(file)) continue;
      reached.add(file);
      if (!file.endsWith('.mjs') && !file.endsWith('.js')) continue;
      const source = readFileSync(join(packageDir, file), 'utf8');
      for (const [, target] of source.matchAll(/^\s*(?:import|export)\b[^'"]*?['"](\.{1,2}\/[^'"]+)['"]/gm)) {
        pending.push(posix.normalize(posix.join(posix.dirname(file), target)));
      }
    }
    assert.deepEqual([...reached].filter((file) => !embedded.has(file)).sort(), [], 'modules config.capnp lacks');
  });

  test('a configuration the launcher refuses is answered 500 with its code', { timeout: TEST_LIMIT_MS }, async () => {
    const key = keys.privateKey;
    for (const [vars, code, reason] of [
      [{}, 'invalid_key', 'no private key'],
      [{ PRIVATE_KEY: key, PREVIOUS_PRIVATE_KEY: 'not a key' }, 'invalid_key', 'PREVIOUS_PRIVATE_KEY: invalid private key'],
      [{ PRIVATE_KEY: key, APP_SECRET: '' }, 'invalid_configuration', 'APP_SECRET is set but empty'],
      [{ PRIVATE_KEY: key, PREVIOUS_APP_SECRET: OLD_SECRET }, 'invalid_configuration', 'PREVIOUS_APP_SECRET is set without APP_SECRET'],
      [{ PRIVATE_KEY: key, FLOW_TOKEN_SIGNATURE: 'required' }, 'invalid_configuration', 'no app secret is configured'],
      [{ PRIVATE_KEY: key, APP_SECRET, FLOW_TOKEN_SIGNATURE: 'always' }, 'invalid_configuration', 'is not if_present, required or off'],
    ]) {
      const reply = await answerWith(vars);
      assert.deepEqual([reply.status, reply.body], [500, code], JSON.stringify(Object.keys(vars)));
      assert.match(reply.logs(), /flow endpoint: misconfigured: /);
      assert.ok(reply.logs().includes(reason), reply.logs());
      assert.ok(!reply.logs().includes(key.split('\n')[2]), reply.logs());
    }
    // And a good one answers (an unset binding is null in workerd: unset, not empty).
    const reply = await answerWith({ PRIVATE_KEY: key });
    assert.equal(reply.status, 200, reply.body);
  });
});
