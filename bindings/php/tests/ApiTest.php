<?php

declare(strict_types=1);

use WaFlowsCrypto\FlowCryptoException;
use WaFlowsCrypto\FlowEndpoint;
use WaFlowsCrypto\FlowKeyRing;
use WaFlowsCrypto\FlowPrivateKey;

use function WaFlowsCrypto\decryptRequest;
use function WaFlowsCrypto\sign;
use function WaFlowsCrypto\signFlowToken;
use function WaFlowsCrypto\version;

require_once __DIR__ . '/whatsapp.php';

test('keys: PEM, damaged PEM, encrypted, generated, refused', function (): void {
    $key = FlowPrivateKey::fromPem(vector('keys/rsa2048_pkcs8.pem'));
    same(vector('keys/rsa2048_public.pem'), $key->publicKeyPem());
    same(2048, $key->bits());
    same(64, strlen($key->publicKeyFingerprint()));
    same(hash('sha256', $key->publicKeyDer()), $key->publicKeyFingerprint());
    same(vector('keys/rsa2048_pkcs8.der'), $key->privateKeyDer());
    same($key->publicKeyPem(), FlowPrivateKey::fromDer($key->privateKeyDer())->publicKeyPem());
    same('malformed', throwsFlow(fn () => WaFlowsCrypto\parseRequest('{}'))->errorCode());
    $damaged = '"' . str_replace("\n", '\n', vector('keys/rsa2048_pkcs8.pem')) . '"';
    same(2048, FlowPrivateKey::fromPem($damaged)->bits());
    $encrypted = $key->privateKeyPem('pass');
    same('invalid_key', throwsFlow(fn () => FlowPrivateKey::fromPem($encrypted))->errorCode());
    same($key->publicKeyPem(), FlowPrivateKey::fromPem($encrypted, 'pass')->publicKeyPem());
    foreach (['', 'not a key', vector('keys/rsa2048_public.pem')] as $bad) {
        $e = throwsFlow(fn () => FlowPrivateKey::fromPem($bad));
        same(['invalid_key', 500, 0], [$e->errorCode(), $e->httpStatus(), $e->getCode()]);
    }
    same('invalid_key', throwsFlow(fn () => FlowPrivateKey::generate(1000))->errorCode());
    same(2048, FlowPrivateKey::generate()->bits());
    same('invalid_configuration', throwsFlow(fn () => new FlowKeyRing([]))->errorCode());
    check(!str_contains(print_r($key, true), 'PRIVATE'), 'var_dump shows no key material');
    check(version() !== '');
});

test('FlowEndpoint: ping, signatures, INIT, flow token error, configuration', function (): void {
    $key = FlowPrivateKey::fromPem(vector('keys/rsa2048_pkcs8.pem'));
    $endpoint = new FlowEndpoint($key, 'app-secret');
    $ping = WhatsApp::seal($key->publicKeyPem(), '{"version":"3.0","action":"ping"}');
    $opened = $endpoint->open($ping->body, sign($ping->body, 'app-secret'));
    same('{"data":{"status":"active"}}', $opened->automaticResponse());
    same(['absent', 0], [$opened->flowTokenSignature(), $opened->keyIndex()]);
    same('{"data":{"status":"active"}}', $ping->open($opened->respond($opened->automaticResponse())));
    foreach ([null, '', 'sha256=00'] as $header) {
        $e = throwsFlow(fn () => $endpoint->open($ping->body, $header));
        same(['invalid_signature', 432], [$e->errorCode(), $e->httpStatus()]);
    }
    $init = WhatsApp::seal($key->publicKeyPem(), '{"version":"3.0","action":"INIT","flow_token":"tok"}');
    $opened = $endpoint->open($init->body, sign($init->body, 'app-secret'), time());
    same(null, $opened->automaticResponse());
    same('INIT', $opened->flow()->action);
    [$status, $body] = $opened->flowTokenError('expired');
    same([427, '{"error_msg":"expired"}'], [$status, $init->open($body)]);
    same(['screen' => 'X'], json_decode($init->open($opened->respond(['screen' => 'X'])), true));
    // The ring, the previous secret, and a signed flow token under "required".
    $ring = new FlowKeyRing([FlowPrivateKey::fromPem(vector('keys/rsa2048_other.pem')), $key]);
    $required = new FlowEndpoint($ring, ['new-secret', 'app-secret'], 'required');
    $token = signFlowToken('tok', 'new-secret', time() + 60);
    $signed = WhatsApp::seal($key->publicKeyPem(), json_encode(['version' => '4.0', 'action' => 'INIT', 'flow_token' => 'tok', 'flow_token_signature' => $token]));
    $opened = $required->open($signed->body, sign($signed->body, 'app-secret'));
    same(['verified', 1], [$opened->flowTokenSignature(), $opened->keyIndex()]);
    $e = throwsFlow(fn () => $required->open($init->body, sign($init->body, 'app-secret')));
    same(['invalid_flow_token_signature', 427], [$e->errorCode(), $e->httpStatus()]);
    foreach ([[[], 'if_present'], [[''], 'if_present'], [null, 'required'], ['s', 'sometimes']] as [$secrets, $policy]) {
        $e = throwsFlow(fn () => new FlowEndpoint($key, $secrets, $policy), json_encode([$secrets, $policy]));
        same(['invalid_configuration', 500], [$e->errorCode(), $e->httpStatus()]);
    }
});

test('errors: malformed bodies, and a request decrypted with the wrong key', function (): void {
    $key = FlowPrivateKey::fromPem(vector('keys/rsa2048_pkcs8.pem'));
    foreach (['', '{}', '[]', 'nope'] as $body) {
        $e = throwsFlow(fn () => decryptRequest($body, $key));
        same(['malformed', 421], [$e->errorCode(), $e->httpStatus()]);
        check($e instanceof RuntimeException);
    }
    $sealed = WhatsApp::seal(FlowPrivateKey::fromPem(vector('keys/rsa2048_other.pem'))->publicKeyPem(), '{"action":"ping"}');
    same('key_unwrap', throwsFlow(fn () => decryptRequest($sealed->body, $key))->errorCode());
});
