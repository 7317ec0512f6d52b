<?php

declare(strict_types=1);

namespace Mailproof\Tests\Unit;

use Mailproof\Client;
use Mailproof\Exception;
use Mailproof\Exception\ApiException;
use Mailproof\Exception\InvalidArgumentException;
use Mailproof\Tests\Support\FakeTransport as T;
use PHPUnit\Framework\TestCase;

/** What the client sends, and how it reads answers, without a network. */
final class ClientTest extends TestCase
{
    /** @param array<string, mixed> $options */
    private function client(T $t, array $options = []): Client
    {
        return new Client('mp_test_key', $options + ['transport' => $t, 'sleep' => static function (float $s): void {
        }]);
    }

    public function testEachRouteIsTheRightMethodAndPath(): void
    {
        $v = ['id' => 'ev_01', 'status' => 'PENDING'];
        $t = new T(array_fill(0, 7, T::ok(200, $v)));
        $c = $this->client($t, ['baseUrl' => 'https://host.example/prefix/']);
        $c->start('a@example.com', ['userId' => 'u', 'metadata' => []]);
        $c->verify('ev_01', '123456');
        $c->get('ev_01');
        $c->resend('ev_01');
        $c->cancel('ev_01');
        $c->listPage(['status' => 'PENDING'], 'abc');
        $want = [
            ['POST', 'https://host.example/prefix/v1/verifications/email', '{"email":"a@example.com","userId":"u","metadata":{}}'],
            ['POST', 'https://host.example/prefix/v1/verifications/email/ev_01/verify', '{"code":"123456"}'],
            ['GET', 'https://host.example/prefix/v1/verifications/email/ev_01', null],
            ['POST', 'https://host.example/prefix/v1/verifications/email/ev_01/resend', null],
            ['POST', 'https://host.example/prefix/v1/verifications/email/ev_01/cancel', null],
            ['GET', 'https://host.example/prefix/v1/verifications/email?status=PENDING&cursor=abc', null],
        ];
        foreach ($want as $i => list($method, $url, $body)) {
            self::assertSame($method, $t->requests[$i]['method']);
            self::assertSame($url, $t->requests[$i]['url']);
            self::assertSame($body, $t->requests[$i]['body']);
            self::assertSame('Bearer mp_test_key', $t->header($i, 'Authorization'));
            self::assertSame($body === null ? null : 'application/json', $t->header($i, 'Content-Type'));
            self::assertStringStartsWith('mailproof-php/' . Client::VERSION, (string) $t->header($i, 'User-Agent'));
            self::assertSame(10.0, $t->requests[$i]['timeout']);
            self::assertSame(5.0, $t->requests[$i]['connectTimeout']);
        }
        self::assertSame('https://host.example/prefix', $c->getBaseUrl());
    }

    public function testOptions(): void
    {
        $t = new T([T::ok(200, ['status' => 'x'])]);
        $c = $this->client($t, ['timeout' => 2.5, 'connectTimeout' => 1, 'userAgent' => 'shop/2']);
        $c->get('ev_1');
        self::assertSame(2.5, $t->requests[0]['timeout']);
        self::assertSame(1.0, $t->requests[0]['connectTimeout']);
        self::assertStringStartsWith('shop/2 mailproof-php/', (string) $t->header(0, 'User-Agent'));
        self::assertSame(Client::DEFAULT_BASE_URL . '/v1/verifications/email/ev_1', $t->requests[0]['url']);
        foreach ([['nope' => 1], ['timeout' => 0], ['timeout' => '3'], ['maxRetries' => -1], ['baseUrl' => 'ftp://x'],
                  ['baseUrl' => 'http://x/?a=1'], ['baseUrl' => 'localhost:8080'], ['transport' => 'nope'], ['userAgent' => "a\r\nX: y"]] as $bad) {
            try {
                new Client('k', $bad);
                self::fail('accepted ' . json_encode($bad));
            } catch (InvalidArgumentException $e) {
                self::assertInstanceOf(Exception\ExceptionInterface::class, $e);
            }
        }
        foreach (['', "k\r\nX-Evil: 1", 'a key'] as $key) {
            try {
                new Client($key);
                self::fail('accepted key ' . json_encode($key));
            } catch (InvalidArgumentException $e) {
                self::assertStringContainsString('key', $e->getMessage());
            }
        }
    }

