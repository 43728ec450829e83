<?php

declare(strict_types=1);

namespace WaFlowsCrypto;

use FFI;
use FFI\CData;

/**
 * The C ABI, loaded once per process: the library named by WA_FLOWS_CRYPTO_LIB (a path), else
 * WA_FLOWS_CRYPTO_PREFIX/lib, else the system's libwa_flows_crypto.so.0; the header
 * wa_flows_crypto.h from WA_FLOWS_CRYPTO_HEADER, the prefix, this repository or /usr(/local).
 *
 * @internal Everything here is the package's plumbing; the API is the other classes.
 */
final class Native
{
    private static ?FFI $ffi = null;
    /** @var array<string, int> the header's #define and enum constants */
    private static array $constants = [];

    public static function ffi(): FFI
    {
        if (self::$ffi === null) {
            if (!extension_loaded('ffi')) {
                throw new \RuntimeException('wa-flows-crypto needs the FFI extension (ext-ffi)');
            }
            $header = self::headerPath();
            $text = file_get_contents($header);
            if ($text === false) {
                throw new \RuntimeException("wa-flows-crypto: cannot read the header $header");
            }
            [$cdef, self::$constants] = self::preprocess($text);
            self::$ffi = FFI::cdef($cdef, self::libraryPath());
        }
        return self::$ffi;
    }

    public static function constant(string $name): int
    {
        self::ffi();
        return self::$constants[$name];
    }

    private static function env(string $name): ?string
    {
        $value = getenv($name);
        return $value === false || $value === '' ? null : $value;
    }

    private static function libraryPath(): string
    {
        $lib = self::env('WA_FLOWS_CRYPTO_LIB');
        if ($lib !== null) {
            return $lib;
        }
        $prefix = self::env('WA_FLOWS_CRYPTO_PREFIX');
        if ($prefix !== null) {
            return $prefix . '/lib/libwa_flows_crypto.so';
        }
        // The soname that scripts/dist.sh installs; the dynamic loader searches its usual paths.
        return 'libwa_flows_crypto.so.0';
    }

    private static function headerPath(): string
    {
        $candidates = [];
        $header = self::env('WA_FLOWS_CRYPTO_HEADER');
        if ($header !== null) {
            return $header;
        }
        $prefix = self::env('WA_FLOWS_CRYPTO_PREFIX');
        if ($prefix !== null) {
            $candidates[] = "$prefix/include/wa_flows_crypto/wa_flows_crypto.h";
        }
        $candidates[] = __DIR__ . '/../../c/include/wa_flows_crypto.h';
        $candidates[] = '/usr/local/include/wa_flows_crypto/wa_flows_crypto.h';
        $candidates[] = '/usr/include/wa_flows_crypto/wa_flows_crypto.h';
        foreach ($candidates as $path) {
            if (is_file($path)) {
                return $path;
            }
        }
        throw new \RuntimeException(
            'wa-flows-crypto: wa_flows_crypto.h not found; set WA_FLOWS_CRYPTO_HEADER or WA_FLOWS_CRYPTO_PREFIX'
        );
    }

    /**
     * FFI::cdef takes declarations, not a preprocessor: drop comments and directives, keep the
     * branches a C11 compiler keeps (no __cplusplus, __STDC_VERSION__ below C23), and collect
     * the constants.
     *
     * @return array{0: string, 1: array<string, int>}
     */
    public static function preprocess(string $header): array
    {
        $text = preg_replace('~/\*.*?\*/~s', '', $header);
        $constants = [];
        $out = [];
        $stack = []; // for each open #if: [is this branch kept, was the parent kept]
        $keep = true;
        foreach (explode("\n", (string) $text) as $line) {
            $line = preg_replace('~//.*$~', '', $line);
            $trim = trim((string) $line);
            if (str_starts_with($trim, '#')) {
                if (preg_match('~^#\s*(ifndef|ifdef|if)\s+(.*)$~', $trim, $m)) {
                    $condition = trim($m[2]);
                    // #ifndef: the include guard or __cplusplus, both undefined here; #ifdef
                    // and #if test __cplusplus or C23, both false for a C11 reading.
                    $value = $m[1] === 'ifndef';
                    $stack[] = [$value, $keep];
                    $keep = $keep && $value;
                } elseif (preg_match('~^#\s*else~', $trim)) {
                    [$value, $parent] = array_pop($stack);
                    $stack[] = [!$value, $parent];
                    $keep = $parent && !$value;
                } elseif (preg_match('~^#\s*endif~', $trim)) {
                    [, $keep] = array_pop($stack);
                } elseif ($keep && preg_match('~^#\s*define\s+(\w+)\s+(\d+)\s*$~', $trim, $m)) {
                    $constants[$m[1]] = (int) $m[2];
                }
                continue;
            }
            if ($keep) {
                $out[] = $line;
                if (preg_match('~^\s*(WFC_\w+)\s*=\s*(\d+)~', (string) $line, $m)) {
                    $constants[$m[1]] = (int) $m[2];
                }
            }
        }
        return [implode("\n", $out), $constants];
    }

