<?php

declare(strict_types=1);

namespace WaFlowsCrypto;

use FFI;
use FFI\CData;

/**
 * Decrypts a Flows POST body (the JSON with encrypted_flow_data, encrypted_aes_key,
 * initial_vector) with a key or a key ring. Throws FlowCryptoException, HTTP 421: malformed,
 * key_unwrap, payload_auth.
 */
function decryptRequest(string $body, FlowPrivateKey|FlowKeyRing $key): DecryptedRequest
{
    $ffi = Native::ffi();
    [$b, $bn] = Native::input($body);
    $ptr = $key instanceof FlowKeyRing
        ? Native::handle('wfc_decrypted_request', fn (CData $out) => $ffi->wfc_key_ring_decrypt_request($b, $bn, $key->ptr(), $out))
        : Native::handle('wfc_decrypted_request', fn (CData $out) => $ffi->wfc_decrypt_request($b, $bn, $key->ptr(), $out));
    return new DecryptedRequest($ptr);
}

/** Parses a POST body without decrypting it (step zero of the separate steps). Throws malformed (421). */
function parseRequest(string $body): EncryptedRequest
{
    $ffi = Native::ffi();
    [$b, $bn] = Native::input($body);
    return new EncryptedRequest(Native::handle('wfc_encrypted_request', fn (CData $out) => $ffi->wfc_encrypted_request_from_json($b, $bn, $out)));
}

/**
 * Step one on its own: RSA-OAEP-SHA256 unwraps the 16-byte AES key (a secret). Throws
 * key_unwrap, or malformed when the key inside is not 16 bytes.
 */
function unwrapAesKey(string|EncryptedRequest $encryptedAesKey, FlowPrivateKey $key): string
{
    $ffi = Native::ffi();
    $wrapped = $encryptedAesKey instanceof EncryptedRequest ? $encryptedAesKey->encryptedAesKey() : $encryptedAesKey;
    [$w, $wn] = Native::input($wrapped);
    return Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_unwrap_aes_key($w, $wn, $key->ptr(), $o, $c, $n), 16);
}

/** Step two on its own: opens the payload with an AES key from unwrapAesKey() or the host. */
function decryptPayload(EncryptedRequest $request, string $aesKey): DecryptedRequest
{
    $ffi = Native::ffi();
    [$k, $kn] = Native::input($aesKey);
    try {
        return new DecryptedRequest(Native::handle('wfc_decrypted_request', fn (CData $out) => $ffi->wfc_decrypt_payload($request->ptr(), $k, $kn, $out)));
    } finally {
        Native::wipe($k, $kn);
    }
}

/**
 * Encrypts a response with a request's raw 16-byte AES key and IV (for hosts that keep them
 * between decrypting and answering). Throws malformed unless both are 16 bytes.
 */
function encryptResponse(array|string $answer, string $aesKey, string $iv): string
{
    $ffi = Native::ffi();
    [$k, $kn] = Native::input($aesKey);
    [$v, $vn] = Native::input($iv);
    try {
        $key = Native::handle('wfc_response_key', fn (CData $out) => $ffi->wfc_response_key_new($k, $kn, $v, $vn, $out));
    } finally {
        Native::wipe($k, $kn);
    }
    [$a, $an] = Native::input(Native::json($answer));
    try {
        return Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_encrypt_response($a, $an, $key, $o, $c, $n), (int) $ffi->wfc_encrypt_response_len($an));
    } finally {
        Native::wipe($a, $an);
        $ffi->wfc_response_key_free($key);
    }
}

/**
 * @internal the metadata parsed by the core; the caller frees it
 * @param array<mixed>|string $encryptionMetadata
 */
function mediaMetadata(array|string $encryptionMetadata): CData
{
    $ffi = Native::ffi();
    [$m, $mn] = Native::input(Native::json($encryptionMetadata));
    try {
        return Native::handle('wfc_media_metadata', fn (CData $out) => $ffi->wfc_media_metadata_from_json($m, $mn, $out));
    } finally {
        Native::wipe($m, $mn);
    }
}

/**
 * Decrypts an uploaded file (the CDN file) with its encryption_metadata (the object as it
 * arrives in the request, or its JSON) and returns the plaintext only if every check passed.
 * Throws malformed, encrypted_hash_mismatch, hmac_mismatch, padding, plaintext_hash_mismatch;
 * none is request-level (httpStatus() null but for malformed): answer with an error screen.
 *
 * @param array<mixed>|string $encryptionMetadata
 */
function decryptMediaContent(string $cdnFile, array|string $encryptionMetadata): string
{
    $ffi = Native::ffi();
    $metadata = mediaMetadata($encryptionMetadata);
    [$f, $fn] = Native::input($cdnFile);
    try {
        return Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_decrypt_media_content($metadata, $f, $fn, $o, $c, $n), (int) $ffi->wfc_decrypt_media_content_max_len($fn));
    } finally {
        $ffi->wfc_media_metadata_free($metadata);
    }
}

/**
 * Decrypts a CDN file in chunks and yields plaintext that has been verified, never before.
 * From a seekable stream resource (a file) it streams in constant memory: a first pass decrypts
 * the whole file and discards the plaintext, to verify it; a second pass yields it, and is
 * checked again at the end (a file changed in between ends in the exception). From anything
 * else (an iterable of chunks, a pipe, a socket) it holds the plaintext back until the end has
 * been verified. Throws FlowCryptoException as decryptMediaContent().
 *
 * @param resource|iterable<string> $source
 * @param array<mixed>|string $encryptionMetadata
 * @return \Generator<int, string>
 */
