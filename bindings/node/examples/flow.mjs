// The WhatsApp Flows endpoint itself, shared by the Node server (endpoint.mjs) and the
// Cloudflare-style Worker (worker/worker.mjs): one `handle(request) → Response` written with
// Web APIs only (Request, Response, fetch, streams), so both run exactly the same code.
//
// Its behaviour is the one specified in crates/wa-flows-crypto-endpoint-example/README.md:
//
// | check (in this order)                                            | refused with                      |
// |------------------------------------------------------------------|-----------------------------------|
// | Content-Type is application/json (any case, parameters ignored)   | 415 unsupported_media_type        |
// | the body is at most 1 MiB                                         | 413 body_too_large                |
// | X-Hub-Signature-256 over the raw bytes, when an app secret is set | 432 invalid_signature             |
// | the body decrypts (current or previous key), and holds a JSON object with a string action | 421 malformed/key_unwrap/payload_auth |
// | data API 4.0's flow_token_signature, under FLOW_TOKEN_SIGNATURE   | 427 invalid_flow_token_signature  |
//
// The last three are one call of the library, FlowEndpoint.open, so their order and statuses
// are the core's, the same in every example. Every answer is text/plain: the error code, or
// the base64 of the encrypted answer (200). One log line per request: status, action (or error
// code), time. Never a key, a secret, the plaintext, a file name or an unknown action's name.
import { FlowCryptoError, FlowEndpoint, MediaDecryptor } from 'wa-flows-crypto';

/** The largest request body read: WhatsApp's requests are a few KiB. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** WhatsApp sends at most 30 files per request. */
export const MAX_PHOTOS = 30;
/** 25 MiB uploads, plus at most one block of padding and the 10-byte MAC. */
export const MAX_CDN_FILE_BYTES = 25 * 1024 * 1024 + 16 + 10;
/** How long one download may take, connection included. */
const DOWNLOAD_TIMEOUT_MS = 30_000;
/** Redirects followed per download (never to a refused scheme). */
const MAX_REDIRECTS = 3;

export const PROFILE = 'PROFILE';
export const SUMMARY = 'SUMMARY';
export const SUCCESS = 'SUCCESS';

/** The actions the core names; any other is logged as `other` (its text is the sender's). */
const KNOWN_ACTIONS = ['ping', 'INIT', 'data_exchange', 'BACK'];

const TEXT = { 'content-type': 'text/plain; charset=utf-8' };
const HEALTH = 'WhatsApp Flows endpoint: POST encrypted flow requests here.\n';

/**
 * The endpoint's request handler. Throws FlowCryptoError (`invalid_configuration`,
 * `invalid_key`) for settings the library refuses, so a server can refuse to start.
 *
 * @param {object} options
 * @param {import('wa-flows-crypto').FlowPrivateKey | import('wa-flows-crypto').FlowKeyRing} options.key
 *   the business key, or the current and the previous one while rotating, parsed once
 * @param {string | string[] | undefined} options.appSecret when set, signatures are required;
 *   a list (newest first) while rotating
 * @param {'if_present' | 'required' | 'off'} [options.flowTokenSignature] data API 4.0's check
 * @param {boolean} [options.allowHttp] accept http:// cdn_urls (local tests only)
 * @param {() => {update(bytes: Uint8Array): unknown, digest(): Promise<string>}} options.sha256
 *   an incremental SHA-256 (hex digest): node:crypto in Node, crypto.DigestStream in workerd
 * @param {(line: string) => void} [options.log] where log lines go (default console.error)
 * @param {typeof fetch} [options.fetch] how media is downloaded (default the global fetch)
 * @returns {(request: Request) => Promise<Response>}
 */
