<?php

declare(strict_types=1);

namespace WaFlowsCrypto;

use FFI\CData;

/**
 * Everything a Flows endpoint does with one POST, in one call, in the protocol's order: the
 * X-Hub-Signature-256 header (432), decryption with the key or key ring (421), the flow request
 * (421), and data API 4.0's flow token signature (427). Make it once; it holds its own copies
 * of the keys and secrets.
 */
final class FlowEndpoint
{
    public const FLOW_TOKEN_ERROR_STATUS = 427;
    private const POLICIES = ['if_present' => 0, 'required' => 1, 'off' => 2];

    private CData $ptr;

    /**
     * @param string|list<string>|null $appSecret null: signatures are not checked; a list: newest first
     * @param string $flowTokenSignature "if_present", "required" or "off"
     */
    public function __construct(FlowPrivateKey|FlowKeyRing $key, string|array|null $appSecret = null, string $flowTokenSignature = 'if_present')
    {
        $ffi = Native::ffi();
        $ring = $key instanceof FlowKeyRing ? $key : new FlowKeyRing([$key]);
        if ($appSecret === []) {
            // (NULL, 0) means "no signature check" in C; an empty list is not null.
            throw Native::error(
                Native::constant('WFC_STATUS_INVALID_CONFIGURATION'),
                'invalid configuration: appSecret is an empty list; give at least one app secret, or null to not check request signatures',
            );
        }
        [$arr, $count, $bufs] = Native::secrets($appSecret === null ? [] : (array) $appSecret);
        // An unknown name becomes a number the C ABI does not know: the core refuses it.
        $policy = self::POLICIES[$flowTokenSignature] ?? 0xFFFFFFFF;
        try {
            $this->ptr = Native::handle('wfc_flow_endpoint', fn (CData $out) => $ffi->wfc_flow_endpoint_new($ring->ptr(), $arr, $count, $policy, $out));
        } finally {
            Native::wipeAll($bufs);
        }
    }

    /**
     * Opens one POST: the raw body exactly as received, the X-Hub-Signature-256 value (null when
     * absent), the clock in Unix seconds (default now). Throws FlowCryptoException whose
     * httpStatus() is the answer.
     */
    public function open(string $body, ?string $header = null, int|float|null $now = null): OpenedRequest
    {
        $ffi = Native::ffi();
        [$b, $bn] = Native::input($body);
        [$h, $hn] = Native::input($header);
        $seconds = Native::now($now);
        return new OpenedRequest(Native::handle('wfc_opened_request', fn (CData $out) => $ffi->wfc_flow_endpoint_open($this->ptr, $b, $bn, $h, $hn, $seconds, $out)));
    }

    public function __destruct()
    {
        Native::ffi()->wfc_flow_endpoint_free($this->ptr);
    }

    public function __clone()
    {
        throw new \LogicException('a FlowEndpoint cannot be cloned; share the object');
    }
}
