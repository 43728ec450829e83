<?php

declare(strict_types=1);

namespace WaFlowsCrypto;

use FFI\CData;

/** A decrypted request: its plaintext and the key to answer it with (zeroized on destruction). */
final class DecryptedRequest
{
    private ?string $plaintext = null;
    private ?FlowRequest $flow = null;

    /** @internal use decryptRequest() */
    public function __construct(private CData $ptr)
    {
    }

    /** The decrypted JSON text, exactly as WhatsApp sent it. */
    public function plaintext(): string
    {
        $ffi = Native::ffi();
        return $this->plaintext ??= Native::copyOut(
            fn ($o, $c, $n) => $ffi->wfc_decrypted_request_plaintext($this->ptr, $o, $c, $n),
            (int) $ffi->wfc_decrypted_request_plaintext_len($this->ptr),
        );
    }

    /** @return array<mixed> the plaintext decoded, JSON objects as arrays */
    public function json(): array
    {
        return json_decode($this->plaintext(), true, 512, JSON_THROW_ON_ERROR);
    }

    /** The request as a Flows endpoint sees it; malformed (421) if it is not a flow request. */
    public function flow(): FlowRequest
    {
        $ffi = Native::ffi();
        return $this->flow ??= new FlowRequest(
            Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_decrypted_request_flow($this->ptr, $o, $c, $n), 1024),
            $this->plaintext(),
        );
    }

    /** Which key of the ring opened the request (0, the newest, for a single key). */
    public function keyIndex(): int
    {
        return (int) Native::ffi()->wfc_decrypted_request_key_index($this->ptr);
    }

    /** The request's 16-byte AES key: a secret. */
    public function aesKey(): string
    {
        $ffi = Native::ffi();
        return Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_decrypted_request_aes_key($this->ptr, $o, $c, $n), 16);
    }

    /** The request's 16-byte initial_vector, as it arrived. */
    public function iv(): string
    {
        $ffi = Native::ffi();
        return Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_decrypted_request_iv($this->ptr, $o, $c, $n), 16);
    }

    /**
     * Encrypts the answer (an array is encoded as JSON, a string sent as it is) and returns the
     * base64 body to send with status 200 and Content-Type text/plain.
     */
    public function encryptResponse(array|string $answer): string
    {
        $ffi = Native::ffi();
        [$a, $an] = Native::input(Native::json($answer));
        try {
            return Native::copyOut(
                fn ($o, $c, $n) => $ffi->wfc_decrypted_request_encrypt_response($this->ptr, $a, $an, $o, $c, $n),
                (int) $ffi->wfc_encrypt_response_len($an),
            );
        } finally {
            Native::wipe($a, $an);
        }
    }

    public function __destruct()
    {
        Native::ffi()->wfc_decrypted_request_free($this->ptr);
    }

    public function __clone()
    {
        throw new \LogicException('a DecryptedRequest cannot be cloned');
    }

    /** @return array<string, mixed> no key material in var_dump() */
    public function __debugInfo(): array
    {
        return ['keyIndex' => $this->keyIndex()];
    }
}