    public function testIdsCannotInjectAPath(): void
    {
        $t = new T([]);
        $c = $this->client($t);
        foreach (['', '..', '../../healthz', 'ev_1/cancel', 'ev_1?x=1', 'ev_1#x', "ev_1\n", 'ev 1', 'ev_%2F', str_repeat('a', 65)] as $id) {
            foreach (['get', 'resend', 'cancel', 'verify'] as $m) {
                try {
                    $m === 'verify' ? $c->verify($id, '1') : $c->$m($id);
                    self::fail("$m accepted " . json_encode($id));
                } catch (InvalidArgumentException $e) {
                    self::assertStringContainsString('verification id', $e->getMessage());
                }
            }
        }
        self::assertSame([], $t->requests, 'nothing was sent');
    }

    public function testIdempotencyKeyIsChecked(): void
    {
        $c = $this->client(new T([]));
        foreach (['', str_repeat('k', 256), "a\r\nb", 'with space', 7] as $bad) {
            try {
                $c->start('a@example.com', ['idempotencyKey' => $bad]);
                self::fail('accepted ' . json_encode($bad));
            } catch (InvalidArgumentException $e) {
                self::assertStringContainsString('idempotencyKey', $e->getMessage());
            }
        }
    }

    public function testListFiltersAreChecked(): void
    {
        $this->expectException(InvalidArgumentException::class);
        $this->client(new T([]))->list(['usr' => 'x']); // thrown at once, not when iterated
    }

    public function testEveryCodeHasItsClassAndAccessors(): void
    {
        $classes = [
            'INVALID_REQUEST' => [400, Exception\InvalidRequest::class],
            'INVALID_EMAIL' => [400, Exception\InvalidEmail::class],
            'UNAUTHORIZED' => [401, Exception\Unauthorized::class],
            'SCOPE_REQUIRED' => [403, Exception\ScopeRequired::class],
            'NOT_FOUND' => [404, Exception\NotFound::class],
            'VERIFICATION_NOT_FOUND' => [404, Exception\NotFound::class],
            'METHOD_NOT_ALLOWED' => [405, Exception\MethodNotAllowed::class],
            'PAYLOAD_TOO_LARGE' => [413, Exception\PayloadTooLarge::class],
            'UNSUPPORTED_MEDIA_TYPE' => [415, Exception\UnsupportedMediaType::class],
            'RATE_LIMITED' => [429, Exception\RateLimited::class],
            'QUOTA_EXCEEDED' => [402, Exception\QuotaExceeded::class],
            'UNAVAILABLE' => [503, Exception\Unavailable::class],
            'INTERNAL_ERROR' => [500, Exception\InternalError::class],
            'EMAIL_SEND_FAILED' => [502, Exception\EmailSendFailed::class],
            'EMAIL_SUPPRESSED' => [422, Exception\EmailSuppressed::class],
            'DISPOSABLE_EMAIL' => [422, Exception\DisposableEmail::class],
            'UNDELIVERABLE_EMAIL' => [422, Exception\UndeliverableEmail::class],
            'REDIRECT_NOT_ALLOWED' => [400, Exception\RedirectNotAllowed::class],
            'IDEMPOTENCY_CONFLICT' => [409, Exception\IdempotencyConflict::class],
            'INVALID_CODE' => [422, Exception\InvalidCode::class],
            'MAX_ATTEMPTS_EXCEEDED' => [422, Exception\MaxAttemptsExceeded::class],
            'VERIFICATION_FAILED' => [409, Exception\VerificationFailed::class],
            'VERIFICATION_EXPIRED' => [410, Exception\VerificationExpired::class],
            'ALREADY_VERIFIED' => [409, Exception\AlreadyVerified::class],
            'VERIFICATION_CANCELED' => [409, Exception\VerificationCanceled::class],
            'SOMETHING_NEW' => [418, ApiException::class],
        ];
        $constants = (new \ReflectionClass(Exception\ErrorCode::class))->getConstants();
        foreach ($classes as $code => list($status, $class)) {
            if ($code !== 'SOMETHING_NEW') {
                self::assertSame($code, $constants[$code] ?? null, "ErrorCode::$code");
            }
            $t = new T([T::error($status, $code, ['attemptsRemaining' => 2, 'scope' => 'verifications:write',
                'limit' => 'resend_cooldown', 'retryAfterSeconds' => 29, 'maxBytes' => 16384, 'verificationId' => 'ev_9',
                'delivery' => ['status' => 'FAILED']], ['allow' => 'GET, HEAD, POST', 'x-request-id' => 'req-7'])]);
            try {
                $this->client($t, ['maxRetries' => 0])->verify('ev_1', '1');
                self::fail('no exception');
            } catch (ApiException $e) {
                self::assertSame($class, get_class($e), $code);
                self::assertSame($code, $e->getErrorCode());
                self::assertSame($status, $e->getHttpStatus());
                self::assertSame($status, $e->getCode());
                self::assertSame('req-7', $e->getRequestId());
                self::assertSame('msg ' . $code, $e->getMessage());
                self::assertSame(2, $e->getDetails()['attemptsRemaining']);
                self::assertInstanceOf(Exception\MailproofException::class, $e);
                self::assertInstanceOf(\RuntimeException::class, $e);
            }
        }
        self::assertSame(ApiException::INVALID_CODE, Exception\ErrorCode::INVALID_CODE);
    }

