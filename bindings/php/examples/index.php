<?php

declare(strict_types=1);

// A complete WhatsApp Flows endpoint in plain PHP, for the built-in server or any SAPI with FFI
// enabled: it checks and decrypts what WhatsApp sends, runs a two-screen flow with a
// PhotoPicker, downloads and decrypts the uploaded photos with the streaming MediaDecryptor, and
// encrypts its answers, as crates/wa-flows-crypto-endpoint-example/README.md specifies.
//
//   PRIVATE_KEY_FILE=keys/private.pem APP_SECRET=… PORT=3000 php bindings/php/examples/serve.php
//
// (serve.php checks the configuration, then runs `php -d ffi.enable=1 -S HOST:PORT index.php`.)
// Every check (signature, decryption with the current or the previous key, the flow request,
// the flow token signature) is the library's FlowEndpoint::open; this file maps its errors to
// HTTP answers and runs the flow.

use WaFlowsCrypto\FlowCryptoException;
use WaFlowsCrypto\FlowRequest;
use WaFlowsCrypto\MediaDecryptor;
use WaFlowsCrypto\OpenedRequest;

require __DIR__ . '/config.php';

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_PHOTOS = 30;
// WhatsApp limits uploads to 25 MiB; the CDN file adds at most one block of padding and the MAC.
const MAX_CDN_FILE_BYTES = 25 * 1024 * 1024 + 16 + 10;
const DOWNLOAD_TIMEOUT_SECONDS = 30;
const MAX_REDIRECTS = 3;
// The actions the library names; any other is logged as "other" (its text is the sender's).
const KNOWN_ACTIONS = ['ping', 'INIT', 'data_exchange', 'BACK'];

final class Refusal extends Exception
{
    public function __construct(public readonly int $status, public readonly string $errorCode)
    {
        parent::__construct($errorCode);
    }

    public static function fromLibrary(FlowCryptoException $e): self
    {
        // The library decides: 421 undecryptable, 432 bad signature, 427 flow token, 500 bad key.
        return new self($e->httpStatus() ?? 500, $e->errorCode());
    }
}

final class PhotoError extends Exception
{
}

function answer(int $status, string $body): void
{
    http_response_code($status);
    header('Content-Type: text/plain; charset=utf-8');
    echo $body;
}

function toJson(array $value): string
{
    return json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
}

function profile(string $message): array
{
    return ['screen' => 'PROFILE', 'data' => ['error_message' => $message]];
}

/** WhatsApp's error names and keys are short codes; log nothing else from the request. */
function safeCode(?string $text): string
{
    return substr((string) preg_replace('/[^A-Za-z0-9_]/', '', (string) $text), 0, 64);
}

function respond(OpenedRequest $opened, FlowRequest $flow, Settings $settings): string
{
    $notification = $flow->errorNotification;
    if ($notification !== null) {
        $reported = safeCode($notification->error) ?: safeCode($notification->errorKey);
        logLine("WhatsApp reports an error in our last answer: $reported");
    }
    // A ping or an error notification: the protocol fixes the answer, and the library knows it.
    $automatic = $opened->automaticResponse();
    if ($automatic !== null) {
        return $automatic;
    }
    $data = is_array($flow->data) ? $flow->data : [];
    $answer = match (true) {
        $flow->action === 'INIT', $flow->action === 'BACK' => profile(''),
        $flow->action === 'data_exchange' && $flow->screen === 'PROFILE' => submitProfile($data, $settings),
        $flow->action === 'data_exchange' && $flow->screen === 'SUMMARY' => [
            'screen' => 'SUCCESS',
            'data' => ['extension_message_response' => ['params' => ['flow_token' => $flow->flowToken ?? '']]],
        ],
        $flow->action === 'data_exchange' => profile('unknown screen'),
        default => profile('unsupported action'),
    };
    return toJson($answer);
}

