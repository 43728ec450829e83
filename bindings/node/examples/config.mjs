// Start-up configuration from the environment, as Meta's own sample endpoint reads it: shared
// by the Node server (endpoint.mjs) and the Worker's local launcher (worker/serve.mjs).
// Every problem is thrown as an Error whose message names the variable at fault; nothing is
// ever printed of a key, a passphrase or a secret.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import process from 'node:process';

import { FlowPrivateKey } from 'wa-flows-crypto';

const DEFAULT_PORT = 3000;

/** A variable's value; undefined when unset or empty. */
function env(name) {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Reads and checks the whole configuration, parsing the key once.
 * → { key, keyBytes, appSecret, host, port, allowHttp }; throws an Error with a message.
 */
export function configFromEnv() {
  const key = readKey();
  const appSecret = env('APP_SECRET');
  if (appSecret === undefined) {
    console.error(
      'flow endpoint: warning: APP_SECRET is not set, so requests are not authenticated: ' +
        'anyone with your public key can call this endpoint',
    );
  }
  let port = DEFAULT_PORT;
  const portText = env('PORT');
  if (portText !== undefined) {
    const trimmed = portText.trim();
    if (!/^\d{1,5}$/.test(trimmed) || Number(trimmed) > 65535) {
      throw new Error(`PORT=${JSON.stringify(portText)} is not a port number (0 to 65535)`);
    }
    port = Number(trimmed);
  }
  let host = '0.0.0.0';
  const hostText = env('HOST');
  if (hostText !== undefined) {
    host = hostText.trim();
    if (isIP(host) === 0) throw new Error(`HOST=${JSON.stringify(hostText)} is not an IP address (e.g. 0.0.0.0 or ::1)`);
  }
  let allowHttp;
  const allowText = env('MEDIA_ALLOW_HTTP')?.trim();
  if (allowText === undefined || allowText === '0' || allowText === 'false') allowHttp = false;
  else if (allowText === '1' || allowText === 'true') allowHttp = true;
  else throw new Error(`MEDIA_ALLOW_HTTP=${JSON.stringify(allowText)} is not 0 or 1`);
  return { key, appSecret, host, port, allowHttp };
}

/** PRIVATE_KEY or PRIVATE_KEY_FILE, with PASSPHRASE. */
function readKey() {
  const passphrase = env('PASSPHRASE');
  const pem = env('PRIVATE_KEY');
  const path = env('PRIVATE_KEY_FILE');
  if (pem !== undefined && path !== undefined) throw new Error('set PRIVATE_KEY or PRIVATE_KEY_FILE, not both');
  if (pem === undefined && path === undefined) {
    throw new Error(
      'no private key: set PRIVATE_KEY to the key\'s PEM text, or PRIVATE_KEY_FILE to the path ' +
        'of the key file (make one with `wa-flows-crypto keygen --out keys/`, then upload keys/public.pem)',
    );
  }
  let source;
  let bytes;
  if (pem !== undefined) {
    source = 'PRIVATE_KEY';
    bytes = pem;
  } else {
    source = `PRIVATE_KEY_FILE=${JSON.stringify(path)}`;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      throw new Error(`${source} cannot be read: ${error.code ?? error.message}`);
    }
  }
  try {
    // PEM text or, from a file, DER: fromPem reads both.
    return FlowPrivateKey.fromPem(bytes, passphrase);
  } catch (error) {
    // FlowCryptoError messages never contain key material.
    throw new Error(`${source}: ${error.message} (${error.code ?? 'invalid_key'})`);
  } finally {
    if (bytes instanceof Uint8Array) bytes.fill(0);
  }
}

