<?php

declare(strict_types=1);

namespace WaFlowsCrypto;

use FFI\CData;

/**
 * A request body parsed and length-checked but not decrypted: for hosts that unwrap the AES key
 * themselves (an HSM, a KMS) and then call decryptPayload().
 */
final class EncryptedRequest
{
    /** @internal use parseRequest() */
    public function __construct(private CData $ptr)
    {
    }

    /** @internal */
    public function ptr(): CData
    {
        return $this->ptr;
    }

    /** The RSA-OAEP-wrapped AES key, decoded from base64. */
    public function encryptedAesKey(): string
    {
        $ffi = Native::ffi();
        return Native::copyOut(
            fn ($o, $c, $n) => $ffi->wfc_encrypted_request_encrypted_aes_key($this->ptr, $o, $c, $n),
            (int) $ffi->wfc_encrypted_request_encrypted_aes_key_len($this->ptr),
        );
    }

    public function __destruct()
    {
        Native::ffi()->wfc_encrypted_request_free($this->ptr);
    }

    public function __clone()
    {
        throw new \LogicException('an EncryptedRequest cannot be cloned');
    }
}