    public function testAccessorsOfTheTypedExceptions(): void
    {
        $make = function (string $code, int $status, array $details, array $headers = []): ApiException {
            try {
                $this->client(new T([T::error($status, $code, $details, $headers)]), ['maxRetries' => 0])->cancel('ev_1');
            } catch (ApiException $e) {
                return $e;
            }
            self::fail('no exception');
        };
        $e = $make('INVALID_CODE', 422, ['attemptsRemaining' => 1]);
        self::assertInstanceOf(Exception\InvalidCode::class, $e);
        self::assertSame(1, $e->getAttemptsRemaining());
        $e = $make('MAX_ATTEMPTS_EXCEEDED', 422, ['attemptsRemaining' => 0]);
        self::assertSame(0, $e->getAttemptsRemaining());
        $e = $make('RATE_LIMITED', 429, ['limit' => 'resend_cooldown', 'retryAt' => '2026-01-01T00:00:30.000Z', 'retryAfterSeconds' => 30]);
        self::assertSame(30, $e->getRetryAfter());
        self::assertSame('resend_cooldown', $e->getLimit());
        self::assertSame('2026-01-01T00:00:30.000Z', $e->getRetryAt());
        $e = $make('RATE_LIMITED', 429, ['retryAfterSeconds' => 30], ['retry-after' => '12']);
        self::assertSame(12, $e->getRetryAfter(), 'the header first');
        $e = $make('SCOPE_REQUIRED', 403, ['scope' => 'verifications:write']);
        self::assertInstanceOf(Exception\Forbidden::class, $e);
        self::assertSame('verifications:write', $e->getRequiredScope());
        $e = $make('METHOD_NOT_ALLOWED', 405, [], ['allow' => 'GET, HEAD, POST']);
        self::assertSame(['GET', 'HEAD', 'POST'], $e->getAllowedMethods());
        $e = $make('PAYLOAD_TOO_LARGE', 413, ['maxBytes' => 16384]);
        self::assertSame(16384, $e->getMaxBytes());
        $e = $make('EMAIL_SEND_FAILED', 502, ['verificationId' => 'ev_9', 'delivery' => ['status' => 'FAILED', 'smtpCode' => 550]]);
        self::assertSame('ev_9', $e->getVerificationId());
        self::assertSame(550, $e->getDelivery()['smtpCode']);
        $e = $make('UNAVAILABLE', 503, [], ['retry-after' => '1']);
        self::assertSame(1, $e->getRetryAfter());
    }