function submitProfile(array $data, Settings $settings): array
{
    $name = is_string($data['name'] ?? null) ? $data['name'] : '';
    $photos = $data['photos'] ?? null;
    $photos ??= [];
    if (!is_array($photos) || !array_is_list($photos)) {
        return profile('photos is not a list');
    }
    if (count($photos) > MAX_PHOTOS) {
        return profile('too many photos: at most ' . MAX_PHOTOS);
    }
    $summaries = [];
    $total = 0;
    // One at a time: the built-in server runs one request at a time anyway. The first failing
    // entry in request order is the one reported.
    foreach ($photos as $i => $photo) {
        $fields = is_array($photo) ? $photo : [];
        $label = is_string($fields['file_name'] ?? null) ? $fields['file_name'] : '#' . ($i + 1);
        try {
            [$size, $sha256] = readPhoto($fields, $settings->allowHttp);
        } catch (PhotoError $e) {
            return profile("could not read photo $label: {$e->getMessage()}");
        }
        $summaries[] = ['file_name' => $label, 'size' => $size, 'sha256' => $sha256];
        $total += $size;
    }
    return ['screen' => 'SUMMARY', 'data' => [
        'name' => $name,
        'photo_count' => count($summaries),
        'total_bytes' => $total,
        'photos' => $summaries,
        'summary' => count($summaries) . " photos, $total bytes",
    ]];
}

function allowedUrl(string $url, bool $allowHttp): bool
{
    return str_starts_with($url, 'https://') || ($allowHttp && str_starts_with($url, 'http://'));
}

/** @return array{0: int, 1: string} the decrypted size and SHA-256 (hex) of one upload */
function readPhoto(array $photo, bool $allowHttp): array
{
    $url = $photo['cdn_url'] ?? null;
    $metadata = $photo['encryption_metadata'] ?? null;
    if (!is_string($url) || !is_array($metadata)) {
        throw new PhotoError('malformed');
    }
    try {
        $decryptor = new MediaDecryptor($metadata); // parses the five base64 fields
    } catch (FlowCryptoException $e) {
        throw new PhotoError($e->errorCode());
    }
    if (!allowedUrl($url, $allowHttp)) {
        throw new PhotoError('cdn_url_refused');
    }
    $stream = download($url, $allowHttp);
    $hash = hash_init('sha256');
    $size = 0;
    $received = 0;
    $deadline = time() + DOWNLOAD_TIMEOUT_SECONDS;
    while (!feof($stream)) {
        $chunk = fread($stream, 65536);
        if ($chunk === false || time() > $deadline || (stream_get_meta_data($stream)['timed_out'] ?? false)) {
            throw new PhotoError('download_failed');
        }
        $received += strlen($chunk);
        if ($received > MAX_CDN_FILE_BYTES) {
            throw new PhotoError('too_large');
        }
        // NOT VERIFIED yet: only hashed; the hash is thrown away unless finish() passes.
        $plain = $decryptor->update($chunk);
        hash_update($hash, $plain);
        $size += strlen($plain);
    }
    fclose($stream);
    try {
        $plain = $decryptor->finish();
    } catch (FlowCryptoException $e) {
        throw new PhotoError($e->errorCode());
    }
    hash_update($hash, $plain);
    return [$size + strlen($plain), hash_final($hash)];
}

/** @return resource the body of a 2xx answer, after at most MAX_REDIRECTS redirects to allowed URLs */
function download(string $url, bool $allowHttp)
{
    for ($hop = 0; $hop <= MAX_REDIRECTS; $hop++) {
        $context = stream_context_create(['http' => [
            'method' => 'GET',
            'follow_location' => 0,
            'ignore_errors' => true,
            'timeout' => DOWNLOAD_TIMEOUT_SECONDS,
        ]]);
        $stream = @fopen($url, 'rb', false, $context);
        if ($stream === false) {
            throw new PhotoError('download_failed');
        }
        $headers = stream_get_meta_data($stream)['wrapper_data'] ?? [];
        $status = 0;
        $location = null;
        $length = null;
        foreach ($headers as $line) {
            if (preg_match('~^HTTP/\S+\s+(\d{3})~', $line, $m)) {
                $status = (int) $m[1];
                $location = $length = null; // a new response after a 100 Continue
            } elseif (preg_match('~^location:\s*(.+)$~i', $line, $m)) {
                $location = trim($m[1]);
            } elseif (preg_match('~^content-length:\s*(\d+)~i', $line, $m)) {
                $length = (int) $m[1];
            }
        }
        if ($status >= 300 && $status < 400 && $location !== null) {
            fclose($stream);
            $url = resolveUrl($url, $location);
            if (!allowedUrl($url, $allowHttp)) {
                throw new PhotoError('download_failed');
            }
            continue;
        }
        if ($status < 200 || $status > 299) {
            fclose($stream);
            throw new PhotoError('download_failed');
        }
        if ($length !== null && $length > MAX_CDN_FILE_BYTES) {
            fclose($stream);
            throw new PhotoError('too_large');
        }
        return $stream;
    }
    throw new PhotoError('download_failed');
}

