<?php

declare(strict_types=1);

namespace Mailproof\Tests\Unit;

use Mailproof\Client;
use Mailproof\Exception\ApiException;
use Mailproof\Exception\ConnectionException;
use Mailproof\Exception\EmailSendFailed;
use Mailproof\Exception\InternalError;
use Mailproof\Exception\InvalidCode;
use Mailproof\Exception\RateLimited;
use Mailproof\Exception\Unavailable;
use Mailproof\Tests\Support\FakeTransport as T;
use PHPUnit\Framework\TestCase;

/** The retry policy, with a scripted transport and a sleep that only records. */
final class ClientRetryTest extends TestCase
{
    /** @var float[] */
    private $slept = [];

    /** @param array<string, mixed> $options */
    private function client(T $t, array $options = []): Client
    {
        return new Client('mp_test_key', $options + [
            'baseUrl' => 'https://api.example/mp/',
            'transport' => $t,
            'sleep' => function (float $s): void {
                $this->slept[] = $s;
            },
        ]);
    }

    private const V = ['id' => 'ev_01', 'status' => 'PENDING'];

    public function testANonJson502ThenA201RetriesAnIdempotentStartWithTheSameKey(): void
    {
        $t = new T([T::html(502), T::ok(201, self::V)]);
        $data = $this->client($t)->start('a@example.com', ['userId' => 'u1', 'idempotencyKey' => 'signup-1']);
        self::assertSame('ev_01', $data['id']);
        self::assertCount(2, $t->requests);
        self::assertSame('signup-1', $t->header(0, 'Idempotency-Key'));
        self::assertSame('signup-1', $t->header(1, 'Idempotency-Key'));
        self::assertSame($t->requests[0]['body'], $t->requests[1]['body'], 'the same body');
        self::assertSame(['email' => 'a@example.com', 'userId' => 'u1'], json_decode((string) $t->requests[0]['body'], true),
            'the key is a header, not a field');
        self::assertCount(1, $this->slept);
        self::assertGreaterThanOrEqual(0.25, $this->slept[0]);
        self::assertLessThanOrEqual(0.5, $this->slept[0]);
    }

    public function testAnIdempotentStartIsRetriedAfterALostConnectionAnd503(): void
    {
        $t = new T([T::down(), T::error(503, 'UNAVAILABLE', [], ['retry-after' => '1']), T::ok(201, self::V)]);
        $client = $this->client($t);
        self::assertSame('ev_01', $client->start('a@example.com', ['idempotencyKey' => 'k'])['id']);
        self::assertCount(3, $t->requests);
        self::assertSame(3, $client->getLastResponse()['attempts']);
        self::assertGreaterThanOrEqual(1.0, $this->slept[1], 'Retry-After: 1 honoured');
    }

    public function testAStartWithoutAKeyIsNeverRetried(): void
    {
        foreach ([T::html(502), T::error(503, 'UNAVAILABLE'), T::error(429, 'RATE_LIMITED', ['retryAfterSeconds' => 1])] as $answer) {
            $t = new T([$answer, T::ok(201, self::V)]);
            try {
                $this->client($t)->start('a@example.com');
                self::fail('no exception');
            } catch (ApiException $e) {
                self::assertCount(1, $t->requests);
            }
        }
        $t = new T([T::down(), T::ok(201, self::V)]);
        $this->expectException(ConnectionException::class);
        try {
            $this->client($t)->start('a@example.com');
        } finally {
            self::assertCount(1, $t->requests);
            self::assertSame([], $this->slept);
        }
    }

    public function testVerifyResendAndCancelAreNeverRetried(): void
    {
        foreach (['verify', 'resend', 'cancel'] as $method) {
            foreach ([T::down(), T::html(502), T::error(503, 'UNAVAILABLE'), T::html(504)] as $first) {
                $t = new T([$first, T::ok(200, self::V)]);
                $client = $this->client($t, ['maxRetries' => 5]);
                try {
                    $method === 'verify' ? $client->verify('ev_01', '123456') : $client->$method('ev_01');
                    self::fail("$method succeeded");
                } catch (ConnectionException | Unavailable $e) {
                    self::assertCount(1, $t->requests, $method);
                }
            }
        }
        self::assertSame([], $this->slept);
    }

    public function testGetIsRetriedUpToMaxRetries(): void
    {
        $t = new T([T::down(), T::html(500), T::html(502), T::ok(200, self::V)]);
        try {
            $this->client($t)->get('ev_01');
            self::fail('succeeded after 3 failures with maxRetries 2');
        } catch (Unavailable $e) {
            self::assertSame(502, $e->getHttpStatus());
            self::assertSame(ApiException::UNAVAILABLE, $e->getErrorCode());
            self::assertStringContainsString('Bad Gateway', $e->getMessage());
        }
        self::assertCount(3, $t->requests);
        self::assertCount(2, $this->slept);
        self::assertGreaterThan($this->slept[0] * 0.99, $this->slept[1] * 2, 'exponential');
        $t = new T([T::down(), T::html(500), T::html(502), T::ok(200, self::V)]);
        self::assertSame('ev_01', $this->client($t, ['maxRetries' => 3])->get('ev_01')['id']);
        $t = new T([T::down()]);
        $this->expectException(ConnectionException::class);
        $this->client($t, ['maxRetries' => 0])->get('ev_01');
    }

