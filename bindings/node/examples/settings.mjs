// The endpoint's settings from its variables, shared by the Node server (config.mjs, from
// process.env) and the Worker (worker/worker.mjs, from its bindings), so both refuse the same
// configurations with the same messages. No Node built-ins here: workerd loads this module too.
//
// Nothing of a key, a passphrase or a secret is ever put in a message.
import { FlowKeyRing, FlowPrivateKey } from 'wa-flows-crypto';

/** FLOW_TOKEN_SIGNATURE's values, as the library names its policies. */
export const FLOW_TOKEN_SIGNATURE_POLICIES = ['if_present', 'required', 'off'];

/** A configuration the endpoint refuses; `code` is what the Worker answers with (500). */
export class ConfigError extends Error {
  constructor(message, code = 'invalid_configuration') {
    super(message);
    this.code = code;
  }
}

/**
 * Reads and checks every variable but PORT and HOST, parsing the keys once.
 *
 * @param {(name: string) => string | undefined} get a variable's value, `undefined`
 *   when unset and `''` when set but empty (the two differ only for the app secrets)
 * @param {((path: string) => Uint8Array) | undefined} readFile reads a key file (`undefined`
 *   where there are no files: PRIVATE_KEY_FILE is then refused)
 * @returns {{ key: FlowPrivateKey, previousKey: FlowPrivateKey | undefined, keys: FlowKeyRing, appSecret: string | string[] | undefined,
 *   appSecrets: number, flowTokenSignature: string, allowHttp: boolean }}
 */
export function endpointSettings(get, readFile) {
  const key = readKey(get, readFile, '');
  const previousKey = readKey(get, readFile, 'PREVIOUS_');
  const keys = new FlowKeyRing(previousKey === undefined ? [key] : [key, previousKey]);

  // Set but empty is a mistake, not "no secret": it would silently turn the signature check off.
  const secrets = [];
  for (const name of ['APP_SECRET', 'PREVIOUS_APP_SECRET']) {
    const value = get(name);
    if (value === undefined) continue;
    if (value.length === 0) throw new ConfigError(`${name} is set but empty: set it to the Meta app secret, or unset it`);
    secrets.push(value);
  }
  if (secrets.length === 1 && get('APP_SECRET') === undefined) {
    throw new ConfigError('PREVIOUS_APP_SECRET is set without APP_SECRET');
  }

  const policyText = nonEmpty(get('FLOW_TOKEN_SIGNATURE'));
  const flowTokenSignature = policyText === undefined ? 'if_present' : policyText.trim();
  if (!FLOW_TOKEN_SIGNATURE_POLICIES.includes(flowTokenSignature)) {
    throw new ConfigError(`FLOW_TOKEN_SIGNATURE=${JSON.stringify(policyText)} is not if_present, required or off`);
  }
  // The library refuses it too; said here with the variables' names.
  if (flowTokenSignature === 'required' && secrets.length === 0) {
    throw new ConfigError(
      'FLOW_TOKEN_SIGNATURE=required needs APP_SECRET: no app secret is configured to verify flow_token_signature',
    );
  }

  const allowText = nonEmpty(get('MEDIA_ALLOW_HTTP'))?.trim();
  let allowHttp;
  if (allowText === undefined || allowText === '0' || allowText === 'false') allowHttp = false;
  else if (allowText === '1' || allowText === 'true') allowHttp = true;
  else throw new ConfigError(`MEDIA_ALLOW_HTTP=${JSON.stringify(allowText)} is not 0 or 1`);

  return {
    key,
    previousKey,
    keys,
    // One secret as itself; while rotating, the list (newest first) the library tries in turn.
    appSecret: secrets.length === 0 ? undefined : secrets.length === 1 ? secrets[0] : secrets,
    appSecrets: secrets.length,
    flowTokenSignature,
    allowHttp,
  };
}

/** Empty counts as unset. */
function nonEmpty(value) {
  return value === undefined || value.length === 0 ? undefined : value;
}

/**
 * `{prefix}PRIVATE_KEY` or `{prefix}PRIVATE_KEY_FILE`, with `{prefix}PASSPHRASE`. The current
 * key is required; the previous one (prefix `PREVIOUS_`) may be absent: `undefined`.
 */
function readKey(get, readFile, prefix) {
  const pemVar = `${prefix}PRIVATE_KEY`;
  const fileVar = `${prefix}PRIVATE_KEY_FILE`;
  const pem = nonEmpty(get(pemVar));
  const path = nonEmpty(get(fileVar));
  if (pem !== undefined && path !== undefined) throw new ConfigError(`set ${pemVar} or ${fileVar}, not both`, 'invalid_key');
  if (pem === undefined && path === undefined) {
    if (prefix !== '') return undefined;
    throw new ConfigError(
      "no private key: set PRIVATE_KEY to the key's PEM text, or PRIVATE_KEY_FILE to the path " +
        'of the key file (make one with `wa-flows-crypto keygen --out keys/`, then upload keys/public.pem)',
      'invalid_key',
    );
  }
  let source;
  let bytes;
  if (pem !== undefined) {
    source = pemVar;
    bytes = pem;
  } else {
    source = `${fileVar}=${JSON.stringify(path)}`;
    if (readFile === undefined) throw new ConfigError(`${source}: there are no files here; set ${pemVar}`, 'invalid_key');
    try {
      bytes = readFile(path);
    } catch (error) {
      throw new ConfigError(`${source} cannot be read: ${error.code ?? error.message}`, 'invalid_key');
    }
  }
  try {
    // PEM text or, from a file, DER: fromPem reads both.
    return FlowPrivateKey.fromPem(bytes, nonEmpty(get(`${prefix}PASSPHRASE`)));
  } catch (error) {
    // FlowCryptoError messages never contain key material.
    throw new ConfigError(`${source}: ${error.message} (${error.code ?? 'invalid_key'})`, 'invalid_key');
  } finally {
    if (bytes instanceof Uint8Array) bytes.fill(0);
  }
}
