<?php

/*
 * php74-check.php: finds syntax and functions that PHP 7.4 lacks, for the
 * library to keep working on PHP 7.4 while it is tested on a newer PHP.
 * It reads PHP's own tokens (token_get_all, so it must itself run on PHP 8)
 * and reports: match, ?->, attributes, enums, readonly, constructor
 * promotion, union and intersection types, the types mixed, static, never,
 * null, false and true, named arguments, throw as an expression, catch
 * without a variable, $object::class, a trailing comma in a parameter or
 * use list, first-class callables f(...), 0o octals, new in initializers,
 * and the functions PHP 8 added (str_contains, str_starts_with, ...).
 *
 *     php tools/php74-check.php FILE|DIR...
 *
 * prints one line per finding (file:line: what) and exits 1 if any, 0 if
 * none, 2 on a usage error. The tests include it and call
 * php74_check_source() on samples.
 */

declare(strict_types=1);

/** The functions PHP 8.0 to 8.4 added that a PHP 7.4 program would call. */
const PHP74_CHECK_NEW_FUNCTIONS = [
    'str_contains', 'str_starts_with', 'str_ends_with', 'get_debug_type', 'get_resource_id', 'fdiv',
    'preg_last_error_msg', 'array_is_list', 'enum_exists', 'fsync', 'fdatasync', 'array_find',
    'array_find_key', 'array_any', 'array_all', 'mb_str_pad', 'mb_trim', 'mb_ltrim', 'mb_rtrim',
    'json_validate', 'str_increment', 'str_decrement', 'memory_reset_peak_usage', 'ini_parse_quantity',
];

/** Types PHP 7.4 does not have. */
const PHP74_CHECK_NEW_TYPES = ['mixed', 'static', 'never', 'null', 'false', 'true'];

/**
 * The findings in one file's source: a list of [line, message].
 *
 * @return array<int, array{0: int, 1: string}>
 */
