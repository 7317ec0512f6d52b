<?php

declare(strict_types=1);

namespace Mailproof\Tests\Support;

use Mailproof\Exception\ConnectionException;

/** A transport that answers from a script and records what it was sent. */
final class FakeTransport
{
    /** @var array<int, array<string, mixed>> */
    public $requests = [];
    /** @var array<int, array<string, mixed>|\Throwable> */
    private $script;

    /** @param array<int, array<string, mixed>|\Throwable> $script answers (or exceptions) in turn */
    public function __construct(array $script)
    {
        $this->script = $script;
    }

    public function __invoke(array $request): array
    {
        $this->requests[] = $request;
        if ($this->script === []) {
            throw new \LogicException('no more scripted answers');
        }
        $next = array_shift($this->script);
        if ($next instanceof \Throwable) {
            throw $next;
        }
        return $next;
    }

    /** @param array<string, mixed> $data */
    public static function ok(int $status, array $data, array $headers = []): array
    {
        return ['status' => $status, 'headers' => $headers + ['x-request-id' => 'req-ok', 'content-type' => 'application/json'],
            'body' => json_encode(['success' => true, 'data' => $data])];
    }

    /** @param array<string, mixed> $details */
    public static function error(int $status, string $code, array $details = [], array $headers = []): array
    {
        return ['status' => $status, 'headers' => $headers + ['x-request-id' => 'req-err', 'content-type' => 'application/json'],
            'body' => json_encode(['success' => false, 'error' => ['code' => $code, 'message' => 'msg ' . $code,
                'details' => (object) $details]])];
    }

    public static function html(int $status): array
    {
        return ['status' => $status, 'headers' => ['content-type' => 'text/html'],
            'body' => "<html><body><h1>$status Bad Gateway</h1></body></html>"];
    }

    public static function down(): ConnectionException
    {
        return new ConnectionException('connection refused');
    }

    /** The value of a header line of recorded request $i, or null. */
    public function header(int $i, string $name): ?string
    {
        foreach ($this->requests[$i]['headers'] as $line) {
            list($n, $v) = explode(':', $line, 2);
            if (strcasecmp($n, $name) === 0) {
                return trim($v);
            }
        }
        return null;
    }
}
