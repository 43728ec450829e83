<?php

declare(strict_types=1);

namespace WaFlowsCrypto;

use FFI;
use FFI\CData;

/**
 * The business private key (RSA, 2048 to 8192 bits). Load it once and reuse it; its key
 * material is zeroized when the object is destroyed.
 */
final class FlowPrivateKey
{
    private function __construct(private CData $ptr)
    {
    }

    /** @internal */
    public function ptr(): CData
    {
        return $this->ptr;
    }

    /**
     * PEM text (PKCS#1, PKCS#8, encrypted PKCS#8, legacy Proc-Type: 4,ENCRYPTED) or DER; repairs
     * what environment variables do to PEM (literal \n, CRLF, quotes). Throws
     * FlowCryptoException invalid_key (500).
     */
    public static function fromPem(string $pem, ?string $passphrase = null): self
    {
        return self::load('wfc_private_key_from_pem', $pem, $passphrase);
    }

    /** DER: PKCS#8, encrypted PKCS#8 or PKCS#1. */
    public static function fromDer(string $der, ?string $passphrase = null): self
    {
        return self::load('wfc_private_key_from_der', $der, $passphrase);
    }

    private static function load(string $function, string $data, ?string $passphrase): self
    {
        $ffi = Native::ffi();
        [$d, $dn] = Native::input($data);
        [$p, $pn] = Native::input($passphrase);
        try {
            return new self(Native::handle('wfc_private_key', fn (CData $out) => $ffi->$function($d, $dn, $p, $pn, $out)));
        } finally {
            Native::wipe($d, $dn);
            Native::wipe($p, $pn);
        }
    }

    /** A new key of 2048, 3072 or 4096 bits. */
    public static function generate(int $bits = 2048): self
    {
        $ffi = Native::ffi();
        return new self(Native::handle('wfc_private_key', fn (CData $out) => $ffi->wfc_private_key_generate(max($bits, 1), $out)));
    }

    public function bits(): int
    {
        return (int) Native::ffi()->wfc_private_key_bits($this->ptr);
    }

    /** The public key as SPKI PEM: what Meta wants uploaded. */
    public function publicKeyPem(): string
    {
        $ffi = Native::ffi();
        return Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_private_key_public_pem($this->ptr, $o, $c, $n), (int) $ffi->wfc_private_key_public_pem_len($this->ptr));
    }

    public function publicKeyDer(): string
    {
        $ffi = Native::ffi();
        return Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_private_key_public_der($this->ptr, $o, $c, $n), (int) $ffi->wfc_private_key_public_der_len($this->ptr));
    }

    /** SHA-256 of the SPKI DER, 64 lowercase hex digits. */
    public function publicKeyFingerprint(): string
    {
        $ffi = Native::ffi();
        return Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_private_key_public_fingerprint($this->ptr, $o, $c, $n), 64);
    }

    /** PKCS#8 PEM, encrypted (PBES2) with a non-empty passphrase. A secret. */
    public function privateKeyPem(?string $passphrase = null): string
    {
        $ffi = Native::ffi();
        [$p, $pn] = Native::input($passphrase);
        try {
            return Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_private_key_private_pem($this->ptr, $p, $pn, $o, $c, $n), (int) $ffi->wfc_private_key_private_pem_max_len($this->ptr));
        } finally {
            Native::wipe($p, $pn);
        }
    }

    /** Unencrypted PKCS#8 DER. A secret. */
    public function privateKeyDer(): string
    {
        $ffi = Native::ffi();
        return Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_private_key_private_der($this->ptr, $o, $c, $n), (int) $ffi->wfc_private_key_private_der_len($this->ptr));
    }

    public function __destruct()
    {
        Native::ffi()->wfc_private_key_free($this->ptr);
    }

    public function __clone()
    {
        throw new \LogicException('a FlowPrivateKey cannot be cloned; share the object');
    }

    public function __serialize(): array
    {
        throw new \LogicException('a FlowPrivateKey cannot be serialized; use privateKeyPem()');
    }

    /** @return array<string, mixed> no key material in var_dump() */
    public function __debugInfo(): array
    {
        return ['bits' => $this->bits()];
    }
}