function resolveUrl(string $base, string $location): string
{
    if (preg_match('~^[a-z][a-z0-9+.-]*:~i', $location)) {
        return $location;
    }
    $parts = parse_url($base);
    $origin = $parts['scheme'] . '://' . $parts['host'] . (isset($parts['port']) ? ':' . $parts['port'] : '');
    return str_starts_with($location, '/') ? $origin . $location : $origin . '/' . $location;
}

function signatureHeader(): ?string
{
    $value = $_SERVER['HTTP_X_HUB_SIGNATURE_256'] ?? null;
    // Not visible ASCII: refused as malformed by the library, never a crash.
    return $value === null || preg_match('/^[\t\x20-\x7e]*$/', $value) ? $value : '?';
}

function isJson(?string $contentType): bool
{
    if ($contentType === null || !preg_match('/^[\t\x20-\x7e]*$/', $contentType)) {
        return false;
    }
    return strtolower(trim(explode(';', $contentType, 2)[0], " \t")) === 'application/json';
}

/** @return array{0: string, 1: string} the encrypted answer and the action to log */
function handle(Settings $settings): array
{
    if (!isJson($_SERVER['CONTENT_TYPE'] ?? $_SERVER['HTTP_CONTENT_TYPE'] ?? null)) {
        throw new Refusal(415, 'unsupported_media_type');
    }
    $length = $_SERVER['CONTENT_LENGTH'] ?? '';
    if (ctype_digit((string) $length) && (int) $length > MAX_BODY_BYTES) {
        throw new Refusal(413, 'body_too_large');
    }
    $body = file_get_contents('php://input', false, null, 0, MAX_BODY_BYTES + 1);
    if ($body === false) {
        throw new Refusal(400, 'unreadable_body');
    }
    if (strlen($body) > MAX_BODY_BYTES) {
        throw new Refusal(413, 'body_too_large');
    }
    // One call, in the protocol's order: the signature over the raw bytes (432), decryption with
    // the current or the previous key (421), the flow request (421), the flow token signature
    // (427).
    try {
        $opened = $settings->endpoint->open($body, signatureHeader(), microtime(true));
        $flow = $opened->flow();
    } catch (FlowCryptoException $e) {
        throw Refusal::fromLibrary($e);
    }
    $answer = respond($opened, $flow, $settings);
    $action = in_array($flow->action, KNOWN_ACTIONS, true) ? $flow->action : 'other';
    return [$opened->respond($answer), $action];
}

// --- the request ------------------------------------------------------------------------------

$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);
$method = $_SERVER['REQUEST_METHOD'] ?? 'GET';
if ($path !== '/') {
    answer(404, 'not_found');
    return;
}
if ($method === 'GET' || $method === 'HEAD') {
    answer(200, "WhatsApp Flows endpoint: POST encrypted flow requests here.\n");
    return;
}
if ($method !== 'POST') {
    answer(405, 'method_not_allowed');
    return;
}
$started = hrtime(true);
try {
    try {
        $settings = loadSettings();
    } catch (StartupError $e) {
        // serve.php refuses to start on this; another SAPI gets a 500 and the reason in the log.
        logLine("configuration: {$e->getMessage()}");
        throw new Refusal(500, 'configuration');
    }
    [$body, $what] = handle($settings);
    $status = 200;
} catch (Refusal $r) {
    [$status, $body, $what] = [$r->status, $r->errorCode, $r->errorCode];
}
answer($status, $body);
logLine(sprintf('%d %s %.1fms', $status, $what, (hrtime(true) - $started) / 1e6));
