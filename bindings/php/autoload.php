<?php

declare(strict_types=1);

// For use without Composer (the tests, the example, a plain require): what composer.json's
// PSR-4 and "files" autoload do.
spl_autoload_register(static function (string $class): void {
    $prefix = 'WaFlowsCrypto\\';
    if (str_starts_with($class, $prefix)) {
        $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
require_once __DIR__ . '/src/functions.php';
