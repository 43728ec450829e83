<?php

declare(strict_types=1);

namespace WaFlowsCrypto;

use FFI\CData;

/**
 * Decrypts a CDN file fed in chunks. The plaintext update() returns is NOT VERIFIED until
 * finish() returns: do not parse, serve or act on it before, and discard all of it if finish()
 * throws. decryptMediaStream() is the safe wrapper.
 */
final class MediaDecryptor
{
    private CData $ptr;

    /** @param array<mixed>|string $encryptionMetadata the object as it arrives in the request, or its JSON */
    public function __construct(array|string $encryptionMetadata)
    {
        $ffi = Native::ffi();
        $metadata = mediaMetadata($encryptionMetadata);
        try {
            $this->ptr = Native::handle('wfc_media_decryptor', fn (CData $out) => $ffi->wfc_media_decryptor_new($metadata, $out));
        } finally {
            $ffi->wfc_media_metadata_free($metadata);
        }
    }

    /** Feeds the next chunk; returns the (unverified) plaintext it releases. */
    public function update(string $chunk): string
    {
        $ffi = Native::ffi();
        [$c, $cn] = Native::input($chunk);
        return Native::copyOut(
            fn ($o, $oc, $n) => $ffi->wfc_media_decryptor_update($this->ptr, $c, $cn, $o, $oc, $n),
            (int) $ffi->wfc_media_decryptor_max_update_len($cn),
        );
    }

    /** Runs every check and returns the last plaintext bytes; the decryptor is finished after. */
    public function finish(): string
    {
        $ffi = Native::ffi();
        return Native::copyOut(fn ($o, $oc, $n) => $ffi->wfc_media_decryptor_finish($this->ptr, $o, $oc, $n), 15);
    }

    /** How many bytes of the CDN file were fed so far (the total once finished). */
    public function bytesProcessed(): int
    {
        return (int) Native::ffi()->wfc_media_decryptor_bytes_processed($this->ptr);
    }

    public function __destruct()
    {
        Native::ffi()->wfc_media_decryptor_free($this->ptr);
    }

    public function __clone()
    {
        throw new \LogicException('a MediaDecryptor cannot be cloned');
    }
}
