<?php

declare(strict_types=1);

namespace WaFlowsCrypto;

/**
 * Every failure of the library. errorCode() is the stable code shared by every runtime
 * ("malformed", "key_unwrap", "invalid_signature", ...); httpStatus() the status a Flows
 * endpoint should answer with (null for media errors, which are not request-level). The message
 * says what went wrong and what to do, and never contains key material or input data.
 * (getCode() is PHP's integer code and stays 0: the code is a string.)
 */
final class FlowCryptoException extends \RuntimeException
{
    public function __construct(string $message, private readonly string $errorCode, private readonly ?int $httpStatus)
    {
        parent::__construct($message);
    }

    public function errorCode(): string
    {
        return $this->errorCode;
    }

    public function httpStatus(): ?int
    {
        return $this->httpStatus;
    }
}