function php74_check_source(string $code): array
{
    $out = [];
    $raw = token_get_all($code);
    // significant tokens only, as [id, text, line]; single characters get id 0
    $t = [];
    $line = 1;
    foreach ($raw as $tok) {
        if (is_array($tok)) {
            $line = $tok[2];
            if (in_array($tok[0], [T_WHITESPACE, T_COMMENT, T_DOC_COMMENT], true)) {
                continue;
            }
            $t[] = [$tok[0], $tok[1], $tok[2]];
        } else {
            $t[] = [0, $tok, $line];
        }
    }
    $n = count($t);
    $id = static function (string $name): int {
        return defined($name) ? (int) constant($name) : -1;
    };
    $tokenNames = [
        'T_MATCH' => 'match (PHP 8.0)',
        'T_NULLSAFE_OBJECT_OPERATOR' => 'the nullsafe operator ?-> (PHP 8.0)',
        'T_ATTRIBUTE' => 'an attribute #[...] (PHP 8.0)',
        'T_ENUM' => 'an enum (PHP 8.1)',
        'T_READONLY' => 'readonly (PHP 8.1)',
    ];
    $nameIds = [T_STRING, $id('T_NAME_FULLY_QUALIFIED'), $id('T_NAME_QUALIFIED'), $id('T_NAME_RELATIVE')];
    $is = static function (int $i, string $text) use ($t, $n): bool {
        return $i >= 0 && $i < $n && $t[$i][0] === 0 && $t[$i][1] === $text;
    };
    $isKeywordLike = static function (array $tok): bool {
        // an identifier, or a keyword used as a name (PHP 8 allows f(array: ...))
        return $tok[0] !== 0 && $tok[0] !== T_VARIABLE && preg_match('/^[A-Za-z_][A-Za-z0-9_]*\z/', $tok[1]) === 1;
    };
    // Where each parenthesis closes, and which open a parameter list.
    $close = [];
    $stack = [];
    for ($i = 0; $i < $n; $i++) {
        if ($t[$i][0] === 0 && ($t[$i][1] === '(' || $t[$i][1] === '[' || $t[$i][1] === '{')) {
            $stack[] = $i;
        } elseif ($t[$i][0] === T_CURLY_OPEN || $t[$i][0] === T_DOLLAR_OPEN_CURLY_BRACES) {
            $stack[] = $i;
        } elseif ($t[$i][0] === 0 && ($t[$i][1] === ')' || $t[$i][1] === ']' || $t[$i][1] === '}')) {
            $open = array_pop($stack);
            if ($open !== null) {
                $close[$open] = $i;
            }
        }
    }
    for ($i = 0; $i < $n; $i++) {
        list($tid, $text, $ln) = $t[$i];
        foreach ($tokenNames as $const => $what) {
            if ($tid === $id($const)) {
                $out[] = [$ln, $what];
            }
        }
        // calls of functions PHP 7.4 lacks
        if (in_array($tid, $nameIds, true) && $is($i + 1, '(')) {
            $fn = strtolower(ltrim($text, '\\'));
            $prev = $i > 0 ? $t[$i - 1][0] : 0;
            $method = in_array($prev, [T_OBJECT_OPERATOR, T_DOUBLE_COLON, T_FUNCTION, T_NEW, $id('T_NULLSAFE_OBJECT_OPERATOR')], true);
            if (!$method && in_array($fn, PHP74_CHECK_NEW_FUNCTIONS, true)) {
                $out[] = [$ln, "$fn() (PHP 8)"];
            }
        }
        // 0o octal literals
        if ($tid === T_LNUMBER && preg_match('/^0[oO]/', $text)) {
            $out[] = [$ln, 'an 0o octal literal (PHP 8.1)'];
        }
        // $object::class
        if ($tid === T_VARIABLE && $i + 2 < $n && $t[$i + 1][0] === T_DOUBLE_COLON && $t[$i + 2][0] === T_CLASS) {
            $out[] = [$ln, '$object::class (PHP 8.0)'];
        }
        // throw as an expression
        if ($tid === T_THROW && $i > 0) {
            $p = $t[$i - 1];
            $exprBefore = in_array($p[0], [T_COALESCE, T_DOUBLE_ARROW, T_BOOLEAN_AND, T_BOOLEAN_OR, T_LOGICAL_AND, T_LOGICAL_OR], true)
                || ($p[0] === 0 && in_array($p[1], ['=', '?', '(', ','], true));
            if ($exprBefore) {
                $out[] = [$ln, 'throw as an expression (PHP 8.0)'];
            }
        }
        // catch (E) without a variable
        if ($tid === T_CATCH && $is($i + 1, '(') && isset($close[$i + 1])) {
            $hasVar = false;
            for ($j = $i + 2; $j < $close[$i + 1]; $j++) {
                $hasVar = $hasVar || $t[$j][0] === T_VARIABLE;
            }
            if (!$hasVar) {
                $out[] = [$ln, 'catch without a variable (PHP 8.0)'];
            }
        }
        // first-class callable syntax f(...)
        if ($is($i, '(') && $i + 2 < $n && $t[$i + 1][0] === T_ELLIPSIS && $is($i + 2, ')')) {
            $out[] = [$ln, 'a first-class callable f(...) (PHP 8.1)'];
        }
        // named arguments: ( or , then a name then a single colon, inside a call's parentheses
        if (($is($i, '(') || $is($i, ',')) && $i + 2 < $n && $isKeywordLike($t[$i + 1]) && $is($i + 2, ':')) {
            // the enclosing bracket must be a ( of a call, not a [ or {
            $depth = 0;
            $encl = null;
            for ($j = $i - ($is($i, '(') ? 0 : 1); $j >= 0; $j--) {
                if ($t[$j][0] === 0 && in_array($t[$j][1], [')', ']', '}'], true)) {
                    $depth++;
                } elseif (($t[$j][0] === 0 && in_array($t[$j][1], ['(', '[', '{'], true)) || $t[$j][0] === T_CURLY_OPEN
                    || $t[$j][0] === T_DOLLAR_OPEN_CURLY_BRACES) {
                    if ($depth === 0) {
                        $encl = $j;
                        break;
                    }
                    $depth--;
                }
            }
            if ($encl !== null && $is($encl, '(') && $encl > 0) {
                $before = $t[$encl - 1];
                $callish = in_array($before[0], array_merge($nameIds, [T_VARIABLE, T_STATIC, T_CLASS]), true)
                    || ($before[0] === 0 && in_array($before[1], [')', ']'], true));
                if ($callish) {
                    $out[] = [$t[$i + 1][2], 'a named argument ' . $t[$i + 1][1] . ': (PHP 8.0)'];
                }
            }
        }
        // signatures: function [&] [name] ( params ) [use (...)] [: type]
        if ($tid === T_FUNCTION || $tid === T_FN) {
            $j = $i + 1;
            if ($j < $n && ($is($j, '&') || $t[$j][0] === $id('T_AMPERSAND_FOLLOWED_BY_VAR_OR_VARARG')
                || $t[$j][0] === $id('T_AMPERSAND_NOT_FOLLOWED_BY_VAR_OR_VARARG'))) {
                $j++;
            }
            $name = '';
            if ($j < $n && $isKeywordLike($t[$j]) && !$is($j, '(')) {
                $name = strtolower($t[$j][1]);
                $j++;
            }
            if (!$is($j, '(') || !isset($close[$j])) {
                continue;
            }
            $end = $close[$j];
            php74_check_params($t, $j + 1, $end, $name === '__construct', $out, $id);
            $k = $end + 1;
            if ($k < $n && $t[$k][0] === T_USE && $is($k + 1, '(') && isset($close[$k + 1])) {
                if ($is($close[$k + 1] - 1, ',')) {
                    $out[] = [$t[$close[$k + 1]][2], 'a trailing comma in a use list (PHP 8.0)'];
                }
                $k = $close[$k + 1] + 1;
            }
            if ($is($k, ':')) {
                $types = [];
                for ($m = $k + 1; $m < $n && !$is($m, '{') && !$is($m, ';') && $t[$m][0] !== T_DOUBLE_ARROW; $m++) {
                    $types[] = $t[$m];
                }
                php74_check_type($types, $out, 'a return type', true, $id);
            }
        }
        // typed properties: visibility/static/var modifiers, a type, then a variable
        if (in_array($tid, [T_PUBLIC, T_PROTECTED, T_PRIVATE, T_VAR], true) || ($tid === T_STATIC && $i > 0
            && in_array($t[$i - 1][0], [T_PUBLIC, T_PROTECTED, T_PRIVATE], true))) {
            $m = $i + 1;
            while ($m < $n && in_array($t[$m][0], [T_STATIC, $id('T_READONLY')], true)) {
                $m++;
            }
            $types = [];
            while ($m < $n && $t[$m][0] !== T_VARIABLE && !$is($m, ';') && !$is($m, '(') && $t[$m][0] !== T_FUNCTION
                && $t[$m][0] !== T_CONST && $t[$m][0] !== T_STATIC && !$is($m, '=')) {
                $types[] = $t[$m];
                $m++;
            }
            if ($m < $n && $t[$m][0] === T_VARIABLE && $types !== []) {
                php74_check_type($types, $out, 'a property type', false, $id);
            }
        }
    }
    usort($out, static function (array $a, array $b): int {
        return $a[0] <=> $b[0];
    });
    return $out;
}

