#!/usr/bin/env node
// Runs the example Worker locally in workerd (from the package's devDependencies) with the
// Node example's variables: PRIVATE_KEY or PRIVATE_KEY_FILE, PASSPHRASE, the PREVIOUS_ key,
// APP_SECRET, PREVIOUS_APP_SECRET, FLOW_TOKEN_SIGNATURE, PORT (0: a free port), HOST (default
// 127.0.0.1), MEDIA_ALLOW_HTTP. It checks them like the Node example (refusing to start on
// any problem), passes them to the Worker's bindings (a key file as PEM text), starts
// `workerd serve config.capnp`, waits until the Worker answers, then prints
// `flow endpoint: listening on http://HOST:PORT/`.
// SIGTERM or Ctrl-C stops workerd too.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

import { configFromEnv, describeConfig } from '../config.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const STARTUP_LIMIT_MS = 60_000;

/** A free TCP port on `host` (the OS picks it; workerd is then told to bind it). */
function freePort(host) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * `{prefix}PRIVATE_KEY` as PEM text for the Worker's binding (it has no files): the variable
 * itself, a PEM file's text, or a DER file as PKCS#8 PEM, encrypted again if it was.
 */
function keyBindings(prefix, key) {
  const pem = process.env[`${prefix}PRIVATE_KEY`];
  const passphrase = process.env[`${prefix}PASSPHRASE`] || undefined;
  if (pem) return { pem, passphrase };
  const path = process.env[`${prefix}PRIVATE_KEY_FILE`];
  if (!path) return {};
  const text = readFileSync(path).toString('latin1');
  if (text.includes('-----BEGIN')) return { pem: text, passphrase };
  return { pem: key.privateKeyPem(passphrase), passphrase };
}

/** The Worker's environment: the checked variables, with the key files as PEM text. */
function workerEnv(config) {
  const env = { ...process.env, MEDIA_ALLOW_HTTP: config.allowHttp ? '1' : '0' };
  for (const [prefix, key] of [['', config.key], ['PREVIOUS_', config.previousKey]]) {
    const { pem, passphrase } = key === undefined ? {} : keyBindings(prefix, key);
    delete env[`${prefix}PRIVATE_KEY_FILE`];
    for (const [name, value] of [[`${prefix}PRIVATE_KEY`, pem], [`${prefix}PASSPHRASE`, passphrase]]) {
      if (value) env[name] = value;
      else delete env[name];
    }
  }
  // Empty counts as unset (empty app secrets were refused above).
  if (!env.FLOW_TOKEN_SIGNATURE) delete env.FLOW_TOKEN_SIGNATURE;
  return env;
}

async function main() {
  if (!process.env.HOST) process.env.HOST = '127.0.0.1';
  let config;
  try {
    config = configFromEnv();
  } catch (error) {
    console.error(`flow endpoint: refusing to start: ${error.message}`);
    process.exit(1);
  }
  const port = config.port === 0 ? await freePort(config.host) : config.port;
  const hostPart = config.host.includes(':') ? `[${config.host}]` : config.host;
  const env = workerEnv(config);

  const require = createRequire(import.meta.url);
  const workerd = join(dirname(require.resolve('workerd/package.json')), 'bin', 'workerd');
  const child = spawn(workerd, ['serve', join(here, 'config.capnp'), '--socket-addr', `http=${hostPart}:${port}`], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exited = false;
  child.on('exit', (code, signal) => {
    exited = true;
    console.error(`flow endpoint: workerd exited (${signal ?? code})`);
    process.exit(code ?? 0);
  });
  const stop = () => {
    if (!exited) child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  // Bounded wait until the Worker answers its health check.
  const url = `http://${hostPart}:${port}/`;
  const deadline = Date.now() + STARTUP_LIMIT_MS;
  for (;;) {
    if (exited) return;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      await response.arrayBuffer();
      if (response.status !== 200) {
        console.error(`flow endpoint: refusing to start: the Worker answers ${response.status}`);
        stop();
        return;
      }
      break;
    } catch {
      if (Date.now() > deadline) {
        console.error('flow endpoint: workerd did not answer within 60 s');
        stop();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  console.error(`flow endpoint: listening on ${url} (Worker in workerd, ${describeConfig(config)})`);
}

main();
