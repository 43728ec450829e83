// Types of the wa-flows-crypto package (every entry point exports the same API).

/** Stable error codes, the same in every binding of wa-flows-crypto. */
export type FlowCryptoErrorCode =
  | 'malformed'
  | 'key_unwrap'
  | 'payload_auth'
  | 'invalid_key'
  | 'invalid_signature'
  | 'invalid_flow_token_signature'
  | 'encrypted_hash_mismatch'
  | 'hmac_mismatch'
  | 'padding'
  | 'plaintext_hash_mismatch'
  | 'invalid_configuration'
  | 'already_finished'
  | 'internal';

/** The error every operation throws (a real `Error` subclass). */
export declare class FlowCryptoError extends Error {
  constructor(message: string, code: FlowCryptoErrorCode, httpStatus: number | null);
  readonly name: 'FlowCryptoError';
  /** What went wrong, as a stable code. */
  code: FlowCryptoErrorCode;
  /**
   * 421 (malformed, key_unwrap, payload_auth), 427 (invalid_flow_token_signature), 432 (invalid_signature), 500 (invalid_key,
   * invalid_configuration, internal); null for media errors.
   */
  httpStatus: number | null;
}

/** Which implementation performs the RSA-OAEP unwrap. */
export type RsaEngine = 'node' | 'webcrypto' | 'wasm';

/** Bytes: a Uint8Array (Node Buffers are Uint8Arrays), an ArrayBuffer or another view. */
export type Bytes = Uint8Array | ArrayBuffer | ArrayBufferView;

/** The business RSA private key: parse it once at start-up and share it. */
export declare class FlowPrivateKey {
  private constructor();
  /** PKCS#1 or PKCS#8 PEM, encrypted (PBES2, legacy OpenSSL) or not; `\n` escapes are fine. */
  static fromPem(pem: string | Bytes, passphrase?: string | Bytes | null): FlowPrivateKey;
  /** PKCS#1, PKCS#8 or encrypted PKCS#8 DER. */
  static fromDer(der: Bytes, passphrase?: string | Bytes | null): FlowPrivateKey;
  /** A new key of 2048 (default, what WhatsApp expects), 3072 or 4096 bits; any other size is `invalid_key`. */
  static generate(bits?: number | bigint): FlowPrivateKey;
  /** The engines this build can use, the default first. */
  static readonly engines: RsaEngine[];
  /** The public key as SPKI PEM: what to upload to Meta. */
  publicKeyPem(): string;
  /** The public key as SPKI DER (the bytes publicKeyFingerprint hashes). */
  publicKeyDer(): Uint8Array;
  /** SHA-256 of the public key's SPKI DER, lowercase hex. */
  publicKeyFingerprint(): string;
  /** PKCS#8 PEM; encrypted with PBES2 (PBKDF2-SHA256, AES-256-CBC) when a passphrase is given. */
  privateKeyPem(passphrase?: string | Bytes | null): string;
  /** The modulus size in bits. */
  readonly bits: number;
  /** The engine that performs the RSA unwrap for this key. */
  readonly engine: RsaEngine;
  /** The same key with another RSA engine; all engines give identical results and errors. */
  withEngine(engine: RsaEngine): FlowPrivateKey;
}

/** The request body: the raw text, its bytes, or the object a framework parsed from it. */
export type RequestBody =
  | string
  | Bytes
  | { encrypted_flow_data?: unknown; encrypted_aes_key?: unknown; initial_vector?: unknown; [field: string]: unknown };

/** A response: an object (serialized with JSON.stringify), JSON text, or bytes. */
export type FlowResponse = string | Bytes | object;

/** A decrypted request. */
export declare class DecryptedRequest<Body = any> {
  private constructor();
  /** The decrypted request, parsed from JSON. */
  readonly decryptedBody: Body;
  /** The decrypted JSON text, exactly as WhatsApp sent it. */
  readonly plaintext: string;
  /** The request's AES-128 key (16 bytes). */
  readonly aesKey: Uint8Array;
  /** The request's IV (16 bytes). */
  readonly iv: Uint8Array;
  /**
   * Encrypts the answer; returns the base64 body to send with Content-Type text/plain. Bound to
   * this request, so it can be destructured: `const { decryptedBody, encryptResponse } = …`.
   */
  readonly encryptResponse: (response: FlowResponse) => string;
  /** Which key of the FlowKeyRing opened the request (0 is the newest; 0 for a single key). */
  readonly keyIndex: number;
  /** The core's view of the request; throws FlowCryptoError `malformed` (421) if it is not a flow request. */
  readonly flow: FlowRequest;
}

