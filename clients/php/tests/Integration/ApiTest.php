<?php

declare(strict_types=1);

namespace Mailproof\Tests\Integration;

use Mailproof\Client;
use Mailproof\Exception;
use Mailproof\Exception\ApiException;
use Mailproof\Exception\ConnectionException;
use Mailproof\Tests\Support\Stack;
use Mailproof\Transport\CurlTransport;
use Mailproof\Transport\StreamTransport;
use PHPUnit\Framework\TestCase;

/**
 * The client against the real service: every route, every error the API
 * can be made to answer, paging, idempotent retries. Skipped without
 * MAILPROOF_URL (see tests/integration/test_90_php_client.py).
 */
final class ApiTest extends TestCase
{
    /** @var Client */
    private $client;

    protected function setUp(): void
    {
        $this->client = Stack::client($this);
    }

    /** @param callable(): mixed $fn */
    private function fails(string $class, callable $fn): ApiException
    {
        try {
            $fn();
        } catch (ApiException $e) {
            self::assertSame($class, get_class($e), sprintf('%s %s: %s', $e->getErrorCode(), $e->getHttpStatus(), $e->getMessage()));
            self::assertNotEmpty($e->getRequestId(), 'every answer has an X-Request-Id');
            self::assertNotSame('', $e->getMessage());
            return $e;
        }
        self::fail("no $class");
    }

    /** @return array{0: string, 1: string, 2: array} [id, address, start's data] */
    private function started(array $options = []): array
    {
        $addr = Stack::address();
        $v = $this->client->start($addr, $options);
        return [$v['id'], $addr, $v];
    }

    public function testHealth(): void
    {
        self::assertSame(['status' => 'ok'], $this->client->health());
    }

    public function testStartReadAndVerifyTheCodeFromTheMail(): void
    {
        $addr = Stack::address();
        $v = $this->client->start($addr, ['userId' => 'php-user', 'metadata' => ['plan' => 'pro'], 'codeLength' => 8,
            'subject' => 'Your code for the PHP test', 'locale' => 'en']);
        self::assertMatchesRegularExpression('/^ev_[0-9A-Z]{26}$/', $v['id']);
        self::assertSame('PENDING', $v['status']);
        self::assertSame($addr, $v['email']);
        self::assertSame('php-user', $v['userId']);
        self::assertSame(['plan' => 'pro'], $v['metadata']);
        self::assertTrue($v['sent']);
        self::assertSame('SENT', $v['delivery']['status']);
        self::assertStringContainsString('/v1/hosted/' . $v['id'], $v['hostedVerifyUrl']);
        self::assertSame(201, $this->client->getLastResponse()['status']);
        $code = Stack::code($this, $addr);
        self::assertSame(8, strlen($code));

        $got = $this->client->get($v['id']);
        self::assertSame('PENDING', $got['status']);
        self::assertSame(0, $got['attempts']);
        self::assertNull($got['verifiedAt']);

        $ok = $this->client->verify($v['id'], $code);
        self::assertSame('VERIFIED', $ok['status']);
        self::assertSame($v['id'], $ok['id']);
        self::assertNotEmpty($ok['verifiedAt']);
        self::assertSame('VERIFIED', $this->client->get($v['id'])['status']);

        $this->fails(Exception\AlreadyVerified::class, function () use ($v, $code): void {
            $this->client->verify($v['id'], $code);
        });
        $this->fails(Exception\AlreadyVerified::class, function () use ($v): void {
            $this->client->cancel($v['id']);
        });
    }

    public function testWrongCodesThenFailed(): void
    {
        list($id, $addr) = $this->started(['maxAttempts' => 2]);
        $code = Stack::code($this, $addr);
        $wrong = substr($code, 0, -1) . (($code[strlen($code) - 1] + 1) % 10);
        $e = $this->fails(Exception\InvalidCode::class, function () use ($id, $wrong): void {
            $this->client->verify($id, $wrong);
        });
        self::assertSame(1, $e->getAttemptsRemaining());
        self::assertSame(422, $e->getHttpStatus());
        self::assertSame(ApiException::INVALID_CODE, $e->getErrorCode());
        $e = $this->fails(Exception\MaxAttemptsExceeded::class, function () use ($id, $wrong): void {
            $this->client->verify($id, $wrong);
        });
        self::assertSame(0, $e->getAttemptsRemaining());
        $this->fails(Exception\VerificationFailed::class, function () use ($id, $code): void {
            $this->client->verify($id, $code);
        });
        self::assertSame('FAILED', $this->client->get($id)['status']);
    }

    public function testCancel(): void
    {
        list($id, $addr) = $this->started();
        $code = Stack::code($this, $addr);
        $c = $this->client->cancel($id);
        self::assertSame('CANCELED', $c['status']);
        self::assertSame($id, $c['id']);
        $this->fails(Exception\VerificationCanceled::class, function () use ($id, $code): void {
            $this->client->verify($id, $code);
        });
        $this->fails(Exception\VerificationCanceled::class, function () use ($id): void {
            $this->client->resend($id);
        });
    }

