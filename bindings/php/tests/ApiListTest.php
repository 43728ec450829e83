<?php

declare(strict_types=1);

// api.txt is the package's public API, one declaration a line, so that a change to it is
// deliberate. WFC_UPDATE_API=1 php tests/run.php api rewrites it. @internal members are left out.

function publicApi(): array
{
    foreach (glob(__DIR__ . '/../src/*.php') as $file) {
        require_once $file;
    }
    $internal = fn (ReflectionFunctionAbstract|ReflectionClass $r) => str_contains((string) $r->getDocComment(), '@internal');
    $signature = function (ReflectionFunctionAbstract $f): string {
        $params = array_map(fn (ReflectionParameter $p) => ($p->getType() ?? 'mixed') . ' $' . $p->getName() . ($p->isOptional() ? ' = …' : ''), $f->getParameters());
        $return = $f->hasReturnType() ? ': ' . $f->getReturnType() : '';
        return $f->getShortName() . '(' . implode(', ', $params) . ')' . $return;
    };
    $lines = [];
    foreach (get_declared_classes() as $class) {
        $r = new ReflectionClass($class);
        if ($r->getNamespaceName() !== 'WaFlowsCrypto' || $internal($r)) {
            continue;
        }
        $lines[] = 'class ' . $r->getShortName();
        foreach ($r->getReflectionConstants(ReflectionClassConstant::IS_PUBLIC) as $c) {
            $lines[] = $r->getShortName() . '::' . $c->getName();
        }
        foreach ($r->getProperties(ReflectionProperty::IS_PUBLIC) as $p) {
            $lines[] = $r->getShortName() . '->' . $p->getName() . ': ' . $p->getType();
        }
        foreach ($r->getMethods(ReflectionMethod::IS_PUBLIC) as $m) {
            if ($m->getDeclaringClass()->getName() === $class && !$internal($m) && !str_starts_with($m->getName(), '__')) {
                $lines[] = $r->getShortName() . ($m->isStatic() ? '::' : '->') . $signature($m);
            }
        }
    }
    foreach (get_defined_functions()['user'] as $function) {
        $f = new ReflectionFunction($function);
        if ($f->getNamespaceName() === 'WaFlowsCrypto' && !$internal($f)) {
            $lines[] = 'function ' . $signature($f);
        }
    }
    sort($lines);
    return $lines;
}

test('api.txt lists the public API', function (): void {
    $path = __DIR__ . '/../api.txt';
    $actual = implode("\n", publicApi()) . "\n";
    if (getenv('WFC_UPDATE_API') === '1') {
        file_put_contents($path, $actual);
    }
    $listed = is_file($path) ? file_get_contents($path) : '';
    if ($listed !== $actual) {
        $gone = array_diff(explode("\n", $listed), explode("\n", $actual));
        $new = array_diff(explode("\n", $actual), explode("\n", $listed));
        throw new AssertionFailed("the public API differs from bindings/php/api.txt (WFC_UPDATE_API=1 php tests/run.php api rewrites it)\n"
            . '     gone: ' . implode(' | ', $gone) . "\n     new: " . implode(' | ', $new));
    }
});