/**
 * Checks a parameter list: tokens $from to $to (exclusive).
 *
 * @param array<int, array{0: int, 1: string, 2: int}> $t
 * @param array<int, array{0: int, 1: string}> $out
 */
function php74_check_params(array $t, int $from, int $to, bool $constructor, array &$out, callable $id): void
{
    if ($from >= $to) {
        return;
    }
    if ($t[$to - 1][0] === 0 && $t[$to - 1][1] === ',') {
        $out[] = [$t[$to - 1][2], 'a trailing comma in a parameter list (PHP 8.0)'];
    }
    // split at the commas of this level
    $params = [];
    $cur = [];
    $depth = 0;
    for ($i = $from; $i < $to; $i++) {
        $tok = $t[$i];
        if ($tok[0] === 0 && in_array($tok[1], ['(', '[', '{'], true)) {
            $depth++;
        } elseif ($tok[0] === 0 && in_array($tok[1], [')', ']', '}'], true)) {
            $depth--;
        }
        if ($depth === 0 && $tok[0] === 0 && $tok[1] === ',') {
            $params[] = $cur;
            $cur = [];
            continue;
        }
        $cur[] = $tok;
    }
    if ($cur !== []) {
        $params[] = $cur;
    }
    foreach ($params as $p) {
        $types = [];
        $k = 0;
        $mods = [T_PUBLIC, T_PROTECTED, T_PRIVATE, $id('T_READONLY')];
        while ($k < count($p) && in_array($p[$k][0], $mods, true)) {
            $out[] = [$p[$k][2], ($constructor ? 'constructor promotion' : 'a modifier on a parameter') . ' (PHP 8.0)'];
            $k++;
        }
        for (; $k < count($p); $k++) {
            $tok = $p[$k];
            if ($tok[0] === T_VARIABLE || $tok[0] === T_ELLIPSIS || $tok[0] === $id('T_AMPERSAND_FOLLOWED_BY_VAR_OR_VARARG')) {
                break;
            }
            $types[] = $tok;
        }
        // default values: new in an initializer
        for ($m = $k; $m < count($p); $m++) {
            if ($p[$m][0] === T_NEW) {
                $out[] = [$p[$m][2], 'new in an initializer (PHP 8.1)'];
            }
        }
        if ($types !== []) {
            php74_check_type($types, $out, 'a parameter type', false, $id);
        }
    }
}

