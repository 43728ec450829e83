// The workerd side of benches/compare/workerd.mjs: `GET /?op=OP&impl=IMPL&n=N` runs N
// decryptions of one shared request body and answers when done. workerd freezes clocks while
// a request computes, so the driver times the requests from outside.
import { FlowPrivateKey, decryptRequest } from 'wa-flows-crypto';

const subtle = crypto.subtle;
let ours;
let theirs;

/** Base64 as a hand-written worker would decode it: the platform's fastest decoder. */
const fromBase64 =
  typeof Uint8Array.fromBase64 === 'function'
    ? (text) => Uint8Array.fromBase64(text)
    : (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

function pemToDer(pem) {
  return fromBase64(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''));
}

/** The protocol by hand in WebCrypto, as runner.mjs does it in Node. */
async function webDecryptRequest(body, key) {
  const { encrypted_flow_data: data, encrypted_aes_key: wrapped, initial_vector: ivText } = JSON.parse(body);
  const raw = new Uint8Array(await subtle.decrypt({ name: 'RSA-OAEP' }, key, fromBase64(wrapped)));
  const aesKey = await subtle.importKey('raw', raw, 'AES-GCM', false, ['decrypt']);
  const iv = fromBase64(ivText);
  const plaintext = await subtle.decrypt({ name: 'AES-GCM', iv, tagLength: 128 }, aesKey, fromBase64(data));
  return { decryptedBody: JSON.parse(new TextDecoder().decode(plaintext)), aesKey: raw, iv };
}

export default {
  async fetch(request, env) {
    ours ??= FlowPrivateKey.fromPem(env.KEY_PEM);
    theirs ??= await subtle.importKey('pkcs8', pemToDer(env.KEY_PEM), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, [
      'decrypt',
    ]);
    const url = new URL(request.url);
    const body = url.searchParams.get('op') === 'decrypt_request_200kb' ? env.REQUEST_LARGE : env.REQUEST_SMALL;
    const impl = url.searchParams.get('impl');
    const n = Number(url.searchParams.get('n') ?? '1');
    let last;
    for (let i = 0; i < n; i++) {
      last = impl === 'npm' ? await decryptRequest(body, ours) : await webDecryptRequest(body, theirs);
    }
    return Response.json({ engine: ours.engine, base64: typeof Uint8Array.fromBase64, action: last.decryptedBody.action });
  },
};
