<?php

/*
 * apiref.php: the API reference of the library, in Markdown, from its
 * docblocks and signatures (by reflection).
 *
 *     php tools/apiref.php                 prints it
 *     php tools/apiref.php --write README.md   puts it between the README's markers
 *     php tools/apiref.php --check README.md   exits 1 if the README's copy is stale
 *
 * The markers are the lines `<!-- apiref:start -->` and `<!-- apiref:end -->`.
 */

declare(strict_types=1);

require_once __DIR__ . '/../mailproof.php';

const APIREF_START = '<!-- apiref:start -->';
const APIREF_END = '<!-- apiref:end -->';
/** A type in a docblock, generics and shapes included: array<string, mixed>, array{a: int}. */
const APIREF_TYPE = '((?:[^\s<{]|<[^>]*>|\{[^}]*\})+)';

/** A docblock as text: the leading stars gone, tags kept. */
function apiref_doc(string $doc): string
{
    $doc = preg_replace('#^/\*\*|\*/$#', '', trim($doc)) ?? '';
    $lines = [];
    foreach (explode("\n", $doc) as $line) {
        $lines[] = preg_replace('/^\s*\* ?/', '', rtrim($line)) ?? '';
    }
    return trim(implode("\n", $lines));
}

/** The prose of a docblock (before its first tag), as one paragraph per blank-line-separated block. */
function apiref_prose(string $doc): string
{
    $text = apiref_doc($doc);
    $at = preg_match('/^@/m', $text, $m, PREG_OFFSET_CAPTURE) ? $m[0][1] : strlen($text);
    $prose = trim(substr($text, 0, $at));
    $paras = preg_split('/\n\s*\n/', $prose) ?: [];
    return implode("\n\n", array_map(static function (string $p): string {
        return preg_replace('/\s*\n\s*/', ' ', trim($p)) ?? '';
    }, $paras));
}

/**
 * The tags of a docblock: [tag, text] with continuation lines joined.
 *
 * @return array<int, array{0: string, 1: string}>
 */
function apiref_tags(string $doc): array
{
    $tags = [];
    foreach (explode("\n", apiref_doc($doc)) as $line) {
        if (preg_match('/^@(\w+)\s*(.*)$/', $line, $m)) {
            $tags[] = [$m[1], $m[2]];
        } elseif ($tags !== [] && trim($line) !== '') {
            $tags[count($tags) - 1][1] .= "\n" . trim($line);
        }
    }
    return $tags;
}

function apiref_type(?ReflectionType $t): string
{
    if ($t === null) {
        return '';
    }
    $name = $t instanceof ReflectionNamedType ? $t->getName() : (string) $t;
    if ($t instanceof ReflectionNamedType && !$t->isBuiltin()) {
        $name = '\\' . ltrim($name, '\\');
        $name = preg_replace('/^\\\\Mailproof\\\\/', '', $name) ?? $name;
    }
    return ($t->allowsNull() && $name !== 'mixed' && $name !== 'null' ? '?' : '') . $name;
}

function apiref_signature(ReflectionMethod $m): string
{
    $params = [];
    foreach ($m->getParameters() as $p) {
        $s = apiref_type($p->getType());
        $s .= ($s === '' ? '' : ' ') . ($p->isVariadic() ? '...' : '') . '$' . $p->getName();
        if ($p->isDefaultValueAvailable()) {
            if ($p->isDefaultValueConstant()) {
                $s .= ' = ' . preg_replace('/^.*\\\\/', '', (string) $p->getDefaultValueConstantName());
            } else {
                $v = $p->getDefaultValue();
                $s .= ' = ' . ($v === [] ? '[]' : ($v === null ? 'null' : var_export($v, true)));
            }
        }
        $params[] = $s;
    }
    $ret = apiref_type($m->getReturnType());
    return ($m->isStatic() ? 'static ' : '') . $m->getName() . '(' . implode(', ', $params) . ')' . ($ret === '' ? '' : ': ' . $ret);
}

function apiref_method(ReflectionMethod $m): string
{
    $doc = (string) $m->getDocComment();
    $out = '#### `' . apiref_signature($m) . "`\n\n";
    $prose = apiref_prose($doc);
    if ($prose !== '') {
        $out .= $prose . "\n\n";
    }
    foreach (apiref_tags($doc) as list($tag, $text)) {
        // continuation lines join the line before, except the items of a list
        $text = preg_replace('/\n(?!- )/', ' ', $text) ?? $text;
        $text = str_replace("\n- ", "\n  - ", $text);
        if ($tag === 'param') {
            $text = preg_replace('/^' . APIREF_TYPE . '\s+(\$\w+)\s*/', '`$2` ($1): ', $text) ?? $text;
            $out .= '- ' . rtrim($text, ': ') . "\n";
        } elseif ($tag === 'return') {
            $out .= rtrim('- returns ' . (preg_replace('/^' . APIREF_TYPE . '\s*/', '($1) ', $text) ?? $text)) . "\n";
        } elseif ($tag === 'throws') {
            $out .= '- throws ' . (preg_replace('/^(\S+)/', '`$1`', $text) ?? $text) . "\n";
        }
    }
    return rtrim($out) . "\n\n";
}

