<?php

declare(strict_types=1);

use WaFlowsCrypto\FlowCryptoException;
use WaFlowsCrypto\FlowKeyRing;
use WaFlowsCrypto\FlowPrivateKey;

use function WaFlowsCrypto\decryptMediaContent;
use function WaFlowsCrypto\decryptMediaStream;
use function WaFlowsCrypto\decryptPayload;
use function WaFlowsCrypto\decryptRequest;
use function WaFlowsCrypto\encryptResponse;
use function WaFlowsCrypto\parseRequest;
use function WaFlowsCrypto\sign;
use function WaFlowsCrypto\signFlowToken;
use function WaFlowsCrypto\verifyFlowTokenSignature;
use function WaFlowsCrypto\unwrapAesKey;
use function WaFlowsCrypto\verifySignature;
use WaFlowsCrypto\MediaDecryptor;

const OTHER_KEY = 'keys/rsa2048_other.pem';

function loadKey(array $v): FlowPrivateKey
{
    $data = vector($v['key']);
    return str_ends_with($v['key'], '.der')
        ? FlowPrivateKey::fromDer($data, $v['passphrase'])
        : FlowPrivateKey::fromPem($data, $v['passphrase']);
}

test('requests.json: through a key and through a ring whose first key is another', function (): void {
    $other = FlowPrivateKey::fromPem(vector(OTHER_KEY));
    foreach (vectors('requests.json') as $v) {
        $name = $v['name'];
        $expect = $v['expect'];
        try {
            $key = loadKey($v);
        } catch (FlowCryptoException $e) {
            check(!$expect['ok'] && errorMatches($name, $e->errorCode(), $expect['error']), "$name: key {$e->errorCode()}");
            same(500, $e->httpStatus(), $name);
            continue;
        }
        $ring = new FlowKeyRing([$other, $key]);
        same(2, count($ring));
        $body = json_encode($v['request'], JSON_UNESCAPED_SLASHES);
        foreach (['key' => $key, 'ring' => $ring] as $via => $k) {
            if ($expect['ok']) {
                $r = decryptRequest($body, $k);
                same($expect['plaintext'], $r->plaintext(), "$name via $via");
                same(json_decode($expect['plaintext'], true), $r->json(), $name);
                same($expect['aes_key_hex'], bin2hex($r->aesKey()), $name);
                same($expect['iv_hex'], bin2hex($r->iv()), $name);
                same($via === 'ring' && $v['key'] !== OTHER_KEY ? 1 : 0, $r->keyIndex(), "$name key index via $via");
                if ($via === 'key') { // the separate steps agree
                    $parsed = parseRequest($body);
                    $aesKey = unwrapAesKey($parsed, $key);
                    same($r->aesKey(), $aesKey, $name);
                    same($r->aesKey(), unwrapAesKey($parsed->encryptedAesKey(), $key), $name);
                    same($r->plaintext(), decryptPayload($parsed, $aesKey)->plaintext(), $name);
                }
            } else {
                $e = throwsFlow(fn () => decryptRequest($body, $k), $name);
                check(errorMatches($name, $e->errorCode(), $expect['error']), "$name: {$e->errorCode()}");
                same(421, $e->httpStatus(), $name);
            }
        }
    }
});

test('requests.json: the flow view', function (): void {
    $key = FlowPrivateKey::fromPem(vector('keys/rsa2048_pkcs8.pem'));
    $byName = array_column(vectors('requests.json'), null, 'name');
    $flow = fn (string $name) => decryptRequest(json_encode($byName[$name]['request']), $key)->flow();
    $ping = $flow('ping');
    same(['ping', true, null], [$ping->action, $ping->isPing, $ping->errorNotification]);
    $n = $flow('error_notification');
    same(['INVALID_SCREEN_TRANSITION', 'screen X not found', null], [$n->errorNotification->error, $n->errorNotification->errorMessage, $n->errorNotification->errorKey]);
    same(['flow-token-public', '3.0'], [$n->flowToken, $n->version]);
    foreach (['init', 'data_exchange', 'back', 'unicode', 'photo_picker'] as $name) {
        $f = $flow($name);
        $sent = json_decode($byName[$name]['expect']['plaintext'], true);
        same($byName[$name]['expect']['plaintext'], $f->plaintext, $name);
        same([$sent['screen'] ?? null, $sent['flow_token'] ?? null], [$f->screen, $f->flowToken], $name);
        check(($sent['data'] ?? null) == $f->data, "$name: data"); // the core's view sorts keys
        same([false, null], [$f->isPing, $f->errorNotification], $name);
    }
    $e = throwsFlow(fn () => $flow('payload_array'));
    same(['malformed', 421], [$e->errorCode(), $e->httpStatus()]);
});

