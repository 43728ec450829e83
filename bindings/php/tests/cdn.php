<?php

declare(strict_types=1);

// A fake CDN for the example's end-to-end test (run with php -S): /NAME serves the CDN file of
// media.json's case NAME, /redirect/NAME redirects there, /missing is 404.

$vectors = getenv('WFC_VECTORS') ?: __DIR__ . '/../../../tests/vectors';
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if (str_starts_with($path, '/redirect/')) {
    header('Location: /' . substr($path, strlen('/redirect/')), true, 302);
    return;
}
$cases = array_column(json_decode(file_get_contents("$vectors/media.json"), true)['vectors'], 'file', 'name');
$name = substr($path, 1);
if (!isset($cases[$name])) {
    http_response_code(404);
    echo 'not found';
    return;
}
header('Content-Type: application/octet-stream');
readfile("$vectors/{$cases[$name]}");
