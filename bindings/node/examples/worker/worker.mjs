// A WhatsApp Flows endpoint as a Cloudflare Worker: the same handler as the Node server
// (../flow.mjs), with the keys parsed once per isolate from the Worker's bindings, by the same
// rules as the Node server's variables (../settings.mjs).
//
// Bindings (Wrangler `vars`/secrets, or workerd `fromEnvironment` in config.capnp):
//   PRIVATE_KEY           the private key's PEM text (a secret)
//   PASSPHRASE            the key's passphrase, if it is encrypted (a secret)
//   PREVIOUS_PRIVATE_KEY, PREVIOUS_PASSPHRASE   the key being rotated out, tried second (secrets)
//   APP_SECRET            the Meta app secret; when set, X-Hub-Signature-256 is required (a secret)
//   PREVIOUS_APP_SECRET   the app secret being rotated out, also accepted (a secret)
//   FLOW_TOKEN_SIGNATURE  data API 4.0: if_present (default), required or off
//   MEDIA_ALLOW_HTTP      "1" to accept http:// cdn_urls (local tests with a fake CDN only)
//
// A Worker cannot refuse to start: with a bad configuration every request is answered 500
// with the error code (`invalid_key`, `invalid_configuration`), and the reason is logged.
import { createFlowEndpoint } from '../flow.mjs';
import { endpointSettings } from '../settings.mjs';

/** The handler, or the configuration error, built on the first request of this isolate. */
let state;

function setUp(env) {
  // workerd gives an unset variable as null, Wrangler leaves it out: both are unset. An empty
  // string stays empty, so an empty app secret is refused as it is in Node.
  const get = (name) => (typeof env[name] === 'string' ? env[name] : undefined);
  let settings;
  let handle;
  try {
    settings = endpointSettings(get, undefined);
    handle = createFlowEndpoint({
      key: settings.keys,
      appSecret: settings.appSecret,
      flowTokenSignature: settings.flowTokenSignature,
      allowHttp: settings.allowHttp,
      sha256,
      log: (line) => console.error(line),
    });
  } catch (error) {
    return { code: error.code ?? 'invalid_configuration', message: error.message };
  }
  console.error(
    `flow endpoint: worker ready (public key ${settings.key.publicKeyFingerprint()}, ${settings.keys.length} key(s), ` +
      `${settings.appSecrets} app secret(s), signature check ${settings.appSecrets > 0 ? 'on' : 'off'}, ` +
      `flow_token_signature ${settings.flowTokenSignature})`,
  );
  if (settings.appSecret === undefined) {
    console.error('flow endpoint: warning: APP_SECRET is not set, so requests are not authenticated');
  }
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