    /** @return array{0: ?CData, 1: int} a C copy of $bytes (NULL for none) and its length */
    public static function input(?string $bytes): array
    {
        if ($bytes === null || $bytes === '') {
            return [null, 0];
        }
        $n = strlen($bytes);
        $buf = self::ffi()->new("uint8_t[$n]");
        FFI::memcpy($buf, $bytes, $n);
        return [$buf, $n];
    }

    /** Overwrites a C copy of a secret before PHP frees it. */
    public static function wipe(?CData $buf, int $len): void
    {
        if ($buf !== null && $len > 0) {
            FFI::memset($buf, 0, $len);
        }
    }

    public static function error(int $status, string $message = ''): FlowCryptoException
    {
        $ffi = self::ffi();
        if ($message === '') {
            $need = (int) $ffi->wfc_last_error_message_len();
            if ($need > 0) {
                $buf = $ffi->new("uint8_t[$need]");
                $len = $ffi->new('size_t');
                if ($ffi->wfc_last_error_message($buf, $need, FFI::addr($len)) === 0) {
                    $message = FFI::string($buf, $len->cdata);
                }
            }
        }
        $code = (string) $ffi->wfc_status_str($status); // a const char * arrives as a PHP string
        $http = (int) $ffi->wfc_status_http_status($status);
        return new FlowCryptoException($message !== '' ? $message : $code, $code, $http === 0 ? null : $http);
    }

    public static function check(int $status): void
    {
        if ($status !== 0) {
            throw self::error($status);
        }
    }

    /**
     * Calls $call(out, out_cap, out_len) with a buffer of $hint bytes, and once more with the
     * length the library asks for when that was too small.
     *
     * @param callable(CData, int, CData): int $call
     */
    public static function copyOut(callable $call, int $hint): string
    {
        $ffi = self::ffi();
        $cap = max($hint, 1);
        $buf = $ffi->new("uint8_t[$cap]");
        $len = $ffi->new('size_t');
        $status = $call($buf, $cap, FFI::addr($len));
        if ($status === self::constant('WFC_STATUS_BUFFER_TOO_SMALL') && $len->cdata > $cap) {
            $cap = $len->cdata;
            $buf = $ffi->new("uint8_t[$cap]");
            $status = $call($buf, $cap, FFI::addr($len));
        }
        self::check($status);
        $out = FFI::string($buf, $len->cdata);
        FFI::memset($buf, 0, $cap); // the output may be a secret (keys, plaintext)
        return $out;
    }

    /**
     * A handle made by $call(T **out), or the library's error.
     *
     * @param callable(CData): int $call
     */
    public static function handle(string $type, callable $call): CData
    {
        $out = self::ffi()->new("$type *");
        self::check($call(FFI::addr($out)));
        return $out;
    }

    /**
     * App secrets as a wfc_bytes array in C memory, with the buffers that back it.
     *
     * @param list<string> $secrets
     * @return array{0: ?CData, 1: int, 2: list<array{0: ?CData, 1: int}>}
     */
    public static function secrets(array $secrets): array
    {
        $n = count($secrets);
        if ($n === 0) {
            return [null, 0, []];
        }
        $arr = self::ffi()->new("wfc_bytes[$n]");
        $bufs = [];
        foreach (array_values($secrets) as $i => $secret) {
            if (!is_string($secret)) {
                throw new \TypeError('an app secret must be a string, not ' . get_debug_type($secret));
            }
            [$buf, $len] = self::input($secret);
            $bufs[] = [$buf, $len];
            $arr[$i]->data = $buf === null ? null : FFI::addr($buf[0]);
            $arr[$i]->len = $len;
        }
        return [$arr, $n, $bufs];
    }

    /** @param list<array{0: ?CData, 1: int}> $bufs */
    public static function wipeAll(array $bufs): void
    {
        foreach ($bufs as [$buf, $len]) {
            self::wipe($buf, $len);
        }
    }

    /** A JSON answer: arrays are encoded as JSON (slashes and Unicode as is), strings sent as they are. */
    public static function json(array|string $value): string
    {
        if (is_string($value)) {
            return $value;
        }
        return json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
    }

    public static function now(int|float|null $now): int
    {
        return $now === null ? time() : (int) floor($now);
    }
}