test('responses.json', function (): void {
    foreach (vectors('responses.json') as $v) {
        $key = hex2bin($v['aes_key_hex']);
        $iv = hex2bin($v['request_iv_hex']);
        same($v['expected_body'], encryptResponse($v['plaintext'], $key, $iv), $v['name']);
    }
    same('malformed', throwsFlow(fn () => encryptResponse('{}', str_repeat('k', 15), str_repeat('i', 16)))->errorCode());
});

test('signatures.json', function (): void {
    foreach (vectors('signatures.json') as $v) {
        $body = base64_decode($v['body_b64']);
        $secret = $v['app_secret'];
        foreach ([$secret, [$secret], ['another secret', $secret], [$secret, 'another']] as $secrets) {
            same($v['valid'], verifySignature($body, $v['header'], $secrets), $v['name']);
        }
        same(false, verifySignature($body, $v['header'], ['another secret']), $v['name']);
        same(false, verifySignature($body, null, $secret), $v['name']);
        if ($v['name'] === 'valid') {
            same($v['header'], sign($body, $secret));
        }
    }
    foreach (['', [], [''], ['ok', '']] as $bad) {
        $e = throwsFlow(fn () => verifySignature('{}', 'sha256=00', $bad), json_encode($bad));
        same(['invalid_configuration', 500], [$e->errorCode(), $e->httpStatus()]);
    }
});

test('flow_token.json', function (): void {
    $key = FlowPrivateKey::fromPem(vector('keys/rsa2048_pkcs8.pem'));
    foreach (vectors('flow_token.json') as $v) {
        $expect = $v['expect'];
        foreach ([$v['app_secret'], [$v['app_secret']], ['an older secret', $v['app_secret']]] as $secret) {
            if ($expect['ok']) {
                same($expect['signature'], verifyFlowTokenSignature($v['request'], $secret, $v['now']), $v['name']);
                same($expect['signature'], verifyFlowTokenSignature($v['request'], $secret, $v['now'] + 0.5), $v['name']);
            } else {
                $e = throwsFlow(fn () => verifyFlowTokenSignature($v['request'], $secret, $v['now']), $v['name']);
                same([$expect['error'], 427], [$e->errorCode(), $e->httpStatus()], $v['name']);
            }
        }
        if ($v['name'] === 'valid') {
            $request = json_decode($v['request'], true);
            same($request['flow_token_signature'], signFlowToken($request['flow_token'], $v['app_secret']));
        }
    }
});

test('media.json: whole, MediaDecryptor in chunks, decryptMediaStream from a file and from chunks', function (): void {
    foreach (vectors('media.json') as $v) {
        $name = $v['name'];
        $file = vector($v['file']);
        $expect = $v['expect'];
        $want = $expect['ok'] ? vector($expect['plaintext_file']) : null;
        $outcome = function (string $how, Closure $fn) use ($name, $expect, $want): void {
            if ($expect['ok']) {
                same($want, $fn(), "$name $how");
                return;
            }
            $e = throwsFlow($fn, "$name $how");
            check(errorMatches($name, $e->errorCode(), $expect['error']), "$name $how: {$e->errorCode()}");
            if ($e->errorCode() !== 'malformed') {
                same(null, $e->httpStatus(), "$name $how");
            }
        };
        foreach ([$v['metadata'], json_encode($v['metadata'])] as $metadata) {
            $outcome('whole', fn () => decryptMediaContent($file, $metadata));
        }
        foreach ([7, 4096, 1 << 20] as $chunk) {
            $outcome("chunks of $chunk", function () use ($v, $file, $chunk): string {
                $d = new MediaDecryptor($v['metadata']);
                $out = '';
                foreach (str_split($file, $chunk) as $part) {
                    $out .= $d->update($part);
                }
                $out .= $d->finish();
                same(strlen($file), $d->bytesProcessed());
                return $out;
            });
        }
        // Nothing is yielded before the whole file verified: a failing file yields no byte.
        $collect = function (mixed $source) use ($v): string {
            $out = '';
            try {
                foreach (decryptMediaStream($source, $v['metadata'], 1000) as $plain) {
                    $out .= $plain;
                }
            } catch (FlowCryptoException $e) {
                same('', $out, "{$v['name']}: plaintext yielded before the error");
                throw $e;
            }
            return $out;
        };
        $outcome('stream from a file', function () use ($collect, $file): string {
            $f = fopen('php://temp', 'w+b');
            fwrite($f, $file);
            rewind($f);
            return $collect($f);
        });
        $outcome('stream from chunks', fn () => $collect((function () use ($file) {
            yield from str_split($file, 333);
        })()));
    }
});
