<?php

declare(strict_types=1);

// The endpoint's configuration from the environment, as the specification
// (crates/wa-flows-crypto-endpoint-example/README.md) names it. serve.php checks it once before
// the server starts; index.php reads it again on each request (PHP keeps no state between
// requests).

use WaFlowsCrypto\FlowCryptoException;
use WaFlowsCrypto\FlowEndpoint;
use WaFlowsCrypto\FlowKeyRing;
use WaFlowsCrypto\FlowPrivateKey;

$autoload = __DIR__ . '/../vendor/autoload.php';
require is_file($autoload) ? $autoload : __DIR__ . '/../autoload.php';

final class StartupError extends Exception
{
}

final class Settings
{
    /** @param list<string> $secrets newest first */
    public function __construct(
        public readonly FlowEndpoint $endpoint,
        public readonly FlowPrivateKey $key,
        public readonly ?FlowPrivateKey $previous,
        public readonly array $secrets,
        public readonly string $policy,
        public readonly string $host,
        public readonly int $port,
        public readonly bool $allowHttp,
    ) {
    }
}

function logLine(string $message): void
{
    file_put_contents('php://stderr', "flow endpoint: $message\n");
}

/** A variable's value; unset and empty are the same. */
function envValue(string $name): ?string
{
    $value = getenv($name);
    return $value === false || $value === '' ? null : $value;
}

function readKey(string $prefix = ''): ?FlowPrivateKey
{
    [$keyVar, $fileVar, $passVar] = ["{$prefix}PRIVATE_KEY", "{$prefix}PRIVATE_KEY_FILE", "{$prefix}PASSPHRASE"];
    $pem = envValue($keyVar);
    $path = envValue($fileVar);
    $passphrase = envValue($passVar);
    if ($pem !== null && $path !== null) {
        throw new StartupError("set $keyVar or $fileVar, not both");
    }
    if ($pem === null && $path === null) {
        if ($prefix !== '') {
            if ($passphrase !== null) {
                throw new StartupError("$passVar is set without $keyVar or $fileVar");
            }
            return null;
        }
        throw new StartupError('no private key: set PRIVATE_KEY to the key\'s PEM text, or PRIVATE_KEY_FILE to the path of '
            . 'the key file (make one with `wa-flows-crypto keygen --out keys/`, then upload keys/public.pem)');
    }
    $source = $keyVar;
    $data = $pem;
    if ($path !== null) {
        $source = "$fileVar='$path'";
        $data = is_file($path) && is_readable($path) ? file_get_contents($path) : false;
        if ($data === false) {
            throw new StartupError("$source cannot be read: " . (file_exists($path) ? 'permission denied or not a file' : 'No such file or directory'));
        }
    }
    // fromPem also takes DER and repairs what environment variables do to PEM; its messages
    // never contain key material.
    try {
        return FlowPrivateKey::fromPem($data, $passphrase);
    } catch (FlowCryptoException $e) {
        throw new StartupError("$source: {$e->getMessage()} ({$e->errorCode()})");
    }
}

/** An app secret; set but empty would silently turn the signature check off. */
function appSecret(string $name): ?string
{
    $value = getenv($name);
    if ($value === '') {
        throw new StartupError("$name is set but empty; unset it to run without signature checks");
    }
    return $value === false ? null : $value;
}

function loadSettings(bool $warn = false): Settings
{
    $key = readKey();
    $previous = readKey('PREVIOUS_');
    $secret = appSecret('APP_SECRET');
    $previousSecret = appSecret('PREVIOUS_APP_SECRET');
    if ($previousSecret !== null && $secret === null) {
        throw new StartupError('PREVIOUS_APP_SECRET is set without APP_SECRET');
    }
    $secrets = array_values(array_filter([$secret, $previousSecret], fn ($s) => $s !== null));
    if ($secret === null && $warn) {
        logLine('warning: APP_SECRET is not set, so requests are not authenticated: anyone with your public key can call this endpoint');
    }
    $policy = trim(envValue('FLOW_TOKEN_SIGNATURE') ?? 'if_present');
    if (!in_array($policy, ['if_present', 'required', 'off'], true)) {
        throw new StartupError("FLOW_TOKEN_SIGNATURE='$policy' is not one of if_present, required, off");
    }
    try {
        $ring = new FlowKeyRing($previous === null ? [$key] : [$key, $previous]);
        $endpoint = new FlowEndpoint($ring, $secrets === [] ? null : $secrets, $policy);
    } catch (FlowCryptoException $e) { // e.g. FLOW_TOKEN_SIGNATURE=required without APP_SECRET
        throw new StartupError("{$e->getMessage()} ({$e->errorCode()})");
    }
    $port = 3000;
    $portText = envValue('PORT');
    if ($portText !== null) {
        $digits = trim($portText);
        if (!ctype_digit($digits) || (int) $digits > 65535) {
            throw new StartupError("PORT='$portText' is not a port number (0 to 65535)");
        }
        $port = (int) $digits;
    }
    $host = trim(envValue('HOST') ?? '0.0.0.0');
    if (filter_var($host, FILTER_VALIDATE_IP) === false) {
        throw new StartupError("HOST='$host' is not an IP address (e.g. 0.0.0.0 or ::1)");
    }
    $allow = trim(envValue('MEDIA_ALLOW_HTTP') ?? '0');
    if (!in_array($allow, ['0', '1', 'false', 'true'], true)) {
        throw new StartupError("MEDIA_ALLOW_HTTP='$allow' is not 0 or 1");
    }
    return new Settings($endpoint, $key, $previous, $secrets, $policy, $host, $port, in_array($allow, ['1', 'true'], true));
}
