<?php

declare(strict_types=1);

namespace WaFlowsCrypto;

use FFI\CData;

/**
 * The business's private keys, newest first, for key rotation: decryption tries them in
 * order and DecryptedRequest::keyIndex() says which one opened a request. The ring holds its
 * own copies of the keys.
 */
final class FlowKeyRing implements \Countable
{
    private CData $ptr;

    /** @param list<FlowPrivateKey> $keys newest first; none is invalid_configuration */
    public function __construct(array $keys)
    {
        $ffi = Native::ffi();
        $n = count($keys);
        $arr = $n === 0 ? null : $ffi->new("wfc_private_key *[$n]");
        foreach (array_values($keys) as $i => $key) {
            if (!$key instanceof FlowPrivateKey) {
                throw new \TypeError('a FlowKeyRing holds FlowPrivateKey objects, not ' . get_debug_type($key));
            }
            $arr[$i] = $key->ptr();
        }
        $this->ptr = Native::handle('wfc_key_ring', fn (CData $out) => $ffi->wfc_key_ring_new($arr, $n, $out));
    }

    /** @internal */
    public function ptr(): CData
    {
        return $this->ptr;
    }

    public function count(): int
    {
        return (int) Native::ffi()->wfc_key_ring_len($this->ptr);
    }

    public function __destruct()
    {
        Native::ffi()->wfc_key_ring_free($this->ptr);
    }

    public function __clone()
    {
        throw new \LogicException('a FlowKeyRing cannot be cloned; share the object');
    }
}
