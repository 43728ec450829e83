<?php

declare(strict_types=1);

// examples/index.php end to end over HTTP, started as a user starts it (examples/serve.php),
// with WhatsApp's side made by PHP's openssl (tests/whatsapp.php) and a fake CDN.

use WaFlowsCrypto\FlowPrivateKey;

use function WaFlowsCrypto\sign;
use function WaFlowsCrypto\signFlowToken;

require_once __DIR__ . '/whatsapp.php';

const APP_SECRET = 'example-app-secret';

final class Server
{
    /** @var resource */
    private $process;
    /** @var resource */
    private $stderr;
    public string $url = '';
    public string $log = '';

    /** @param array<string, string> $env */
    public function __construct(array $argv, array $env, bool $waitForUrl = true)
    {
        $base = array_filter(getenv(), fn ($k) => !preg_match('/^(PREVIOUS_)?(PRIVATE_KEY|PRIVATE_KEY_FILE|PASSPHRASE|APP_SECRET)$|^(FLOW_TOKEN_SIGNATURE|PORT|HOST|MEDIA_ALLOW_HTTP)$/', $k), ARRAY_FILTER_USE_KEY);
        // Through env(1): proc_open drops variables set to the empty string, which the test of
        // APP_SECRET= needs.
        $assignments = array_map(fn ($k, $v) => "$k=$v", array_keys($env), array_values($env));
        $this->process = proc_open(['env', ...$assignments, ...$argv], [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['pipe', 'w']], $pipes, null, $base);
        $this->stderr = $pipes[2];
        stream_set_blocking($this->stderr, false);
        if (!$waitForUrl) {
            return;
        }
        $deadline = microtime(true) + 20;
        while (microtime(true) < $deadline) {
            $this->readLog();
            if (preg_match('~listening on (http://\S+)~', $this->log, $m)) {
                $this->url = $m[1];
                return;
            }
            if (!proc_get_status($this->process)['running']) {
                break;
            }
            usleep(20000);
        }
        throw new AssertionFailed("the server did not start:\n" . $this->log);
    }

    public function readLog(): string
    {
        while (($chunk = fread($this->stderr, 65536)) !== false && $chunk !== '') {
            $this->log .= $chunk;
        }
        return $this->log;
    }

    /** The exit status of a server that refused to start. */
    private ?int $exitCode = null;

    public function exitStatus(): int
    {
        if ($this->exitCode !== null) {
            return $this->exitCode;
        }
        $deadline = microtime(true) + 20;
        while (microtime(true) < $deadline) {
            $status = proc_get_status($this->process);
            if (!$status['running']) {
                $this->readLog();
                return $this->exitCode = $status['exitcode']; // reported once only
            }
            usleep(20000);
        }
        throw new AssertionFailed('the server did not exit');
    }

    public function stop(): void
    {
        if (proc_get_status($this->process)['running']) {
            proc_terminate($this->process);
        }
        proc_close($this->process);
    }
}

/** @return array{0: int, 1: string, 2: string} status, body, Content-Type */
function post(string $url, string $body, ?string $contentType = 'application/json', ?string $signature = null): array
{
    $headers = [];
    if ($contentType !== null) {
        $headers[] = "Content-Type: $contentType";
    }
    if ($signature !== null) {
        $headers[] = "X-Hub-Signature-256: $signature";
    }
    $context = stream_context_create(['http' => ['method' => 'POST', 'header' => $headers, 'content' => $body, 'ignore_errors' => true, 'timeout' => 30]]);
    $answer = @file_get_contents($url, false, $context); // no Content-Type is a notice
    preg_match('~^HTTP/\S+\s+(\d{3})~', $http_response_header[0], $m);
    $type = '';
    foreach ($http_response_header as $line) {
        if (preg_match('~^content-type:\s*(.*)$~i', $line, $t)) {
            $type = trim($t[1]);
        }
    }
    return [(int) $m[1], (string) $answer, $type];
}

function serveArgv(): array
{
    // The server itself runs with ffi.enable=1 (serve.php passes it on); so must the launcher.
    return [PHP_BINARY, '-d', 'ffi.enable=1', __DIR__ . '/../examples/serve.php'];
}