    public function testAnswersThatAreNotMailproofs(): void
    {
        $cases = [
            [['status' => 200, 'headers' => [], 'body' => '<html>hi</html>'], Exception\UnexpectedResponse::class, 'UNEXPECTED_RESPONSE'],
            [['status' => 200, 'headers' => [], 'body' => '{"success":true}'], Exception\UnexpectedResponse::class, 'UNEXPECTED_RESPONSE'],
            [['status' => 404, 'headers' => [], 'body' => '<h1>Not Found</h1>'], Exception\NotFound::class, 'NOT_FOUND'],
            [['status' => 411, 'headers' => [], 'body' => 'Length Required'], Exception\UnexpectedResponse::class, 'UNEXPECTED_RESPONSE'],
            [['status' => 500, 'headers' => [], 'body' => ''], Exception\Unavailable::class, 'UNAVAILABLE'],
        ];
        foreach ($cases as list($answer, $class, $code)) {
            try {
                $this->client(new T([$answer]), ['maxRetries' => 0])->get('ev_1');
                self::fail('no exception');
            } catch (ApiException $e) {
                self::assertSame($class, get_class($e));
                self::assertSame($code, $e->getErrorCode());
                self::assertSame($answer['status'], $e->getHttpStatus());
            }
        }
    }

    public function testHealthAndLastResponseAndRequest(): void
    {
        $t = new T([
            ['status' => 200, 'headers' => ['Content-Type' => 'application/json'], 'body' => '{"status":"ok"}'],
            ['status' => 503, 'headers' => ['Retry-After' => '1'], 'body' => '{"status":"unavailable"}'],
            T::ok(201, ['id' => 'ev_2'], ['idempotent-replayed' => 'true', 'x-request-id' => 'req-9']),
        ]);
        $c = $this->client($t, ['maxRetries' => 0]);
        self::assertNull($c->getLastResponse());
        self::assertSame(['status' => 'ok'], $c->health());
        self::assertSame('http://127.0.0.1:8080/healthz', $t->requests[0]['url']);
        try {
            $c->health();
            self::fail('no exception');
        } catch (Exception\Unavailable $e) {
            self::assertSame(503, $e->getHttpStatus());
            self::assertSame(1, $e->getRetryAfter());
        }
        self::assertSame(['id' => 'ev_2'], $c->request('POST', '/v1/verifications/email', ['email' => 'x@example.com'], ['Idempotency-Key: abc']));
        self::assertSame('abc', $t->header(2, 'Idempotency-Key'));
        $last = $c->getLastResponse();
        self::assertSame(201, $last['status']);
        self::assertSame('true', $last['headers']['idempotent-replayed']);
        self::assertSame('req-9', $last['requestId']);
        self::assertSame(1, $last['attempts']);
        foreach ([['get', 'v1/x'], ['GET', '/a b'], ['GET', "/a\n"]] as list($m, $p)) {
            try {
                $c->request($m, $p);
                self::fail("accepted $m $p");
            } catch (InvalidArgumentException $e) {
                self::assertNotSame('', $e->getMessage());
            }
        }
    }

    public function testTheDefaultTransportIsCurlWhenLoaded(): void
    {
        $c = new Client('k');
        $p = new \ReflectionProperty(Client::class, 'transport');
        $p->setAccessible(true);
        self::assertInstanceOf(extension_loaded('curl') ? \Mailproof\Transport\CurlTransport::class
            : \Mailproof\Transport\StreamTransport::class, $p->getValue($c));
    }
}
