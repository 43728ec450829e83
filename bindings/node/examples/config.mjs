// Start-up configuration from the environment, as Meta's own sample endpoint reads it: shared
// by the Node server (endpoint.mjs) and the Worker's local launcher (worker/serve.mjs). The
// endpoint's own variables are read by settings.mjs, the same rules the Worker applies to its
// bindings; this file adds the files, PORT and HOST.
// Every problem is thrown as an Error whose message names the variable at fault; nothing is
// ever printed of a key, a passphrase or a secret.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import process from 'node:process';

import { endpointSettings } from './settings.mjs';

const DEFAULT_PORT = 3000;

/** A variable's value; undefined when unset or empty. */
function env(name) {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Reads and checks the whole configuration, parsing the keys once.
 * → { key, keys, appSecret, appSecrets, flowTokenSignature, allowHttp, host, port };
 * throws an Error with a message.
 */
export function configFromEnv() {
  const settings = endpointSettings((name) => process.env[name], (path) => readFileSync(path));
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
  // Only once nothing is refused, so that a refusal is the one line on standard error.
  if (settings.appSecret === undefined) {
    console.error(
      'flow endpoint: warning: APP_SECRET is not set, so requests are not authenticated: ' +
        'anyone with your public key can call this endpoint',
    );
  }
  return { ...settings, host, port };
}

/** What the start-up line says of the configuration (never a secret). */
export function describeConfig(config) {
  return (
    `public key ${config.key.publicKeyFingerprint()}, ${config.keys.length} key(s), ` +
    `${config.appSecrets} app secret(s), signature check ${config.appSecrets > 0 ? 'on' : 'off'}, ` +
    `flow_token_signature ${config.flowTokenSignature}`
  );
}