    public function testResendIsRateLimitedThenSendsANewCode(): void
    {
        list($id, $addr, $v) = $this->started();
        $first = Stack::code($this, $addr);
        self::assertNotEmpty($v['resendAvailableAt']);
        $e = $this->fails(Exception\RateLimited::class, function () use ($id): void {
            $this->client->resend($id);
        });
        self::assertSame('resend_cooldown', $e->getLimit());
        self::assertGreaterThan(0, $e->getRetryAfter());
        self::assertLessThanOrEqual(30, $e->getRetryAfter());
        self::assertSame((string) $e->getRetryAfter(), $e->getHeader('Retry-After'));
        self::assertSame(1, $this->client->getLastResponse()['attempts'], 'a resend is never retried');
        // as if the last mail went out an hour ago
        Stack::psql($this, "UPDATE verifications SET last_mail_at = now() - interval '1 hour' WHERE id = " . Stack::sqlId($id));
        $r = $this->client->resend($id);
        self::assertSame('PENDING', $r['status']);
        self::assertSame(200, $this->client->getLastResponse()['status']);
        $second = Stack::code($this, $addr, -1, 2);
        $this->client->verify($id, $second);
        self::assertSame('VERIFIED', $this->client->get($id)['status']);
        self::assertIsString($first);
    }

    public function testExpired(): void
    {
        list($id, $addr) = $this->started(['expiresInSeconds' => 60]);
        $code = Stack::code($this, $addr);
        Stack::psql($this, "UPDATE verifications SET expires_at = now() - interval '1 second' WHERE id = " . Stack::sqlId($id));
        self::assertSame('EXPIRED', $this->client->get($id)['status']);
        $e = $this->fails(Exception\VerificationExpired::class, function () use ($id, $code): void {
            $this->client->verify($id, $code);
        });
        self::assertSame(410, $e->getHttpStatus());
    }

    public function testNotFound(): void
    {
        $e = $this->fails(Exception\NotFound::class, function (): void {
            $this->client->get('ev_00000000000000000000000000');
        });
        self::assertSame(ApiException::VERIFICATION_NOT_FOUND, $e->getErrorCode());
        foreach (['verify', 'resend', 'cancel'] as $m) {
            $this->fails(Exception\NotFound::class, function () use ($m): void {
                $m === 'verify' ? $this->client->verify('ev_00000000000000000000000000', '123456')
                    : $this->client->$m('ev_00000000000000000000000000');
            });
        }
        $e = $this->fails(Exception\NotFound::class, function (): void {
            $this->client->request('GET', '/v1/no-such-route');
        });
        self::assertSame(ApiException::NOT_FOUND, $e->getErrorCode());
        // a verification of another account is not found either
        list($id) = $this->started();
        $this->fails(Exception\NotFound::class, function () use ($id): void {
            Stack::client($this, 'MAILPROOF_QUOTA_KEY')->get($id);
        });
    }

    public function testUnauthorizedAndScopeRequired(): void
    {
        $bad = new Client('mp_wrong_' . bin2hex(random_bytes(8)), ['baseUrl' => Stack::env($this, 'MAILPROOF_URL')]);
        $e = $this->fails(Exception\Unauthorized::class, function () use ($bad): void {
            $bad->get('ev_00000000000000000000000000');
        });
        self::assertSame(401, $e->getHttpStatus());
        $this->fails(Exception\Unauthorized::class, function () use ($bad): void {
            $bad->start(Stack::address());
        });
        $ro = Stack::client($this, 'MAILPROOF_READONLY_KEY');
        $e = $this->fails(Exception\ScopeRequired::class, function () use ($ro): void {
            $ro->start(Stack::address());
        });
        self::assertInstanceOf(Exception\Forbidden::class, $e);
        self::assertSame('verifications:write', $e->getRequiredScope());
        self::assertSame(403, $e->getHttpStatus());
        $this->fails(Exception\ScopeRequired::class, function () use ($ro): void {
            $ro->verify('ev_00000000000000000000000000', '123456');
        });
        // but it may read
        list($id) = $this->started();
        self::assertSame($id, $ro->get($id)['id']);
    }