function decryptMediaStream(mixed $source, array|string $encryptionMetadata, int $chunkSize = 65536): \Generator
{
    $decryptor = new MediaDecryptor($encryptionMetadata); // a malformed metadata fails here
    $seekable = is_resource($source) && (stream_get_meta_data($source)['seekable'] ?? false);
    $chunks = static function () use ($source, $chunkSize): \Generator {
        if (is_resource($source)) {
            while (!feof($source)) {
                $chunk = fread($source, $chunkSize);
                if ($chunk === false) {
                    throw new \RuntimeException('decryptMediaStream: the source cannot be read');
                }
                yield $chunk;
            }
        } else {
            foreach ($source as $chunk) {
                yield $chunk;
            }
        }
    };
    if ($seekable) {
        $start = ftell($source);
        $verifier = new MediaDecryptor($encryptionMetadata);
        foreach ($chunks() as $chunk) {
            $verifier->update($chunk);
        }
        $verifier->finish();
        fseek($source, (int) $start);
        foreach ($chunks() as $chunk) {
            $plain = $decryptor->update($chunk);
            if ($plain !== '') {
                yield $plain;
            }
        }
        $last = $decryptor->finish();
        if ($last !== '') {
            yield $last;
        }
        return;
    }
    $held = [];
    foreach ($chunks() as $chunk) {
        $held[] = $decryptor->update($chunk);
    }
    $held[] = $decryptor->finish();
    foreach ($held as $plain) {
        if ($plain !== '') {
            yield $plain;
        }
    }
}

/**
 * @internal
 * @return list<string>
 */
function secretList(string|array $appSecret): array
{
    return is_string($appSecret) ? [$appSecret] : array_values($appSecret);
}

/**
 * Checks an X-Hub-Signature-256 value against the raw body with the app secret or any of a
 * list (newest first), in constant time. False for a missing, malformed or wrong header;
 * throws invalid_configuration (500) for no secrets or an empty one.
 *
 * @param string|list<string> $appSecret
 */
function verifySignature(string $body, ?string $header, string|array $appSecret): bool
{
    $ffi = Native::ffi();
    [$arr, $count, $bufs] = Native::secrets(secretList($appSecret));
    [$b, $bn] = Native::input($body);
    [$h, $hn] = Native::input($header);
    try {
        $status = $ffi->wfc_verify_signature_any($b, $bn, $h, $hn, $arr, $count, null);
    } finally {
        Native::wipeAll($bufs);
    }
    if ($status === Native::constant('WFC_STATUS_INVALID_SIGNATURE')) {
        return false;
    }
    Native::check($status);
    return true;
}

/** The X-Hub-Signature-256 value for a body, as WhatsApp sends it: for tests and clients. */
function sign(string $body, string $appSecret): string
{
    $ffi = Native::ffi();
    [$b, $bn] = Native::input($body);
    [$k, $kn] = Native::input($appSecret);
    try {
        return Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_sign($b, $bn, $k, $kn, $o, $c, $n), 71);
    } finally {
        Native::wipe($k, $kn);
    }
}

/** @internal */
function flowTokenOutcome(int $value): ?string
{
    return match ($value) {
        1 => 'verified',
        2 => 'absent',
        default => null,
    };
}

/**
 * Data API 4.0: checks the flow_token_signature of a decrypted request (its text, a
 * DecryptedRequest or a FlowRequest) with the app secret(s), at $now (Unix seconds, default
 * now). Returns "verified" or "absent"; throws invalid_flow_token_signature (427), malformed
 * (not a flow request), invalid_configuration.
 *
 * @param string|list<string> $appSecret
 */
function verifyFlowTokenSignature(string|DecryptedRequest|FlowRequest $request, string|array $appSecret, int|float|null $now = null): string
{
    $ffi = Native::ffi();
    $text = match (true) {
        $request instanceof DecryptedRequest => $request->plaintext(),
        $request instanceof FlowRequest => $request->plaintext,
        default => $request,
    };
    [$arr, $count, $bufs] = Native::secrets(secretList($appSecret));
    [$r, $rn] = Native::input($text);
    $outcome = $ffi->new('wfc_flow_token_signature');
    try {
        Native::check($ffi->wfc_verify_flow_token_signature($r, $rn, $arr, $count, Native::now($now), FFI::addr($outcome)));
    } finally {
        Native::wipeAll($bufs);
    }
    return (string) flowTokenOutcome((int) $outcome->cdata);
}

/** A flow_token_signature as Flows makes it (HS256 JWT over {"flow_token": ...}), for tests and clients. */
function signFlowToken(string $flowToken, string $appSecret, ?int $exp = null): string
{
    $ffi = Native::ffi();
    [$t, $tn] = Native::input($flowToken);
    [$k, $kn] = Native::input($appSecret);
    try {
        return Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_sign_flow_token($t, $tn, $k, $kn, $exp === null ? 0 : 1, $exp ?? 0, $o, $c, $n), 256);
    } finally {
        Native::wipe($k, $kn);
    }
}

/** The version of the loaded C library. */
function version(): string
{
    return (string) Native::ffi()->wfc_version();
}