    public function testJsonErrorsOtherThan503AreNotRetried(): void
    {
        foreach ([[T::error(500, 'INTERNAL_ERROR'), InternalError::class],
                  [T::error(502, 'EMAIL_SEND_FAILED', ['verificationId' => 'ev_9']), EmailSendFailed::class],
                  [T::error(422, 'INVALID_CODE', ['attemptsRemaining' => 2]), InvalidCode::class]] as list($answer, $class)) {
            $t = new T([$answer, T::ok(201, self::V)]);
            try {
                $this->client($t)->start('a@example.com', ['idempotencyKey' => 'k']);
                self::fail('no exception');
            } catch (ApiException $e) {
                self::assertInstanceOf($class, $e);
                self::assertCount(1, $t->requests);
            }
        }
    }

    public function testRetryAfterOf429IsHonouredButCapped(): void
    {
        $t = new T([T::error(429, 'RATE_LIMITED', ['limit' => 'per_key_per_minute', 'retryAfterSeconds' => 3], ['retry-after' => '3']),
            T::ok(200, self::V)]);
        self::assertSame('ev_01', $this->client($t)->get('ev_01')['id']);
        self::assertSame([3.0], $this->slept, 'waited what Retry-After said');

        // over the cap (maxRetryDelay): not waited for, thrown at once with retryAfter
        $this->slept = [];
        $t = new T([T::error(429, 'RATE_LIMITED', ['limit' => 'per_key_per_minute', 'retryAfterSeconds' => 45], ['retry-after' => '45']),
            T::ok(200, self::V)]);
        try {
            $this->client($t, ['maxRetryDelay' => 10])->get('ev_01');
            self::fail('no exception');
        } catch (RateLimited $e) {
            self::assertSame(45, $e->getRetryAfter());
            self::assertSame('per_key_per_minute', $e->getLimit());
        }
        self::assertCount(1, $t->requests);
        self::assertSame([], $this->slept);

        // the details say it when the header does not; an HTTP date works too
        $t = new T([T::error(429, 'RATE_LIMITED', ['retryAfterSeconds' => 2]), T::ok(200, self::V)]);
        $this->client($t)->get('ev_01');
        self::assertSame([2.0], $this->slept);
        $this->slept = [];
        $date = gmdate('D, d M Y H:i:s \G\M\T', time() + 4);
        $t = new T([T::error(503, 'UNAVAILABLE', [], ['retry-after' => $date]), T::ok(200, self::V)]);
        $this->client($t)->get('ev_01');
        self::assertGreaterThanOrEqual(3.0, $this->slept[0]);
        self::assertLessThanOrEqual(5.0, $this->slept[0]);

        // a 503 asking for too long is thrown at once too
        $this->slept = [];
        $t = new T([T::error(503, 'UNAVAILABLE', [], ['retry-after' => '120']), T::ok(200, self::V)]);
        try {
            $this->client($t)->get('ev_01');
            self::fail('no exception');
        } catch (Unavailable $e) {
            self::assertSame(120, $e->getRetryAfter());
        }
        self::assertSame([], $this->slept);
    }

    public function testBackoffNeverExceedsTheCap(): void
    {
        $t = new T([T::down(), T::down(), T::down(), T::down(), T::ok(200, self::V)]);
        $this->client($t, ['maxRetries' => 4, 'retryDelay' => 4.0, 'maxRetryDelay' => 5.0])->get('ev_01');
        self::assertCount(4, $this->slept);
        foreach ($this->slept as $s) {
            self::assertLessThanOrEqual(5.0, $s);
            self::assertGreaterThan(0.0, $s);
        }
    }

    public function testListIsRetriedPageByPage(): void
    {
        $t = new T([
            T::ok(200, ['items' => [['id' => 'ev_3'], ['id' => 'ev_2']], 'nextCursor' => 'c1']),
            T::html(504),
            T::ok(200, ['items' => [['id' => 'ev_1']], 'nextCursor' => null]),
        ]);
        $ids = [];
        foreach ($this->client($t)->list(['userId' => 'u 1', 'limit' => 2]) as $item) {
            $ids[] = $item['id'];
        }
        self::assertSame(['ev_3', 'ev_2', 'ev_1'], $ids);
        self::assertSame('https://api.example/mp/v1/verifications/email?userId=u%201&limit=2', $t->requests[0]['url']);
        self::assertSame('https://api.example/mp/v1/verifications/email?userId=u%201&limit=2&cursor=c1', $t->requests[2]['url']);
    }
}
