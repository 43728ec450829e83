// A WhatsApp Flows endpoint as a Cloudflare Worker: the same handler as the Node server
// (../flow.mjs), with the key parsed once per isolate from the Worker's bindings.
//
// Bindings (Wrangler `vars`/secrets, or workerd `fromEnvironment` in config.capnp):
//   PRIVATE_KEY       the private key's PEM text (a secret)
//   PASSPHRASE        the key's passphrase, if it is encrypted (a secret)
//   APP_SECRET        the Meta app secret; when set, X-Hub-Signature-256 is required (a secret)
//   MEDIA_ALLOW_HTTP  "1" to accept http:// cdn_urls (local tests with a fake CDN only)
//
// A Worker cannot refuse to start: with a bad configuration every request is answered 500
// with the error code (`invalid_key`, `invalid_config`), and the reason is logged once.
import { FlowPrivateKey } from 'wa-flows-crypto';

import { createFlowEndpoint } from '../flow.mjs';

/** The handler, or the configuration error, built on the first request of this isolate. */
let state;

/** Empty bindings count as unset. */
const value = (env, name) => (typeof env[name] === 'string' && env[name] !== '' ? env[name] : undefined);

function setUp(env) {
  const pem = value(env, 'PRIVATE_KEY');
  if (pem === undefined) {
    return { code: 'invalid_key', message: 'no private key: set the PRIVATE_KEY secret to the key\'s PEM text' };
  }
  let key;
  try {
    key = FlowPrivateKey.fromPem(pem, value(env, 'PASSPHRASE'));
  } catch (error) {
    // FlowCryptoError messages never contain key material.
    return { code: error.code ?? 'invalid_key', message: `PRIVATE_KEY: ${error.message} (${error.code})` };
  }
  const allow = value(env, 'MEDIA_ALLOW_HTTP')?.trim();
  if (allow !== undefined && !['0', '1', 'false', 'true'].includes(allow)) {
    return { code: 'invalid_config', message: `MEDIA_ALLOW_HTTP=${JSON.stringify(allow)} is not 0 or 1` };
  }
  const appSecret = value(env, 'APP_SECRET');
  console.error(
    `flow endpoint: worker ready (public key ${key.publicKeyFingerprint()}, signature check ${appSecret === undefined ? 'off' : 'on'})`,
  );
  if (appSecret === undefined) {
    console.error('flow endpoint: warning: APP_SECRET is not set, so requests are not authenticated');
  }
  const handle = createFlowEndpoint({
    key,
    appSecret,
    allowHttp: allow === '1' || allow === 'true',
    sha256,
    log: (line) => console.error(line),
  });
  return { handle };
}

/** An incremental SHA-256: workerd's crypto.DigestStream (WebCrypto's digest is one-shot). */
function sha256() {
  const stream = new crypto.DigestStream('SHA-256');
  const writer = stream.getWriter();
  return {
    update: (bytes) => writer.write(bytes),
    async digest() {
      await writer.close();
      const digest = new Uint8Array(await stream.digest);
      return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
    },
  };
}

export default {
  async fetch(request, env) {
    state ??= setUp(env);
    if (state.handle === undefined) {
      console.error(`flow endpoint: misconfigured: ${state.message}`);
      return new Response(state.code, { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    }
    return state.handle(request);
  },
};