    public function testRequestErrors(): void
    {
        $this->fails(Exception\InvalidEmail::class, function (): void {
            $this->client->start('not an address');
        });
        $e = $this->fails(Exception\InvalidRequest::class, function (): void {
            $this->client->start(Stack::address(), ['codeLength' => 99]);
        });
        self::assertStringContainsString('codeLength', $e->getMessage());
        $this->fails(Exception\InvalidRequest::class, function (): void {
            $this->client->start(Stack::address(), ['noSuchField' => 1]);
        });
        $this->fails(Exception\InvalidRequest::class, function (): void {
            iterator_to_array($this->client->list(['status' => 'NOPE']));
        });
        $this->fails(Exception\RedirectNotAllowed::class, function (): void {
            $this->client->start(Stack::address(), ['method' => 'MAGIC_LINK', 'redirectUrl' => 'https://evil.example/landing']);
        });
        $e = $this->fails(Exception\PayloadTooLarge::class, function (): void {
            $this->client->start(Stack::address(), ['verificationLine' => str_repeat('x', 20000)]);
        });
        self::assertSame(16384, $e->getMaxBytes());
        $e = $this->fails(Exception\MethodNotAllowed::class, function (): void {
            $this->client->request('DELETE', '/v1/verifications/email');
        });
        self::assertContains('POST', $e->getAllowedMethods());
        $this->fails(Exception\UnsupportedMediaType::class, function (): void {
            $this->client->request('POST', '/v1/verifications/email', ['email' => Stack::address()], ['Content-Type: text/plain']);
        });
        $this->fails(Exception\EmailSuppressed::class, function (): void {
            $this->client->start(Stack::env($this, 'MAILPROOF_SUPPRESSED_EMAIL'));
        });
    }

    /** The test SMTP server refuses recipients named reject*: 550, so 502 in sync mode. */
    public function testEmailSendFailedIsNotRetried(): void
    {
        $e = $this->fails(Exception\EmailSendFailed::class, function (): void {
            $this->client->start(Stack::address('reject'), ['idempotencyKey' => 'refused-' . bin2hex(random_bytes(6))]);
        });
        self::assertSame(502, $e->getHttpStatus());
        self::assertSame(1, $this->client->getLastResponse()['attempts'], 'a refusal would answer the same again');
        $id = $e->getVerificationId();
        self::assertNotNull($id);
        self::assertSame('FAILED', $this->client->get($id)['status']);
        self::assertSame(550, $e->getDelivery()['smtpCode'] ?? null);
    }

    public function testQuotaExceeded(): void
    {
        $c = Stack::client($this, 'MAILPROOF_QUOTA_KEY');
        $e = $this->fails(Exception\QuotaExceeded::class, function () use ($c): void {
            for ($i = 0; $i < 3; $i++) {
                $c->start(Stack::address());
            }
        });
        self::assertSame(402, $e->getHttpStatus());
    }

    public function testRateLimitedGetIsNotWaitedForPastTheCap(): void
    {
        // this key's tenant allows 2 requests a minute
        $c = Stack::client($this, 'MAILPROOF_LIMITED_KEY', ['maxRetryDelay' => 2.0]);
        $t0 = microtime(true);
        $e = $this->fails(Exception\RateLimited::class, function () use ($c): void {
            for ($i = 0; $i < 4; $i++) {
                iterator_to_array($c->list(['limit' => 1]));
            }
        });
        self::assertSame('per_key_per_minute', $e->getLimit());
        self::assertGreaterThan(2, $e->getRetryAfter());
        self::assertLessThanOrEqual(60, $e->getRetryAfter());
        self::assertLessThan(2.0, microtime(true) - $t0, 'a Retry-After over the cap is not waited for');
    }

    public function testIdempotencyKey(): void
    {
        $addr = Stack::address();
        $key = 'php-' . bin2hex(random_bytes(8));
        $a = $this->client->start($addr, ['userId' => 'idem', 'idempotencyKey' => $key]);
        self::assertArrayNotHasKey('idempotent-replayed', $this->client->getLastResponse()['headers']);
        $b = $this->client->start($addr, ['idempotencyKey' => $key, 'userId' => 'idem']);
        self::assertSame($a['id'], $b['id'], 'the same key and body: the same verification');
        self::assertSame('true', $this->client->getLastResponse()['headers']['idempotent-replayed'] ?? null);
        $e = $this->fails(Exception\IdempotencyConflict::class, function () use ($addr, $key): void {
            $this->client->start($addr, ['idempotencyKey' => $key, 'userId' => 'someone-else']);
        });
        self::assertSame(409, $e->getHttpStatus());
        usleep(500000);
        self::assertSame(1, Stack::mailCount($this, $addr), 'one mail');
    }