/** An error WhatsApp reports about the endpoint's previous answer. */
export interface ErrorNotification {
  readonly error: string | null;
  readonly errorMessage: string | null;
  readonly errorKey: string | null;
}

/** The typed view of a decrypted request, made by the core. */
export declare class FlowRequest {
  private constructor();
  /** `ping`, `INIT`, `data_exchange`, `BACK`, or an unknown action as sent. */
  readonly action: string;
  readonly screen: string | null;
  readonly data: any;
  readonly flowToken: string | null;
  readonly version: string | null;
  readonly isPing: boolean;
  readonly errorNotification: ErrorNotification | null;
}

/** The answer to a ping. */
export declare const PING_RESPONSE: string;
/** The answer to an error notification. */
export declare const ERROR_ACKNOWLEDGEMENT: string;

/** Business private keys, newest first, for key rotation. Throws `invalid_configuration` (500) when empty. */
export declare class FlowKeyRing {
  constructor(keys: readonly FlowPrivateKey[]);
  readonly length: number;
}

/** A request body parsed and length-checked by the core, not decrypted (see parseRequest). */
export declare class EncryptedRequest {
  private constructor();
  /** The RSA-OAEP-wrapped AES key, decoded from base64. */
  readonly encryptedAesKey: Uint8Array;
}

/** Parses a request body without decrypting it, for unwrapAesKey elsewhere and decryptPayload. Throws `malformed` (421). */
export declare function parseRequest(body: RequestBody): EncryptedRequest;
/** Decrypts a request with the key's engine (a ring: the core's ring). Throws FlowCryptoError (httpStatus 421 or 500). */
export declare function decryptRequest<Body = any>(body: RequestBody, key: FlowPrivateKey | FlowKeyRing): Promise<DecryptedRequest<Body>>;
/** As decryptRequest, synchronously (an asynchronous WebCrypto engine is replaced by wasm). */
export declare function decryptRequestSync<Body = any>(body: RequestBody, key: FlowPrivateKey | FlowKeyRing): DecryptedRequest<Body>;
/** Step one: unwraps the raw `encrypted_aes_key` bytes (or a parsed request's) with the key's engine. */
export declare function unwrapAesKey(encryptedAesKey: Bytes | EncryptedRequest, key: FlowPrivateKey): Promise<Uint8Array>;
/** Step two: opens a request (body or parsed) with an AES key unwrapped elsewhere (a KMS, an HSM). */
export declare function decryptPayload<Body = any>(body: RequestBody | EncryptedRequest, aesKey: Bytes): DecryptedRequest<Body>;
/** Encrypts a response with a request's AES key and IV (Meta's argument order). */
export declare function encryptResponse(response: FlowResponse, aesKey: Bytes, iv: Bytes): string;

/** `encryption_metadata` as it arrives in the flow request (or its JSON text). */
export type EncryptionMetadata =
  | string
  | Bytes
  | {
      encryption_key: string;
      hmac_key: string;
      iv: string;
      plaintext_hash: string;
      encrypted_hash: string;
      [field: string]: unknown;
    };

/** Who computes SHA-256, HMAC and AES-CBC of a media file: `node` (node:crypto) or `wasm`. */
export type MediaEngine = 'node' | 'wasm';

/** The media engines this build can use, the default first (`['node', 'wasm']` in Node). */
export declare const mediaEngines: readonly MediaEngine[];

/**
 * Decrypts and verifies a whole CDN file; the plaintext only if every check passed.
 * `options.engine` picks the engine (default: the first of `mediaEngines`); every engine gives
 * identical results and errors.
 */
