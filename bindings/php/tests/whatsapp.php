<?php

declare(strict_types=1);

/**
 * WhatsApp's side, made with PHP's openssl extension and nothing of this project: PHP 8.2's
 * openssl_public_encrypt has no OAEP-SHA256, so OAEP is padded here (RFC 8017, SHA-256 and
 * MGF1-SHA256, empty label) and encrypted raw.
 */
final class WhatsApp
{
    private function __construct(public readonly string $body, private readonly string $aesKey, private readonly string $iv)
    {
    }

    public static function seal(string $publicPem, string $plaintext): self
    {
        $aesKey = random_bytes(16);
        $iv = random_bytes(16);
        $public = openssl_pkey_get_public($publicPem);
        $k = intdiv(openssl_pkey_get_details($public)['bits'] + 7, 8);
        $hLen = 32;
        $db = hash('sha256', '', true) . str_repeat("\0", $k - strlen($aesKey) - 2 * $hLen - 2) . "\x01" . $aesKey;
        $seed = random_bytes($hLen);
        $maskedDb = $db ^ self::mgf1($seed, $k - $hLen - 1);
        $maskedSeed = $seed ^ self::mgf1($maskedDb, $hLen);
        $wrapped = '';
        check(openssl_public_encrypt("\0" . $maskedSeed . $maskedDb, $wrapped, $public, OPENSSL_NO_PADDING), 'RSA');
        $tag = '';
        $ciphertext = openssl_encrypt($plaintext, 'aes-128-gcm', $aesKey, OPENSSL_RAW_DATA, $iv, $tag, '', 16);
        $body = json_encode([
            'encrypted_flow_data' => base64_encode($ciphertext . $tag),
            'encrypted_aes_key' => base64_encode($wrapped),
            'initial_vector' => base64_encode($iv),
        ]);
        return new self($body, $aesKey, $iv);
    }

    private static function mgf1(string $seed, int $length): string
    {
        $out = '';
        for ($i = 0; strlen($out) < $length; $i++) {
            $out .= hash('sha256', $seed . pack('N', $i), true);
        }
        return substr($out, 0, $length);
    }

    /** Opens the endpoint's answer: the same key, the IV with every bit inverted. */
    public function open(string $body): string
    {
        $raw = base64_decode($body, true);
        check($raw !== false && strlen($raw) >= 16, 'the answer is not base64');
        $plain = openssl_decrypt(substr($raw, 0, -16), 'aes-128-gcm', $this->aesKey, OPENSSL_RAW_DATA, ~$this->iv, substr($raw, -16));
        check($plain !== false, 'the answer does not open');
        return $plain;
    }
}
