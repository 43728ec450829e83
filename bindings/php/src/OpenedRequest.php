<?php

declare(strict_types=1);

namespace WaFlowsCrypto;

use FFI\CData;

/** A request that passed every check of FlowEndpoint::open(). */
final class OpenedRequest
{
    private ?string $plaintext = null;
    private ?FlowRequest $flow = null;

    /** @internal use FlowEndpoint::open() */
    public function __construct(private CData $ptr)
    {
    }

    public function plaintext(): string
    {
        $ffi = Native::ffi();
        return $this->plaintext ??= Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_opened_request_plaintext($this->ptr, $o, $c, $n), 1024);
    }

    public function flow(): FlowRequest
    {
        $ffi = Native::ffi();
        return $this->flow ??= new FlowRequest(
            Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_opened_request_flow($this->ptr, $o, $c, $n), 1024),
            $this->plaintext(),
        );
    }

    public function keyIndex(): int
    {
        return (int) Native::ffi()->wfc_opened_request_key_index($this->ptr);
    }

    /** "verified", "absent", or null when it was not checked (policy "off", or no app secret). */
    public function flowTokenSignature(): ?string
    {
        return flowTokenOutcome((int) Native::ffi()->wfc_opened_request_flow_token_signature($this->ptr));
    }

    /** The answer the protocol fixes for a ping or an error notification; null when the flow answers. */
    public function automaticResponse(): ?string
    {
        $ffi = Native::ffi();
        $text = Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_opened_request_automatic_response($this->ptr, $o, $c, $n), 64);
        return $text === '' ? null : $text;
    }

    /** Encrypts the answer: the base64 body to send with status 200, text/plain. */
    public function respond(array|string $answer): string
    {
        $ffi = Native::ffi();
        [$a, $an] = Native::input(Native::json($answer));
        try {
            return Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_opened_request_respond($this->ptr, $a, $an, $o, $c, $n), (int) $ffi->wfc_encrypt_response_len($an));
        } finally {
            Native::wipe($a, $an);
        }
    }

    /**
     * For a flow token the application finds expired or invalid: [427, body], the body being
     * the encrypted {"error_msg": message} WhatsApp shows the user.
     *
     * @return array{0: int, 1: string}
     */
    public function flowTokenError(string $message): array
    {
        $ffi = Native::ffi();
        [$m, $mn] = Native::input($message);
        $body = Native::copyOut(fn ($o, $c, $n) => $ffi->wfc_opened_request_flow_token_error($this->ptr, $m, $mn, $o, $c, $n), (int) $ffi->wfc_encrypt_response_len($mn + 16));
        return [FlowEndpoint::FLOW_TOKEN_ERROR_STATUS, $body];
    }

    public function __destruct()
    {
        Native::ffi()->wfc_opened_request_free($this->ptr);
    }

    public function __clone()
    {
        throw new \LogicException('an OpenedRequest cannot be cloned');
    }
}
