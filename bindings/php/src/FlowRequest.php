<?php

declare(strict_types=1);

namespace WaFlowsCrypto;

/**
 * The typed view of a decrypted request, made by the core: action ("ping", "INIT",
 * "data_exchange", "BACK", or an unknown one as sent), screen, data, flowToken and version (null
 * when absent), isPing and errorNotification. plaintext is the text it was read from, which
 * verifyFlowTokenSignature() checks. data is decoded with JSON objects as PHP arrays.
 */
final class FlowRequest
{
    public readonly string $action;
    public readonly ?string $screen;
    public readonly mixed $data;
    public readonly ?string $flowToken;
    public readonly ?string $version;
    public readonly bool $isPing;
    public readonly ?ErrorNotification $errorNotification;

    /** @internal made from the core's JSON view by DecryptedRequest and OpenedRequest */
    public function __construct(string $view, public readonly string $plaintext)
    {
        $fields = json_decode($view, true, 512, JSON_THROW_ON_ERROR);
        $this->action = $fields['action'];
        $this->screen = $fields['screen'];
        $this->data = $fields['data'];
        $this->flowToken = $fields['flow_token'];
        $this->version = $fields['version'];
        $this->isPing = $fields['is_ping'];
        $n = $fields['error_notification'];
        $this->errorNotification = $n === null ? null : new ErrorNotification($n['error'], $n['error_message'], $n['error_key']);
    }
}
