<?php

declare(strict_types=1);

namespace WaFlowsCrypto;

/** An error WhatsApp reports about the endpoint's previous answer, as the core reads it. */
final class ErrorNotification
{
    public function __construct(
        public readonly ?string $error,
        public readonly ?string $errorMessage,
        public readonly ?string $errorKey,
    ) {
    }
}
