<?php

declare(strict_types=1);

// A self-contained test runner (PHPUnit is not needed): every tests/*Test.php registers
// closures with test(); this runs them, prints one line each, and exits 1 if any failed.
// Usage: php tests/run.php [NAME-FILTER]

// A notice or warning is a failure, not noise (@-silenced calls excepted).
set_error_handler(static function (int $severity, string $message, string $file, int $line): bool {
    if ((error_reporting() & $severity) === 0) {
        return false;
    }
    throw new ErrorException($message, 0, $severity, $file, $line);
});

require __DIR__ . '/../autoload.php';
require __DIR__ . '/assert.php';

foreach (glob(__DIR__ . '/*Test.php') as $file) {
    require $file;
}

$filter = $argv[1] ?? '';
$passed = $failed = 0;
foreach (Tests::$tests as $name => $fn) {
    if ($filter !== '' && !str_contains($name, $filter)) {
        continue;
    }
    $started = microtime(true);
    try {
        $fn();
        $passed++;
        printf("ok   %s (%.0f ms)\n", $name, (microtime(true) - $started) * 1000);
    } catch (Throwable $e) {
        $failed++;
        printf("FAIL %s\n     %s: %s\n     at %s:%d\n", $name, get_class($e), $e->getMessage(), $e->getFile(), $e->getLine());
        foreach (array_slice($e->getTrace(), 0, 4) as $frame) {
            printf("     from %s:%s\n", $frame['file'] ?? '?', $frame['line'] ?? '?');
        }
    }
}
printf("\n%d passed, %d failed\n", $passed, $failed);
exit($failed === 0 && $passed > 0 ? 0 : 1);
