<?php

declare(strict_types=1);

// Starts the example endpoint on PHP's built-in server: checks the whole configuration first
// (and refuses to start with exit status 1 and one line on standard error, as the
// specification says), then runs `php -d ffi.enable=1 -S HOST:PORT index.php` and says
// `listening on http://HOST:PORT/` once it accepts connections. SIGTERM and Ctrl-C stop it.
//
// FFI is enabled explicitly: Debian's default ffi.enable=preload allows it only in the CLI, and
// the built-in server is another SAPI (cli-server).

require __DIR__ . '/config.php';

try {
    $settings = loadSettings(true);
} catch (StartupError $e) {
    logLine("refusing to start: {$e->getMessage()}");
    exit(1);
}
$host = $settings->host;
$port = $settings->port;
$shownHost = str_contains($host, ':') ? "[$host]" : $host;
if ($port === 0) {
    // The built-in server cannot report a port it picked: pick a free one here.
    $probe = @stream_socket_server("tcp://$shownHost:0", $errno, $errstr);
    if ($probe === false) {
        logLine("cannot listen on $host:0: $errstr");
        exit(1);
    }
    $port = (int) substr(strrchr(stream_socket_get_name($probe, false), ':'), 1);
    fclose($probe);
}
// The built-in server's own access log goes to /dev/null: the one line per request is the log.
$server = proc_open(
    [PHP_BINARY, '-d', 'ffi.enable=1', '-d', 'display_errors=stderr', '-d', 'log_errors=0', '-S', "$shownHost:$port", __DIR__ . '/index.php'],
    [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['pipe', 'w']],
    $pipes,
);
if ($server === false) {
    logLine('cannot start the built-in server');
    exit(1);
}
stream_set_blocking($pipes[2], false);
$stop = false;
if (function_exists('pcntl_async_signals')) {
    pcntl_async_signals(true);
    foreach ([SIGTERM, SIGINT] as $signal) {
        pcntl_signal($signal, function () use (&$stop): void {
            $stop = true;
        });
    }
}
$connectHost = $host === '0.0.0.0' ? '127.0.0.1' : ($host === '::' ? '[::1]' : $shownHost);
$ready = false;
for ($i = 0; $i < 100 && !$ready; $i++) {
    $socket = @stream_socket_client("tcp://$connectHost:$port", $errno, $errstr, 0.1);
    if ($socket !== false) {
        fclose($socket);
        $ready = true;
    } elseif (!proc_get_status($server)['running']) {
        break;
    } else {
        usleep(50000);
    }
}
// Pass on the endpoint's lines; drop the built-in server's own (Accepted, Closing, ...).
$relay = function () use ($pipes): void {
    while (($line = fgets($pipes[2])) !== false) {
        if (str_contains($line, 'flow endpoint: ') || (str_contains($line, 'PHP ') && !str_contains($line, 'Development Server'))) {
            $at = strpos($line, 'flow endpoint: ');
            fwrite(STDERR, $at === false ? $line : substr($line, $at));
        }
    }
};
if (!$ready) {
    $relay();
    logLine("cannot listen on $host:$port");
    proc_terminate($server);
    exit(1);
}
$fingerprint = $settings->key->publicKeyFingerprint();
$previous = $settings->previous === null ? '' : ', previous key ' . $settings->previous->publicKeyFingerprint();
$check = $settings->secrets === [] ? 'off' : 'on' . (count($settings->secrets) > 1 ? ' with ' . count($settings->secrets) . ' app secrets' : '');
$policy = $settings->secrets === [] ? 'off' : $settings->policy;
logLine("listening on http://$shownHost:$port/ (public key $fingerprint$previous, signature check $check, flow token signature $policy)");
while (!$stop && proc_get_status($server)['running']) {
    $read = [$pipes[2]];
    $write = $except = null;
    if (@stream_select($read, $write, $except, 0, 200000) > 0) {
        $relay();
    }
}
proc_terminate($server);
proc_close($server);
logLine('stopped');
exit(0);
