<?php

declare(strict_types=1);

namespace Mailproof\Tests\Unit;

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/../../tools/php74-check.php';

/** tools/php74-check.php rejects each PHP 8 form, and passes PHP 7.4 code. */
final class Php74CheckTest extends TestCase
{
    /** @return array<string, array{0: string, 1: string}> */
    public function php8Samples(): array
    {
        return [
            'match' => ['$x = match ($a) { 1 => 2, default => 3 };', 'match'],
            'nullsafe' => ['$x = $a?->b;', 'nullsafe'],
            'attribute' => ['#[Pure] function f() {}', 'attribute'],
            'enum' => ['enum Suit { case Hearts; }', 'enum'],
            'readonly property' => ['class A { public readonly int $x; }', 'readonly'],
            'constructor promotion' => ['class A { public function __construct(private int $x) {} }', 'constructor promotion'],
            'promotion without a type' => ['class A { function __construct(public $x = 1) {} }', 'constructor promotion'],
            'union parameter' => ['function f(int|string $x) {}', 'union type in a parameter'],
            'union return' => ['function f(): int|false { return 1; }', 'union type in a return'],
            'union property' => ['class A { private int|string $x; }', 'union type in a property'],
            'nullable union in a method' => ['class A { public function f(?A $a, B|C $b = null): void {} }', 'union type'],
            'intersection' => ['function f(A&B $x) {}', 'intersection'],
            'mixed parameter' => ['function f(mixed $x) {}', 'the type mixed'],
            'mixed return' => ['function f(): mixed {}', 'the type mixed'],
            'static return' => ['class A { public function f(): static { return $this; } }', 'the type static'],
            'never return' => ['function f(): never { exit; }', 'the type never'],
            'false type' => ['function f(): false { return false; }', 'the type false'],
            'closure mixed' => ['$f = function (mixed $x): int { return 1; };', 'the type mixed'],
            'arrow fn union' => ['$f = fn(int|string $x) => $x;', 'union type'],
            'named argument' => ['f(a: 1);', 'named argument a'],
            'named argument later' => ['$o->m(1, flags: 2);', 'named argument flags'],
            'named keyword argument' => ['new A(array: []);', 'named argument array'],
            'str_contains' => ['if (str_contains($a, "b")) {}', 'str_contains()'],
            'str_starts_with' => ['$x = \str_starts_with($a, "b");', 'str_starts_with()'],
            'str_ends_with' => ['$x = str_ends_with($a, "b");', 'str_ends_with()'],
            'get_debug_type' => ['echo get_debug_type($a);', 'get_debug_type()'],
            'array_is_list' => ['$x = array_is_list($a);', 'array_is_list()'],
            'throw expression' => ['$x = $a ?? throw new E();', 'throw as an expression'],
            'throw in arrow fn' => ['$f = fn() => throw new E();', 'throw as an expression'],
            'catch without variable' => ['try { f(); } catch (E) {}', 'catch without a variable'],
            'object class' => ['echo $o::class;', '$object::class'],
            'trailing comma params' => ['function f($a, $b,) {}', 'trailing comma in a parameter list'],
            'trailing comma use' => ['$f = function () use ($a, $b,) {};', 'trailing comma in a use list'],
            'first-class callable' => ['$f = strlen(...);', 'first-class callable'],
            'octal' => ['$x = 0o17;', 'octal'],
            'new in initializer' => ['function f($a = new A()) {}', 'new in an initializer'],
        ];
    }

    /** @dataProvider php8Samples */
    public function testRejects(string $code, string $what): void
    {
        $found = php74_check_source("<?php\n" . $code . "\n");
        $messages = implode("\n", array_column($found, 1));
        self::assertStringContainsString($what, $messages, "found: $messages");
    }

    public function testPassesPhp74Code(): void
    {
        $code = <<<'PHP'
<?php
declare(strict_types=1);
namespace A\B;
use C\D;
interface I { const X = 1; }
abstract class K implements I {
    private ?int $n = null;
    protected static array $cache = [];
    public $untyped;
    var $old;
    public function __construct(?int $n = null, array $opts = [], D ...$rest) { $this->n = $n; }
    public function f(?array $a = null, callable $c = null, iterable $i = [], object $o = null, self $s = null): ?string {
        $x = $a ? 1 : 2;
        $y = $a ?: null;
        $z = $a ?? [];
        $z ??= [];
        $f = fn($v) => $v * 2;
        $g = static function (int $v) use ($x): int { return $v + $x; };
        $h = array_map(static fn(int $v): int => $v, [1, 2, 3,]);
        $k = strlen(...[ 'abc' ]);
        $m = $this->match ?? null;
        $n = self::class . D::class . static::class;
        switch ($x) { case 1: throw new \RuntimeException('a'); default: break; }
        if ($x) throw new \LogicException('b');
        $flags = JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES;
        $q = $cond ? A : B;
        f($cond ? X : Y, $d ? E : F);
        $r = ['a' => 1, 'b' => $x ? 2 : 3];
        $s = 1_000_000 + 0777 + 0x1F + 0b11;
        try { f(); } catch (\A | \B $e) { }
        str_replace('a', 'b', 'c');
        $this->str_contains('x');
        D::str_contains('x');
        return null;
    }
    abstract protected function g(int $flags = \JSON_THROW_ON_ERROR | 1): void;
    public static function &ref(array &$a) { return $a; }
    public function h(): self { return $this; }
    public function i(): iterable { yield 1; }
}
function x(int $a, string ...$b): void {}
label: echo 1;
PHP;
        self::assertSame([], php74_check_source($code));
    }

    public function testTheLibraryItselfPasses(): void
    {
        $root = dirname(__DIR__, 2);
        $files = array_merge(php74_check_files($root . '/src'), [$root . '/mailproof.php']);
        self::assertGreaterThan(20, count($files));
        foreach ($files as $file) {
            self::assertSame([], php74_check_source((string) file_get_contents($file)), $file);
        }
    }
}