export function createFlowEndpoint({
  key,
  appSecret,
  flowTokenSignature = 'if_present',
  allowHttp = false,
  sha256,
  log = console.error,
  fetch = globalThis.fetch,
}) {
  if (typeof sha256 !== 'function') throw new TypeError('createFlowEndpoint: sha256 must be a function');
  const endpoint = new FlowEndpoint({ key, appSecret, flowTokenSignature });
  // Called as a plain function: workerd's fetch refuses any other `this`.
  const media = { allowHttp, sha256, fetch: (url, init) => fetch(url, init) };

  return async function handle(request) {
    const url = new URL(request.url);
    if (url.pathname !== '/') return plain(404, 'not_found');
    if (request.method === 'GET' || request.method === 'HEAD') return plain(200, HEALTH);
    if (request.method !== 'POST') {
      return new Response('method_not_allowed', { status: 405, headers: { ...TEXT, allow: 'GET, HEAD, POST' } });
    }
    const started = performance.now();
    let status;
    let body;
    let what;
    try {
      const answer = await respond(request);
      ({ status, body, what } = { status: 200, body: answer.body, what: answer.action });
    } catch (error) {
      const refusal = asRefusal(error);
      ({ status, body, what } = { status: refusal.status, body: refusal.code, what: refusal.code });
    }
    log(`flow endpoint: ${status} ${what} ${(performance.now() - started).toFixed(1)}ms`);
    return plain(status, body);
  };

  async function respond(request) {
    if (!isJson(request.headers.get('content-type'))) throw new Refusal(415, 'unsupported_media_type');
    const raw = await readBody(request);
    // In the core's order: the signature over the raw bytes exactly as received (432),
    // decryption with the current or the previous key (421), the flow request (421), the flow
    // token signature (427).
    const opened = await endpoint.open(raw, signatureHeader(request.headers), { now: Date.now() });
    const flow = opened.flow;
    const action = KNOWN_ACTIONS.includes(flow.action) ? flow.action : 'other';
    if (flow.errorNotification !== null) {
      // WhatsApp's error names are short upper-case codes; log nothing else from the request.
      const { error, errorKey } = flow.errorNotification;
      const code = [...(error ?? errorKey ?? '')].filter((c) => /^[A-Za-z0-9_]$/.test(c)).slice(0, 64).join('');
      log(`flow endpoint: WhatsApp reports an error in our last answer: ${code}`);
    }
    // A ping or an error notification: the protocol fixes the answer, and the library knows it.
    const answer = opened.automaticResponse ?? (await answerFlow(flow, media));
    return { body: opened.respond(answer), action };
  }
}

/** A refusal: the status and the stable code sent as the body and logged. */
class Refusal extends Error {
  constructor(status, code) {
    super(code);
    this.status = status;
    this.code = code;
  }
}

/** The library decides the status: 421 undecryptable, 427 bad token signature, 432 bad signature, 500 bad key. */
function asRefusal(error) {
  if (error instanceof Refusal) return error;
  if (error instanceof FlowCryptoError) return new Refusal(error.httpStatus ?? 500, error.code);
  return new Refusal(500, 'internal');
}

function plain(status, body) {
  return new Response(body, { status, headers: TEXT });
}

/** `application/json`, any case, any parameters; a missing header is not JSON. */
function isJson(contentType) {
  if (contentType === null) return false;
  return contentType.split(';')[0].trim().toLowerCase() === 'application/json';
}

/**
 * X-Hub-Signature-256: missing → undefined (refused as missing); anything but visible ASCII
 * → "?" (refused as malformed), so an odd header is a mismatch, never a crash.
 */
function signatureHeader(headers) {
  const value = headers.get('x-hub-signature-256');
  if (value === null) return undefined;
  return /^[\t\x20-\x7e]*$/.test(value) ? value : '?';
}

/** The raw body, at most MAX_BODY_BYTES, read as it arrives. */
async function readBody(request) {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) throw new Refusal(413, 'body_too_large');
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > MAX_BODY_BYTES) {
        reader.cancel().catch(() => {});
        throw new Refusal(413, 'body_too_large');
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof Refusal) throw error;
    throw new Refusal(400, 'unreadable_body');
  }
  const raw = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    raw.set(chunk, at);
    at += chunk.byteLength;
  }
  return raw;
}

/** A field of `data` when it is a JSON object, else undefined. */
function field(data, name) {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  return Object.hasOwn(data, name) ? data[name] : undefined;
}

/**
 * The answer to an opened request's flow view (an object, encrypted by the caller). Pings and
 * error notifications never reach here: the library answers them (`automaticResponse`). The
 * action is compared as the core names it, never case-folded here.
 */
async function answerFlow(flow, media) {
  switch (flow.action) {
    case 'INIT':
    case 'BACK':
      return profile('');
    case 'data_exchange':
      if (flow.screen === PROFILE) return submitProfile(flow.data, media);
      if (flow.screen === SUMMARY) return close(flow.flowToken ?? '');
      return profile('unknown screen');
    default:
      return profile('unsupported action');
  }
}

/** The PROFILE screen, with an error message ('' when there is none). */
function profile(errorMessage) {
  return { screen: PROFILE, data: { error_message: errorMessage } };
}

/** Closes the flow; WhatsApp sends `params` to the business in the completion message. */
function close(flowToken) {
  return { screen: SUCCESS, data: { extension_message_response: { params: { flow_token: flowToken } } } };
}