/** Seals, signs and posts a request; returns the opened 200 answer. */
function exchange(string $url, string $publicPem, string $plaintext, string $secret = APP_SECRET): string
{
    $sealed = WhatsApp::seal($publicPem, $plaintext);
    [$status, $body, $type] = post($url, $sealed->body, 'application/json', sign($sealed->body, $secret));
    same(200, $status, "$plaintext: $body");
    check(str_starts_with($type, 'text/plain'), "Content-Type $type");
    return $sealed->open($body);
}

test('example: statuses, screens, photos, rotation, flow token signatures, the log', function (): void {
    $vectors = vectorsDir();
    $media = array_column(vectors('media.json'), null, 'name');
    $cdnProbe = stream_socket_server('tcp://127.0.0.1:0');
    $cdnPort = (int) substr(strrchr(stream_socket_get_name($cdnProbe, false), ':'), 1);
    fclose($cdnProbe);
    $cdn = proc_open([PHP_BINARY, '-S', "127.0.0.1:$cdnPort", __DIR__ . '/cdn.php'], [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes, null, ['WFC_VECTORS' => $vectors] + getenv());
    $cdnUrl = "http://127.0.0.1:$cdnPort";
    $previousPem = vector('keys/rsa2048_other.pem');
    $server = new Server(serveArgv(), [
        'PRIVATE_KEY_FILE' => "$vectors/keys/rsa2048_pkcs8_des3.pem",
        'PASSPHRASE' => 'flows-public-passphrase',
        'PREVIOUS_PRIVATE_KEY' => str_replace("\n", '\n', $previousPem), // as an env var mangles it
        'APP_SECRET' => APP_SECRET,
        'PREVIOUS_APP_SECRET' => 'the-old-secret',
        'MEDIA_ALLOW_HTTP' => '1',
        'HOST' => '127.0.0.1',
        'PORT' => '0',
    ]);
    try {
        for ($i = 0; $i < 100 && @file_get_contents("$cdnUrl/missing", false, stream_context_create(['http' => ['ignore_errors' => true]])) === false; $i++) {
            usleep(50000);
        }
        $url = $server->url;
        $public = vector('keys/rsa2048_public.pem');
        same("WhatsApp Flows endpoint: POST encrypted flow requests here.\n", file_get_contents($url));

        // Refusals: the status, and the code as the body.
        $ping = WhatsApp::seal($public, '{"version":"3.0","action":"ping"}');
        $fields = json_decode($ping->body, true);
        $wrapped = base64_decode($fields['encrypted_aes_key']);
        $wrapped[10] = chr(ord($wrapped[10]) ^ 1);
        $fields['encrypted_aes_key'] = base64_encode($wrapped);
        $tamperedKey = json_encode($fields);
        $fields = json_decode($ping->body, true);
        $data = base64_decode($fields['encrypted_flow_data']);
        $data[0] = chr(ord($data[0]) ^ 1);
        $fields['encrypted_flow_data'] = base64_encode($data);
        $tamperedData = json_encode($fields);
        $stranger = WhatsApp::seal(FlowPrivateKey::generate()->publicKeyPem(), '{"version":"3.0","action":"ping"}');
        $notFlow = WhatsApp::seal($public, '["not", "an object"]');
        $big = str_repeat('x', 1024 * 1024 + 1);
        foreach ([
            ['no content type', $ping->body, null, sign($ping->body, APP_SECRET), 415, 'unsupported_media_type'],
            ['text/plain', $ping->body, 'text/plain', sign($ping->body, APP_SECRET), 415, 'unsupported_media_type'],
            ['too large', $big, 'application/json', sign($big, APP_SECRET), 413, 'body_too_large'],
            ['unsigned', $ping->body, 'application/json', null, 432, 'invalid_signature'],
            ['wrong signature', $ping->body, 'Application/JSON; charset=utf-8', sign($ping->body . ' ', APP_SECRET), 432, 'invalid_signature'],
            ['not JSON', 'nope', 'application/json', sign('nope', APP_SECRET), 421, 'malformed'],
            ['tampered key', $tamperedKey, 'application/json', sign($tamperedKey, APP_SECRET), 421, 'key_unwrap'],
            ['tampered payload', $tamperedData, 'application/json', sign($tamperedData, APP_SECRET), 421, 'payload_auth'],
            ['another key', $stranger->body, 'application/json', sign($stranger->body, APP_SECRET), 421, 'key_unwrap'],
            ['no flow request', $notFlow->body, 'application/json', sign($notFlow->body, APP_SECRET), 421, 'malformed'],
        ] as [$what, $body, $type, $signature, $status, $code]) {
            [$gotStatus, $gotBody, $gotType] = post($url, $body, $type, $signature);
            same([$status, $code], [$gotStatus, $gotBody], $what);
            check(str_starts_with($gotType, 'text/plain'), "$what: Content-Type $gotType");
        }

        // Screens.
        foreach ([
            ['{"version":"3.0","action":"ping"}', '{"data":{"status":"active"}}'],
            ['{"version":"3.0","action":"data_exchange","screen":"PROFILE","flow_token":"t","data":{"error":"INVALID_SCREEN_TRANSITION","error_message":"x"}}', '{"data":{"acknowledged":true}}'],
            ['{"version":"3.0","action":"INIT","flow_token":"t"}', '{"screen":"PROFILE","data":{"error_message":""}}'],
            ['{"version":"3.0","action":"BACK","screen":"SUMMARY","flow_token":"t"}', '{"screen":"PROFILE","data":{"error_message":""}}'],
            ['{"version":"3.0","action":"data_exchange","screen":"SUMMARY","flow_token":"tok/é","data":{}}', '{"screen":"SUCCESS","data":{"extension_message_response":{"params":{"flow_token":"tok/é"}}}}'],
            ['{"version":"3.0","action":"data_exchange","screen":"SUMMARY","data":{}}', '{"screen":"SUCCESS","data":{"extension_message_response":{"params":{"flow_token":""}}}}'],
            ['{"version":"3.0","action":"data_exchange","screen":"ELSEWHERE","flow_token":"t"}', '{"screen":"PROFILE","data":{"error_message":"unknown screen"}}'],
            ['{"version":"3.0","action":"navigate","flow_token":"t"}', '{"screen":"PROFILE","data":{"error_message":"unsupported action"}}'],
            ['{"version":"3.0","action":"data_exchange","screen":"PROFILE","data":{"name":"Ada","photos":{"a":1}}}', '{"screen":"PROFILE","data":{"error_message":"photos is not a list"}}'],
            ['{"version":"3.0","action":"data_exchange","screen":"PROFILE","data":{"photos":[' . implode(',', array_fill(0, 31, '{}')) . ']}}', '{"screen":"PROFILE","data":{"error_message":"too many photos: at most 30"}}'],
            ['{"version":"3.0","action":"data_exchange","screen":"PROFILE","data":{"name":"Ada"}}', '{"screen":"SUMMARY","data":{"name":"Ada","photo_count":0,"total_bytes":0,"photos":[],"summary":"0 photos, 0 bytes"}}'],
        ] as [$request, $want]) {
            same($want, exchange($url, $public, $request), $request);
        }

        // Photos, decrypted as they download: size and SHA-256 of each.
        $photo = fn (?string $label, string $case, string $cdnPath) => array_filter([
            'file_name' => $label, 'media_id' => '1', 'cdn_url' => "$cdnUrl/$cdnPath", 'encryption_metadata' => $media[$case]['metadata'],
        ], fn ($v) => $v !== null);
        $profile = fn (array $photos) => json_encode(['version' => '3.0', 'action' => 'data_exchange', 'screen' => 'PROFILE', 'flow_token' => 't', 'data' => ['name' => 'Ada', 'photos' => $photos]]);
        $photos = $summaries = [];
        $total = 0;
        foreach (['size_1', 'size_1000', 'size_1048579'] as $i => $case) {
            $plain = vector($media[$case]['expect']['plaintext_file']);
            $photos[] = $photo("$case.jpg", $case, $i === 1 ? "redirect/$case" : $case);
            $summaries[] = ['file_name' => "$case.jpg", 'size' => strlen($plain), 'sha256' => hash('sha256', $plain)];
            $total += strlen($plain);
        }
        same(['screen' => 'SUMMARY', 'data' => ['name' => 'Ada', 'photo_count' => 3, 'total_bytes' => $total, 'photos' => $summaries, 'summary' => "3 photos, $total bytes"]],
            json_decode(exchange($url, $public, $profile($photos)), true));
        foreach ([
            [[$photo('a.jpg', 'size_1', 'size_1'), $photo(null, 'wrong_hmac_key', 'wrong_hmac_key')], 'could not read photo #2: hmac_mismatch'],
            [[$photo('b.jpg', 'bad_padding_authentic_mac', 'bad_padding_authentic_mac'), ['file_name' => 'c.jpg', 'cdn_url' => 'ftp://x/', 'encryption_metadata' => $media['size_1']['metadata']]], 'could not read photo b.jpg: padding'],
            [[['file_name' => 'c.jpg', 'cdn_url' => 'ftp://x/', 'encryption_metadata' => $media['size_1']['metadata']]], 'could not read photo c.jpg: cdn_url_refused'],
            [[$photo('d.jpg', 'size_1', 'missing')], 'could not read photo d.jpg: download_failed'],
            [[$photo('e.jpg', 'bad_base64_metadata', 'size_1')], 'could not read photo e.jpg: malformed'],
            [[$photo('f.jpg', 'tampered_file_hash_checked', 'tampered_file_hash_checked')], 'could not read photo f.jpg: encrypted_hash_mismatch'],
            [[['file_name' => 'g.jpg']], 'could not read photo g.jpg: malformed'],
        ] as [$list, $message]) {
            same('{"screen":"PROFILE","data":{"error_message":"' . $message . '"}}', exchange($url, $public, $profile($list)), $message);
        }

        // Rotation: the previous key and the previous app secret still open requests.
        $old = FlowPrivateKey::fromPem($previousPem)->publicKeyPem();
        same('{"data":{"status":"active"}}', exchange($url, $old, '{"version":"3.0","action":"ping"}', 'the-old-secret'));

        // Data API 4.0.
        $token = 'flow-token-42';
        $request = fn (string $signature) => json_encode(['version' => '4.0', 'action' => 'INIT', 'flow_token' => $token, 'flow_token_signature' => $signature]);
        $valid = signFlowToken($token, APP_SECRET, time() + 3600);
        same('{"screen":"PROFILE","data":{"error_message":""}}', exchange($url, $public, $request($valid)));
        foreach ([signFlowToken($token, APP_SECRET, time() - 3600), $valid . 'x', signFlowToken('other', APP_SECRET)] as $signature) {
            $sealed = WhatsApp::seal($public, $request($signature));
            same([427, 'invalid_flow_token_signature'], array_slice(post($url, $sealed->body, 'application/json', sign($sealed->body, APP_SECRET)), 0, 2));
        }

        usleep(200000);
        $log = $server->readLog();
        foreach (['200 ping ', '200 INIT ', '200 data_exchange ', '200 other ', '415 unsupported_media_type ', '413 body_too_large ', '432 invalid_signature ', '421 key_unwrap ', '421 payload_auth ', '427 invalid_flow_token_signature '] as $line) {
            check(str_contains($log, "flow endpoint: $line"), "no log line '$line' in:\n$log");
        }
        foreach ([APP_SECRET, 'Ada', 'size_1.jpg', 'navigate', 'BEGIN', 'Accepted'] as $never) {
            check(!str_contains($log, $never), "the log shows '$never'");
        }
    } finally {
        $server->stop();
        proc_terminate($cdn);
        proc_close($cdn);
    }
});

test('example: FLOW_TOKEN_SIGNATURE=required, and no APP_SECRET', function (): void {
    $vectors = vectorsDir();
    $public = vector('keys/rsa2048_public.pem');
    $server = new Server(serveArgv(), ['PRIVATE_KEY' => vector('keys/rsa2048_pkcs1.pem'), 'APP_SECRET' => APP_SECRET, 'FLOW_TOKEN_SIGNATURE' => 'required', 'HOST' => '127.0.0.1', 'PORT' => '0']);
    try {
        same('{"data":{"status":"active"}}', exchange($server->url, $public, '{"version":"3.0","action":"ping"}'));
        $sealed = WhatsApp::seal($public, '{"version":"3.0","action":"INIT","flow_token":"t"}');
        same([427, 'invalid_flow_token_signature'], array_slice(post($server->url, $sealed->body, 'application/json', sign($sealed->body, APP_SECRET)), 0, 2));
    } finally {
        $server->stop();
    }
    $server = new Server(serveArgv(), ['PRIVATE_KEY_FILE' => "$vectors/keys/rsa2048_pkcs8.der", 'HOST' => '127.0.0.1', 'PORT' => '0']);
    try {
        check(str_contains($server->log, 'warning: APP_SECRET is not set'), $server->log);
        $sealed = WhatsApp::seal($public, '{"version":"3.0","action":"INIT"}');
        [$status, $body] = post($server->url, $sealed->body);
        same([200, '{"screen":"PROFILE","data":{"error_message":""}}'], [$status, $sealed->open($body)]);
    } finally {
        $server->stop();
    }
});

test('example: refuses to start, exit status 1 and one line', function (): void {
    $vectors = vectorsDir();
    $key = "$vectors/keys/rsa2048_pkcs8.pem";
    $encrypted = "$vectors/keys/rsa2048_pkcs8_aes256.pem";
    foreach ([
        [[], 'no private key'],
        [['PRIVATE_KEY' => 'x', 'PRIVATE_KEY_FILE' => $key], 'not both'],
        [['PRIVATE_KEY_FILE' => '/nonexistent'], 'cannot be read'],
        [['PRIVATE_KEY_FILE' => $encrypted], '(invalid_key)'],
        [['PRIVATE_KEY_FILE' => $encrypted, 'PASSPHRASE' => 'wrong'], '(invalid_key)'],
        [['PRIVATE_KEY_FILE' => "$vectors/keys/rsa2048_public.pem"], '(invalid_key)'],
        [['PRIVATE_KEY_FILE' => $key, 'PREVIOUS_PASSPHRASE' => 'x'], 'PREVIOUS_PASSPHRASE is set without'],
        [['PRIVATE_KEY_FILE' => $key, 'APP_SECRET' => ''], 'APP_SECRET is set but empty'],
        [['PRIVATE_KEY_FILE' => $key, 'PREVIOUS_APP_SECRET' => 'x'], 'without APP_SECRET'],
        [['PRIVATE_KEY_FILE' => $key, 'FLOW_TOKEN_SIGNATURE' => 'sometimes'], 'FLOW_TOKEN_SIGNATURE'],
        [['PRIVATE_KEY_FILE' => $key, 'FLOW_TOKEN_SIGNATURE' => 'required'], '(invalid_configuration)'],
        [['PRIVATE_KEY_FILE' => $key, 'PORT' => '70000'], 'PORT'],
        [['PRIVATE_KEY_FILE' => $key, 'HOST' => 'localhost'], 'HOST'],
        [['PRIVATE_KEY_FILE' => $key, 'MEDIA_ALLOW_HTTP' => 'yes'], 'MEDIA_ALLOW_HTTP'],
    ] as [$env, $says]) {
        // Loopback and a free port, should a case start after all.
        $server = new Server(serveArgv(), $env + ['HOST' => '127.0.0.1', 'PORT' => '0'], false);
        try {
            same(1, $server->exitStatus(), $says);
        } finally {
            $server->stop(); // had it started after all
        }
        $lines = array_values(array_filter(explode("\n", $server->log), fn ($l) => str_contains($l, 'refusing to start')));
        check(count($lines) === 1 && str_contains($lines[0], 'flow endpoint: refusing to start: ') && str_contains($lines[0], $says), "$says: " . $server->log);
    }
});