/**
 * Checks one type declaration's tokens.
 *
 * @param array<int, array{0: int, 1: string, 2: int}> $types
 * @param array<int, array{0: int, 1: string}> $out
 */
function php74_check_type(array $types, array &$out, string $where, bool $isReturn, callable $id): void
{
    foreach ($types as $tok) {
        if ($tok[0] === 0 && $tok[1] === '|') {
            $out[] = [$tok[2], "a union type in $where (PHP 8.0)"];
        } elseif (($tok[0] === 0 && $tok[1] === '&') || $tok[0] === $id('T_AMPERSAND_NOT_FOLLOWED_BY_VAR_OR_VARARG')) {
            $out[] = [$tok[2], "an intersection type in $where (PHP 8.1)"];
        } elseif ($tok[0] === 0 && ($tok[1] === '(' || $tok[1] === ')')) {
            $out[] = [$tok[2], "a DNF type in $where (PHP 8.2)"];
        } elseif ($tok[0] !== 0 && in_array(strtolower($tok[1]), PHP74_CHECK_NEW_TYPES, true)) {
            $out[] = [$tok[2], 'the type ' . strtolower($tok[1]) . " in $where (PHP 8)"];
        }
    }
}

/** The PHP files of a file or directory, recursively. */
function php74_check_files(string $path): array
{
    if (is_file($path)) {
        return [$path];
    }
    $files = [];
    $it = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($path, FilesystemIterator::SKIP_DOTS));
    foreach ($it as $f) {
        if ($f->isFile() && preg_match('/\.(php|phtml|inc)\z/', $f->getFilename())) {
            $files[] = $f->getPathname();
        }
    }
    sort($files);
    return $files;
}

if (PHP_SAPI === 'cli' && isset($argv[0]) && realpath($argv[0]) === __FILE__) {
    if (count($argv) < 2) {
        fwrite(STDERR, "usage: php php74-check.php FILE|DIR...\n");
        exit(2);
    }
    if (PHP_VERSION_ID < 80000) {
        fwrite(STDERR, "php74-check.php reads PHP 8's tokens: run it with PHP 8\n");
        exit(2);
    }
    $found = 0;
    $checked = 0;
    foreach (array_slice($argv, 1) as $path) {
        if (!file_exists($path)) {
            fwrite(STDERR, "php74-check: no such file or directory: $path\n");
            exit(2);
        }
        foreach (php74_check_files($path) as $file) {
            $checked++;
            foreach (php74_check_source((string) file_get_contents($file)) as list($line, $what)) {
                echo "$file:$line: $what\n";
                $found++;
            }
        }
    }
    fwrite(STDERR, sprintf("php74-check: %d file%s, %d finding%s\n", $checked, $checked === 1 ? '' : 's', $found, $found === 1 ? '' : 's'));
    exit($found ? 1 : 0);
}