function apiref_class(string $class): string
{
    $r = new ReflectionClass($class);
    $out = '### ' . ($r->isInterface() ? 'interface ' : ($r->isFinal() ? 'final class ' : 'class ')) . '`' . $r->getName() . '`'
        . ($r->getParentClass() ? ' extends `' . $r->getParentClass()->getName() . '`' : '') . "\n\n";
    $prose = apiref_prose((string) $r->getDocComment());
    if ($prose !== '') {
        $out .= $prose . "\n\n";
    }
    $consts = [];
    foreach ($r->getReflectionConstants() as $c) {
        if ($c->getDeclaringClass()->getName() === $class && $c->isPublic() && !is_array($c->getValue())) {
            $consts[] = '- `' . $c->getName() . ' = ' . var_export($c->getValue(), true) . '`'
                . (apiref_prose((string) $c->getDocComment()) !== '' ? ': ' . apiref_prose((string) $c->getDocComment()) : '');
        }
    }
    if ($consts !== []) {
        $out .= "Constants:\n\n" . implode("\n", $consts) . "\n\n";
    }
    foreach ($r->getMethods(ReflectionMethod::IS_PUBLIC) as $m) {
        if ($m->getDeclaringClass()->getName() !== $class || strpos((string) $m->getDocComment(), '@internal') !== false) {
            continue;
        }
        $out .= apiref_method($m);
    }
    return $out;
}

/** The exceptions as a table: class, codes, status, what it adds. */
function apiref_exceptions(): string
{
    $byClass = [];
    $codes = (new ReflectionClass(\Mailproof\Exception\ErrorCode::class))->getConstants();
    foreach (\Mailproof\Exception\ApiException::CLASSES as $code => $class) {
        $byClass[$class][] = $code;
    }
    $out = "| class (`Mailproof\\Exception\\`) | error code(s) | what it adds |\n|---|---|---|\n";
    foreach ($byClass as $class => $list) {
        $r = new ReflectionClass($class);
        $extra = [];
        foreach ($r->getMethods(ReflectionMethod::IS_PUBLIC) as $m) {
            if ($m->getDeclaringClass()->getName() === $class) {
                $extra[] = '`' . apiref_signature($m) . '`';
            }
        }
        $parent = $r->getParentClass() ? $r->getParentClass()->getShortName() : '';
        $out .= sprintf("| `%s`%s | %s | %s |\n", $r->getShortName(), $parent !== 'ApiException' ? " (extends `$parent`)" : '',
            implode(', ', array_map(static function (string $c): string {
                return "`$c`";
            }, $list)), $extra === [] ? '' : implode(', ', $extra));
    }
    $missing = array_diff(array_values($codes), array_keys(\Mailproof\Exception\ApiException::CLASSES));
    if ($missing !== []) {
        throw new LogicException('codes without a class: ' . implode(', ', $missing));
    }
    return $out . "\n";
}

function apiref(): string
{
    $out = "<!-- Generated by `php tools/apiref.php --write README.md` from the docblocks; do not edit by hand. -->\n\n";
    foreach ([\Mailproof\Client::class, \Mailproof\Webhook::class] as $class) {
        $out .= apiref_class($class);
    }
    $out .= "### Exceptions\n\n";
    $out .= "Every exception implements `Mailproof\\Exception\\ExceptionInterface`. Run-time failures extend "
        . "`Mailproof\\Exception\\MailproofException` (a `\\RuntimeException`); mistakes in the calling code (a malformed id, "
        . "an unknown option, a secret that is not base64) throw `Mailproof\\Exception\\InvalidArgumentException` "
        . "(a `\\InvalidArgumentException`) before any request is made.\n\n";
    foreach ([\Mailproof\Exception\ApiException::class, \Mailproof\Exception\ConnectionException::class,
                 \Mailproof\Exception\WebhookVerificationFailed::class] as $class) {
        $out .= apiref_class($class);
    }
    $out .= "#### The subclasses of `ApiException`, by error code\n\n";
    $out .= "Each code is also a constant of `Mailproof\\Exception\\ErrorCode` (and so of `ApiException`): "
        . "`ApiException::INVALID_CODE === 'INVALID_CODE'`. A code this version does not know arrives as `ApiException`.\n\n";
    $out .= apiref_exceptions();
    $out .= "### Transports\n\n";
    $out .= apiref_class(\Mailproof\Transport\TransportInterface::class);
    $out .= apiref_class(\Mailproof\Transport\CurlTransport::class);
    $out .= apiref_class(\Mailproof\Transport\StreamTransport::class);
    return rtrim($out) . "\n";
}

if (PHP_SAPI === 'cli' && isset($argv[0]) && realpath($argv[0]) === __FILE__) {
    $ref = apiref();
    if (count($argv) === 1) {
        echo $ref;
        exit(0);
    }
    if (count($argv) !== 3 || !in_array($argv[1], ['--write', '--check'], true)) {
        fwrite(STDERR, "usage: php tools/apiref.php [--write|--check README.md]\n");
        exit(2);
    }
    $file = $argv[2];
    $text = (string) @file_get_contents($file);
    $a = strpos($text, APIREF_START);
    $b = strpos($text, APIREF_END);
    if ($a === false || $b === false || $b < $a) {
        fwrite(STDERR, "$file has no " . APIREF_START . ' ... ' . APIREF_END . " section\n");
        exit(2);
    }
    $new = substr($text, 0, $a) . APIREF_START . "\n" . $ref . APIREF_END . substr($text, $b + strlen(APIREF_END));
    if ($argv[1] === '--write') {
        file_put_contents($file, $new);
        exit(0);
    }
    if ($new !== $text) {
        fwrite(STDERR, "$file: the API reference is stale: run php tools/apiref.php --write $file\n");
        exit(1);
    }
    exit(0);
}