export declare function decryptMediaContent(
  cdnFile: Bytes,
  encryptionMetadata: EncryptionMetadata,
  options?: { engine?: MediaEngine },
): Promise<Uint8Array>;

/**
 * Streaming media decryption in constant memory; also a TransformStream
 * (`response.body.pipeThrough(new MediaDecryptor(metadata))`), which errors if a final check
 * fails. Released plaintext is unverified until `finish()` returns or the stream closes.
 * `options.engine` picks the engine, as for `decryptMediaContent`; every engine releases the
 * same bytes for the same chunks and fails with the same errors.
 */
export declare class MediaDecryptor extends TransformStream<Bytes, Uint8Array> {
  constructor(encryptionMetadata: EncryptionMetadata, options?: { engine?: MediaEngine });
  /** Feeds the next chunk of the CDN file; returns the (unverified) plaintext it releases. */
  update(chunk: Bytes): Uint8Array;
  /** Runs every check and returns the last plaintext bytes; throws FlowCryptoError. */
  finish(): Uint8Array;
  /** Bytes of the CDN file fed so far. */
  readonly bytesProcessed: number;
}

/**
 * Verifies a CDN file (its hash and MAC) chunk by chunk without decrypting it; also a
 * WritableStream (`response.body.pipeTo(new MediaVerifier(metadata))`), which errors if a
 * check fails.
 */
export declare class MediaVerifier extends WritableStream<Bytes> {
  constructor(encryptionMetadata: EncryptionMetadata);
  /** Feeds the next chunk of the CDN file. */
  update(chunk: Bytes): void;
  /** Runs the checks (lengths, file hash, MAC); throws FlowCryptoError if the file is not authentic. */
  finish(): void;
}

/**
 * Whether `header` (X-Hub-Signature-256) authenticates the raw body bytes with the app secret.
 * Throws FlowCryptoError `invalid_configuration` (500) for an empty app secret.
 */
export declare function verifySignature(
  rawBody: string | Bytes,
  header: string | null | undefined,
  appSecret: AppSecret,
): boolean;

/** The X-Hub-Signature-256 header value (`sha256=` and lowercase hex) for the raw body, for clients and tests. */
export declare function sign(rawBody: string | Bytes, appSecret: string | Bytes): string;

/** One app secret, or several (newest first) while rotating it. */
export type AppSecret = string | Bytes | readonly (string | Bytes)[];

/** A time: a Date or milliseconds since the epoch. */
export type Time = Date | number;

/**
 * Data API 4.0: checks the decrypted request's `flow_token_signature`. `"verified"`, or
 * `"absent"` when it has none; throws `invalid_flow_token_signature` (427), `malformed` (421),
 * `invalid_configuration` (500).
 */
export declare function verifyFlowTokenSignature(
  request: string | Bytes | object | DecryptedRequest | FlowRequest | OpenedRequest,
  appSecret: AppSecret,
  options?: { now?: Time },
): 'verified' | 'absent';

/** A `flow_token_signature` as WhatsApp makes it, for clients and tests. */
export declare function signFlowToken(flowToken: string, appSecret: string | Bytes, options?: { exp?: Time }): string;

/** A request that passed every check of FlowEndpoint.open. */
export declare class OpenedRequest {
  private constructor();
  readonly flow: FlowRequest;
  readonly plaintext: string;
  readonly keyIndex: number;
  readonly flowTokenSignature: 'verified' | 'absent' | null;
  readonly automaticResponse: string | null;
  /** Encrypts the answer; the base64 body to send with status 200, text/plain. */
  respond(answer: FlowResponse): string;
  /** `{ status: 427, body }` for a flow token the application refuses. */
  flowTokenError(message: string): { status: number; body: string };
}

/** Every step of a Flows endpoint in one call, in the core's order (432, 421, 427). */
export declare class FlowEndpoint {
  constructor(options: {
    key: FlowPrivateKey | FlowKeyRing;
    appSecret?: AppSecret | null;
    flowTokenSignature?: 'if_present' | 'required' | 'off';
  });
  open(rawBody: string | Bytes, header?: string | null, options?: { now?: Time }): Promise<OpenedRequest>;
}
