<?php

declare(strict_types=1);

namespace Mailproof\Tests\Support;

use Mailproof\Client;
use PHPUnit\Framework\TestCase;

/**
 * The running stack the integration tests talk to, from the environment
 * that tests/integration/test_90_php_client.py sets:
 * MAILPROOF_URL, MAILPROOF_KEY, MAILPROOF_READONLY_KEY, MAILPROOF_MAILDIR,
 * MAILPROOF_PSQL (a libpq connection string for psql), MAILPROOF_QUOTA_KEY,
 * MAILPROOF_LIMITED_KEY, MAILPROOF_SUPPRESSED_EMAIL.
 */
final class Stack
{
    /** The variable's value, or the test is skipped saying which is missing. */
    public static function env(TestCase $test, string $name): string
    {
        $v = getenv($name);
        if ($v === false || $v === '') {
            $test->markTestSkipped("$name is not set: run tests/integration/run.py test_90_php_client");
        }
        return (string) $v;
    }

    /** @param array<string, mixed> $options */
    public static function client(TestCase $test, string $keyVar = 'MAILPROOF_KEY', array $options = []): Client
    {
        return new Client(self::env($test, $keyVar), $options + ['baseUrl' => self::env($test, 'MAILPROOF_URL')]);
    }

    public static function address(string $local = 'php'): string
    {
        return sprintf('%s-%s@example.com', $local, bin2hex(random_bytes(5)));
    }

    /**
     * The text parts of every caught mail to $address, oldest first; waits
     * up to $timeout seconds for at least $count.
     *
     * @return string[]
     */
    public static function mails(TestCase $test, string $address, int $count = 1, float $timeout = 10.0): array
    {
        $dir = self::env($test, 'MAILPROOF_MAILDIR');
        $end = microtime(true) + $timeout;
        do {
            $found = [];
            $names = scandir($dir) ?: [];
            sort($names);
            foreach ($names as $name) {
                if ($name[0] === '.' || substr($name, -4) !== '.eml') {
                    continue;
                }
                $raw = (string) @file_get_contents($dir . '/' . $name);
                if (strpos($raw, "X-Envelope-To: $address\r\n") !== false) {
                    $found[] = self::textPart($raw);
                }
            }
            if (count($found) >= $count) {
                return $found;
            }
            usleep(100000);
        } while (microtime(true) < $end);
        $test->fail(sprintf('%d mail(s) to %s, not %d, after %.0f s', count($found), $address, $count, $timeout));
    }

    /** How many mails to $address are caught now. */
    public static function mailCount(TestCase $test, string $address): int
    {
        return count(self::mails($test, $address, 0, 0.0));
    }

    /** The code of the $index-th mail to $address (-1: the last), on its line indented by four spaces. */
    public static function code(TestCase $test, string $address, int $index = -1, int $count = 1): string
    {
        $mails = self::mails($test, $address, $count);
        $text = $mails[$index < 0 ? count($mails) + $index : $index];
        if (!preg_match('/^ {4}(\S+)\r?$/m', $text, $m)) {
            $test->fail("no code in the mail: $text");
        }
        return $m[1];
    }

    /** The decoded text/plain part of a raw MIME message. */
    private static function textPart(string $raw): string
    {
        $split = preg_split("/\r?\n\r?\n/", $raw, 2);
        $head = $split[0];
        $body = $split[1] ?? '';
        if (preg_match('/boundary="?([^";\r\n]+)"?/i', $head, $b)) {
            foreach (explode('--' . $b[1], $body) as $part) {
                $p = preg_split("/\r?\n\r?\n/", ltrim($part, "\r\n"), 2);
                if (count($p) === 2 && stripos($p[0], 'text/plain') !== false) {
                    return self::decode($p[0], $p[1]);
                }
            }
        }
        return self::decode($head, $body);
    }

    private static function decode(string $headers, string $body): string
    {
        if (stripos($headers, 'quoted-printable') !== false) {
            return quoted_printable_decode($body);
        }
        if (stripos($headers, 'Content-Transfer-Encoding: base64') !== false) {
            return (string) base64_decode($body);
        }
        return $body;
    }

    /**
     * Runs one SQL statement in the service's database with psql; returns its rows as text.
     *
     * @return string[]
     */
    public static function psql(TestCase $test, string $sql): array
    {
        $conn = self::env($test, 'MAILPROOF_PSQL');
        $proc = proc_open(['psql', $conn, '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', $sql],
            [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        if (!is_resource($proc)) {
            $test->fail('psql did not start');
        }
        $out = (string) stream_get_contents($pipes[1]);
        $err = (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        if (proc_close($proc) !== 0) {
            $test->fail("psql: $err");
        }
        return array_values(array_filter(explode("\n", $out), 'strlen'));
    }

    /** A verification id, checked before it goes into SQL. */
    public static function sqlId(string $id): string
    {
        if (!preg_match('/^ev_[0-9A-Z]{26}\z/', $id)) {
            throw new \InvalidArgumentException("not an id: $id");
        }
        return "'" . $id . "'";
    }
}