    public function testALostAnswerIsRetriedWithTheKeyAndReplayed(): void
    {
        // the first answer is lost after the service has acted on the request
        $real = new CurlTransport();
        $calls = 0;
        $lossy = static function (array $request) use ($real, &$calls): array {
            $calls++;
            $answer = $real($request);
            if ($calls === 1) {
                throw new ConnectionException('lost on the way back (simulated)', true);
            }
            return $answer;
        };
        $c = Stack::client($this, 'MAILPROOF_KEY', ['transport' => $lossy, 'retryDelay' => 0.05]);
        $addr = Stack::address();
        $v = $c->start($addr, ['idempotencyKey' => 'lost-' . bin2hex(random_bytes(6))]);
        self::assertSame(2, $calls);
        self::assertSame(2, $c->getLastResponse()['attempts']);
        self::assertSame('true', $c->getLastResponse()['headers']['idempotent-replayed'] ?? null);
        self::assertSame($v['id'], $this->client->get($v['id'])['id']);
        usleep(500000);
        self::assertSame(1, Stack::mailCount($this, $addr), 'one mail for the two tries');

        // without a key, the same loss is not retried (a second start would mail again)
        $calls = 0;
        $addr = Stack::address();
        try {
            $c->start($addr);
            self::fail('no exception');
        } catch (ConnectionException $e) {
            self::assertTrue($e->isTimeout());
        }
        self::assertSame(1, $calls);
        self::assertSame(1, count(Stack::mails($this, $addr)), 'it did start, once');
    }

    public function testListWalksEveryPageNewestFirst(): void
    {
        $user = 'php-list-' . bin2hex(random_bytes(6));
        $ids = [];
        for ($i = 0; $i < 5; $i++) {
            $ids[] = $this->client->start(Stack::address(), ['userId' => $user])['id'];
        }
        $requests = 0;
        $real = new CurlTransport();
        $counting = static function (array $r) use ($real, &$requests): array {
            $requests++;
            return $real($r);
        };
        $c = Stack::client($this, 'MAILPROOF_KEY', ['transport' => $counting]);
        $seen = [];
        $created = [];
        foreach ($c->list(['userId' => $user, 'limit' => 2]) as $item) {
            $seen[] = $item['id'];
            $created[] = $item['createdAt'];
            self::assertSame($user, $item['userId']);
        }
        self::assertSame(array_reverse($ids), $seen, 'all seen once, newest first');
        self::assertSame(3, $requests, 'three pages of 2, 2 and 1');
        $sorted = $created;
        rsort($sorted);
        self::assertSame($sorted, $created);
        $page = $this->client->listPage(['userId' => $user, 'limit' => 2]);
        self::assertCount(2, $page['items']);
        self::assertIsString($page['nextCursor']);
        $last = $this->client->listPage(['userId' => $user, 'limit' => 4], null);
        $rest = $this->client->listPage(['userId' => $user, 'limit' => 4], $last['nextCursor']);
        self::assertCount(1, $rest['items']);
        self::assertNull($rest['nextCursor']);
        self::assertSame([$ids[1]], array_column(iterator_to_array($this->client->list(
            ['userId' => $user, 'status' => 'PENDING', 'limit' => 100, 'email' => $this->client->get($ids[1])['email']]), false), 'id'));
        self::assertSame([], iterator_to_array($this->client->list(['userId' => $user, 'status' => 'VERIFIED'])));
    }

    public function testTheStreamTransportToo(): void
    {
        $c = Stack::client($this, 'MAILPROOF_KEY', ['transport' => new StreamTransport()]);
        self::assertSame(['status' => 'ok'], $c->health());
        $addr = Stack::address();
        $v = $c->start($addr, ['userId' => 'streams']);
        $code = Stack::code($this, $addr);
        $e = $this->fails(Exception\InvalidCode::class, function () use ($c, $v, $code): void {
            $c->verify($v['id'], $code === '000000' ? '111111' : '000000');
        });
        self::assertSame(2, $e->getAttemptsRemaining());
        self::assertSame('VERIFIED', $c->verify($v['id'], $code)['status']);
        self::assertSame($v['id'], iterator_to_array($c->list(['email' => $addr]), false)[0]['id']);
        $this->fails(Exception\NotFound::class, function () use ($c): void {
            $c->cancel('ev_00000000000000000000000000');
        });
        $this->fails(Exception\Unauthorized::class, function (): void {
            (new Client('nope', ['baseUrl' => Stack::env($this, 'MAILPROOF_URL'), 'transport' => new StreamTransport()]))
                ->get('ev_00000000000000000000000000');
        });
    }

    public function testConnectionFailures(): void
    {
        Stack::env($this, 'MAILPROOF_URL');
        foreach ([new CurlTransport(), new StreamTransport()] as $transport) {
            $slept = [];
            $c = new Client('k', ['baseUrl' => 'http://127.0.0.1:1', 'transport' => $transport, 'maxRetries' => 2,
                'sleep' => static function (float $s) use (&$slept): void {
                    $slept[] = $s;
                }]);
            try {
                $c->get('ev_00000000000000000000000000');
                self::fail('no exception');
            } catch (ConnectionException $e) {
                self::assertFalse($e->isTimeout());
                self::assertStringContainsString('127.0.0.1:1', $e->getMessage());
            }
            self::assertCount(2, $slept, 'a GET is retried twice');
        }
    }
}
