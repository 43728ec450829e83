<?php

declare(strict_types=1);

use WaFlowsCrypto\FlowCryptoException;

final class Tests
{
    /** @var array<string, Closure> */
    public static array $tests = [];
}

function test(string $name, Closure $fn): void
{
    Tests::$tests[$name] = $fn;
}

final class AssertionFailed extends Exception
{
}

function check(bool $condition, string $what = 'assertion'): void
{
    if (!$condition) {
        throw new AssertionFailed($what);
    }
}

function same(mixed $expected, mixed $actual, string $what = ''): void
{
    if ($expected !== $actual) {
        throw new AssertionFailed(($what !== '' ? "$what: " : '') . 'expected ' . var_export($expected, true) . ', got ' . var_export($actual, true));
    }
}

/** Runs $fn, which must throw FlowCryptoException; returns it. */
function throwsFlow(Closure $fn, string $what = ''): FlowCryptoException
{
    try {
        $fn();
    } catch (FlowCryptoException $e) {
        check($e->getMessage() !== '', "$what: an error without a message");
        return $e;
    }
    throw new AssertionFailed("$what: no FlowCryptoException");
}

function vectorsDir(): string
{
    $dir = getenv('WFC_VECTORS');
    return $dir !== false && $dir !== '' ? $dir : __DIR__ . '/../../../tests/vectors';
}

function vector(string $path): string
{
    $data = file_get_contents(vectorsDir() . '/' . $path);
    check($data !== false, "cannot read $path");
    return $data;
}

/** @return list<array<string, mixed>> */
function vectors(string $file): array
{
    return json_decode(vector($file), true, 512, JSON_THROW_ON_ERROR)['vectors'];
}

function errorMatches(string $name, string $code, string $expected): bool
{
    if ($code === $expected) {
        return true;
    }
    if ($name === 'wrapped_key_wrong_length') {
        return in_array($code, ['malformed', 'key_unwrap'], true);
    }
    if ($expected === 'padding_or_plaintext_hash') {
        return in_array($code, ['padding', 'plaintext_hash_mismatch'], true);
    }
    return false;
}