/** PROFILE submitted {name, photos}: read every photo, then SUMMARY, or PROFILE with the first failure. */
async function submitProfile(data, media) {
  const name = typeof field(data, 'name') === 'string' ? field(data, 'name') : '';
  const photos = field(data, 'photos') ?? [];
  if (!Array.isArray(photos)) return profile('photos is not a list');
  if (photos.length > MAX_PHOTOS) return profile(`too many photos: at most ${MAX_PHOTOS}`);

  // In parallel; every result is kept, and the first failure in request order is reported.
  const results = await Promise.all(photos.map((photo, index) => readPhoto(photo, index, media)));
  const failure = results.find((result) => result.code !== undefined);
  if (failure) return profile(`could not read photo ${failure.fileName}: ${failure.code}`);

  const totalBytes = results.reduce((sum, photo) => sum + photo.size, 0);
  return {
    screen: SUMMARY,
    data: {
      name,
      photo_count: results.length,
      total_bytes: totalBytes,
      photos: results.map((photo) => ({ file_name: photo.fileName, size: photo.size, sha256: photo.sha256 })),
      summary: `${results.length} photos, ${totalBytes} bytes`,
    },
  };
}

/**
 * One upload: download its cdn_url and decrypt it chunk by chunk as it arrives, keeping only
 * the size and SHA-256 of the plaintext. → {fileName, size, sha256} or {fileName, code}.
 */
async function readPhoto(photo, index, media) {
  const fileName = typeof field(photo, 'file_name') === 'string' ? field(photo, 'file_name') : `#${index + 1}`;
  const url = field(photo, 'cdn_url');
  const metadata = field(photo, 'encryption_metadata');
  if (typeof url !== 'string') return { fileName, code: 'malformed' };
  // The metadata is JSON from the request: an object, nothing else.
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return { fileName, code: 'malformed' };
  let decryptor;
  try {
    decryptor = new MediaDecryptor(metadata);
  } catch (error) {
    return { fileName, code: error instanceof FlowCryptoError ? error.code : 'malformed' };
  }
  if (!schemeAllowed(url, media.allowHttp)) return release(decryptor, { fileName, code: 'cdn_url_refused' });

  const signal = AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS);
  let response;
  try {
    response = await download(url, media, signal);
  } catch (error) {
    return release(decryptor, { fileName, code: error instanceof Refusal ? error.code : 'download_failed' });
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_CDN_FILE_BYTES) {
    response.body?.cancel().catch(() => {});
    return release(decryptor, { fileName, code: 'too_large' });
  }

  const hasher = media.sha256();
  let size = 0;
  let received = 0;
  try {
    if (response.body !== null) {
      const reader = response.body.getReader();
      for (;;) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch {
          return release(decryptor, { fileName, code: 'download_failed' });
        }
        if (chunk.done) break;
        received += chunk.value.byteLength;
        if (received > MAX_CDN_FILE_BYTES) {
          reader.cancel().catch(() => {});
          return release(decryptor, { fileName, code: 'too_large' });
        }
        // NOT VERIFIED yet: only hashed, then wiped; the hash counts only if finish() passes.
        const plaintext = decryptor.update(chunk.value);
        await hasher.update(plaintext);
        size += plaintext.length;
        plaintext.fill(0);
      }
    }
    const last = decryptor.finish();
    await hasher.update(last);
    size += last.length;
    last.fill(0);
  } catch (error) {
    return release(decryptor, { fileName, code: error instanceof FlowCryptoError ? error.code : 'download_failed' });
  }
  return { fileName, size, sha256: await hasher.digest() };
}

/** Frees an abandoned decryptor's WebAssembly memory (finish() runs its checks and frees it). */
function release(decryptor, result) {
  try {
    decryptor.finish().fill(0);
  } catch {
    // Expected: the file was not complete.
  }
  return result;
}

function schemeAllowed(url, allowHttp) {
  return url.startsWith('https://') || (allowHttp && url.startsWith('http://'));
}

/** GET with at most MAX_REDIRECTS redirects, each to an allowed scheme; a 2xx response. */
async function download(url, media, signal) {
  let current = url;
  for (let redirects = 0; ; redirects += 1) {
    const response = await media.fetch(current, { redirect: 'manual', signal });
    if (response.status >= 300 && response.status < 400 && response.headers.has('location')) {
      response.body?.cancel().catch(() => {});
      if (redirects >= MAX_REDIRECTS) throw new Refusal(0, 'download_failed');
      current = new URL(response.headers.get('location'), current).href;
      if (!schemeAllowed(current, media.allowHttp)) throw new Refusal(0, 'download_failed');
      continue;
    }
    if (response.status < 200 || response.status > 299) {
      response.body?.cancel().catch(() => {});
      throw new Refusal(0, 'download_failed');
    }
    return response;
  }
}
