<?php

declare(strict_types=1);

namespace Mailproof;

use Mailproof\Exception\ApiException;
use Mailproof\Exception\ConnectionException;
use Mailproof\Exception\InvalidArgumentException;
use Mailproof\Transport\CurlTransport;
use Mailproof\Transport\StreamTransport;

/**
 * The mailproof API: start an email verification, check the code, read,
 * list, resend and cancel verifications.
 *
 * Every method returns the answer's `data` as an associative array and
 * throws a Mailproof\Exception\ApiException subclass for an error answer,
 * or a ConnectionException when no answer came. GET requests, and a start
 * that carries an idempotency key, are retried on a lost connection, a
 * time-out, 503, a 5xx that is not mailproof's JSON and 429 (see the
 * README's retry policy); verify, resend, cancel and a start without a key
 * never are.
 */
final class Client
{
    /** This library's version, sent in the User-Agent. */
    const VERSION = '1.0.0';
    /** Where `./dev.sh up` serves the API. */
    const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';
    /** The start() option that is sent as the Idempotency-Key header, not as a body field. */
    const IDEMPOTENCY_KEY_OPTION = 'idempotencyKey';

    /** @var string */
    private $apiKey;
    /** @var string */
    private $baseUrl;
    /** @var float */
    private $timeout;
    /** @var float */
    private $connectTimeout;
    /** @var int */
    private $maxRetries;
    /** @var float */
    private $retryDelay;
    /** @var float */
    private $maxRetryDelay;
    /** @var string */
    private $userAgent;
    /** @var callable */
    private $transport;
    /** @var callable */
    private $sleep;
    /** @var array|null status, headers, requestId, attempts */
    private $lastResponse;

    /**
     * @param string $apiKey  an API key of your account (mailproofctl key create)
     * @param array  $options all optional:
     *   - `baseUrl` (string): where the API is, with the path it is mounted under if any;
     *     default `http://127.0.0.1:8080`
     *   - `timeout` (float): seconds for a whole request; default 10
     *   - `connectTimeout` (float): seconds to connect; default 5
     *   - `maxRetries` (int): retries of a safe request; default 2 (0: none)
     *   - `retryDelay` (float): seconds before the first retry, doubled each time, with jitter; default 0.5
     *   - `maxRetryDelay` (float): the longest wait before a retry; a Retry-After longer
     *     than this is not waited for: the error is thrown at once; default 10
     *   - `userAgent` (string): prepended to the client's own User-Agent
     *   - `transport` (callable): sends one request, see Transport\TransportInterface;
     *     default CurlTransport when ext-curl is loaded, else StreamTransport
     *   - `sleep` (callable): takes seconds (float) and waits; for tests
     * @throws InvalidArgumentException for an empty key, an unknown option or a bad value
     */
    public function __construct(string $apiKey, array $options = [])
    {
        if ($apiKey === '' || preg_match('/[^\x21-\x7e]/', $apiKey)) {
            throw new InvalidArgumentException('the API key must be non-empty visible ASCII');
        }
        $known = ['baseUrl', 'timeout', 'connectTimeout', 'maxRetries', 'retryDelay', 'maxRetryDelay',
            'userAgent', 'transport', 'sleep'];
        foreach (array_keys($options) as $name) {
            if (!in_array($name, $known, true)) {
                throw new InvalidArgumentException(sprintf('unknown option %s; known: %s', $name, implode(', ', $known)));
            }
        }
        $this->apiKey = $apiKey;
        $base = (string) ($options['baseUrl'] ?? self::DEFAULT_BASE_URL);
        $parts = parse_url($base);
        if ($parts === false || !isset($parts['scheme'], $parts['host'])
            || !in_array(strtolower($parts['scheme']), ['http', 'https'], true)
            || isset($parts['query']) || isset($parts['fragment'])) {
            throw new InvalidArgumentException('baseUrl must be an http or https URL without query, such as https://verify.example.com/mailproof');
        }
        $this->baseUrl = rtrim($base, '/');
        $this->timeout = self::positive($options, 'timeout', 10.0);
        $this->connectTimeout = self::positive($options, 'connectTimeout', 5.0);
        $this->retryDelay = self::positive($options, 'retryDelay', 0.5, true);
        $this->maxRetryDelay = self::positive($options, 'maxRetryDelay', 10.0, true);
        $retries = $options['maxRetries'] ?? 2;
        if (!is_int($retries) || $retries < 0) {
            throw new InvalidArgumentException('maxRetries must be an integer >= 0');
        }
        $this->maxRetries = $retries;
        $ua = 'mailproof-php/' . self::VERSION . ' PHP/' . PHP_VERSION;
        if (isset($options['userAgent'])) {
            $ua = (string) $options['userAgent'] . ' ' . $ua;
        }
        if (preg_match('/[\r\n]/', $ua)) {
            throw new InvalidArgumentException('userAgent must not contain line breaks');
        }
        $this->userAgent = $ua;
        if (isset($options['transport'])) {
            if (!is_callable($options['transport'])) {
                throw new InvalidArgumentException('transport must be callable');
            }
            $this->transport = $options['transport'];
        } else {
            $this->transport = extension_loaded('curl') ? new CurlTransport() : new StreamTransport();
        }
        if (isset($options['sleep'])) {
            if (!is_callable($options['sleep'])) {
                throw new InvalidArgumentException('sleep must be callable');
            }
            $this->sleep = $options['sleep'];
        } else {
            $this->sleep = static function (float $seconds): void {
                usleep((int) round($seconds * 1e6));
            };
        }
    }

    /**
     * Starts a verification: mails a code (or a magic link) to $email.
     * POST /v1/verifications/email; answer 201.
     *
     * @param string $email   the address to prove
     * @param array  $options the body fields: `userId`, `method`
     *   (OTP|MAGIC_LINK|CODE_AND_LINK), `redirectUrl`, `tokenFormat`
     *   (numeric|alpha|alphanumeric|hex), `codeLength`, `expiresInSeconds`, `maxAttempts`,
     *   `subject`, `verificationLine`, `metadata` (array), `locale`, `clientIp`,
     *   `userAgent`, `delivery` (smtp|none|webhook) and `customCode` (these two need a key
     *   with verifications:deliver; with none the answer has `code` and `link`, once:
     *   docs/delivery.md) (any other key is sent as is); and
     *   `idempotencyKey`, sent as the Idempotency-Key header: a repeat with the same key
     *   and body replays the first answer and mails nothing, so the client retries such
     *   a start safely
     * @return array the verification: id, status (PENDING), email, userId, method,
     *   expiresAt, createdAt, maxAttempts, attemptsRemaining, sent, delivery,
     *   hostedVerifyUrl, resendAvailableAt, metadata
     * @throws Exception\InvalidEmail|Exception\InvalidRequest|Exception\RedirectNotAllowed
     * @throws Exception\RateLimited|Exception\QuotaExceeded|Exception\EmailSuppressed
     * @throws Exception\IdempotencyConflict|Exception\EmailSendFailed|Exception\ApiException
     * @throws ConnectionException
     */
    public function start(string $email, array $options = []): array
    {
        $body = $options;
        unset($body[self::IDEMPOTENCY_KEY_OPTION]);
        $body = ['email' => $email] + $body;
        if (isset($body['metadata']) && $body['metadata'] === []) {
            $body['metadata'] = new \stdClass(); // {} not []
        }
        $headers = [];
        $key = $options[self::IDEMPOTENCY_KEY_OPTION] ?? null;
        if ($key !== null) {
            if (!is_string($key) || $key === '' || strlen($key) > 255 || preg_match('/[^\x21-\x7e]/', $key)) {
                throw new InvalidArgumentException('idempotencyKey must be 1 to 255 visible ASCII characters');
            }
            $headers[] = 'Idempotency-Key: ' . $key;
        }
        return $this->call('POST', '/v1/verifications/email', $body, $headers, $key !== null);
    }

    /**
     * Checks the code the person typed.
     * POST /v1/verifications/email/{id}/verify; answer 200. Never retried.
     *
     * @return array id, status (VERIFIED), email, userId, verifiedAt
     * @throws Exception\InvalidCode (getAttemptsRemaining()) when the code is wrong
     * @throws Exception\MaxAttemptsExceeded when it was wrong the last time allowed
     * @throws Exception\VerificationFailed|Exception\VerificationExpired
     * @throws Exception\AlreadyVerified|Exception\VerificationCanceled|Exception\NotFound
     * @throws Exception\ApiException|ConnectionException
     */
    public function verify(string $id, string $code): array
    {
        return $this->call('POST', $this->path($id, '/verify'), ['code' => $code], [], false);
    }

    /**
     * Reads a verification. GET /v1/verifications/email/{id}.
     *
     * @return array id, userId, email, method, status (PENDING, VERIFIED, FAILED, EXPIRED,
     *   CANCELED), attempts, attemptsRemaining, maxAttempts, expiresAt, createdAt,
     *   verifiedAt, delivery, deliverability, disposable, linkViews, metadata
     * @throws Exception\NotFound|Exception\ApiException|ConnectionException
     */
    public function get(string $id): array
    {
        return $this->call('GET', $this->path($id, ''), null, [], true);
    }

    /**
     * Mails a new code (and a new expiry) for a PENDING verification; the
     * old code stops working and the attempts start again.
     * POST /v1/verifications/email/{id}/resend; answer 200. Never retried.
     *
     * @return array the verification, as start() returns it
     * @throws Exception\RateLimited (limit `resend_cooldown` until resendAvailableAt)
     * @throws Exception\VerificationFailed|Exception\VerificationExpired|Exception\AlreadyVerified
     * @throws Exception\VerificationCanceled|Exception\NotFound|Exception\ApiException
     * @throws ConnectionException
     */
    public function resend(string $id): array
    {
        return $this->call('POST', $this->path($id, '/resend'), null, [], false);
    }

    /**
     * Cancels a PENDING verification: its code stops working.
     * POST /v1/verifications/email/{id}/cancel; answer 200. Never retried.
     *
     * @return array the verification as get() shows it, status CANCELED
     * @throws Exception\AlreadyVerified|Exception\VerificationFailed|Exception\VerificationCanceled
     * @throws Exception\NotFound|Exception\ApiException|ConnectionException
     */
    public function cancel(string $id): array
    {
        return $this->call('POST', $this->path($id, '/cancel'), null, [], false);
    }

    /**
     * Every verification that matches, newest first, one page after the
     * other (the pages are fetched as the loop reaches them).
     * GET /v1/verifications/email.
     *
     * @param array $filters `email`, `userId`, `status` (PENDING, VERIFIED, FAILED,
     *   EXPIRED, CANCELED), `limit` (page size, 1 to 100, default 20), `cursor`
     *   (start after a page that listPage() returned)
     * @return \Generator yields each verification (array) as get() shows it
     * @throws Exception\InvalidRequest|Exception\ApiException|ConnectionException (while iterating)
     */
    public function list(array $filters = []): \Generator
    {
        self::checkFilters($filters);
        return $this->walk($filters);
    }

    /**
     * One page of the list. GET /v1/verifications/email.
     *
     * @param array       $filters as list() takes them
     * @param string|null $cursor  the nextCursor of the page before, or null for the first
     * @return array `items` (verifications as get() shows them) and `nextCursor`
     *   (string, or null on the last page)
     * @throws Exception\InvalidRequest|Exception\ApiException|ConnectionException
     */
    public function listPage(array $filters = [], ?string $cursor = null): array
    {
        self::checkFilters($filters);
        if ($cursor !== null) {
            $filters['cursor'] = $cursor;
        }
        $query = http_build_query($filters, '', '&', PHP_QUERY_RFC3986);
        return $this->call('GET', '/v1/verifications/email' . ($query === '' ? '' : '?' . $query), null, [], true);
    }

    /**
     * Whether the service and its database answer. GET /healthz (no key needed).
     *
     * @return array `['status' => 'ok']`
     * @throws Exception\Unavailable when the database does not answer (after the retries)
     * @throws ConnectionException
     */
    public function health(): array
    {
        return $this->call('GET', '/healthz', null, [], true, false);
    }

    /**
     * Any request, for a route this version has no method for. The answer's
     * `data` is returned; error answers throw as for the other methods.
     * GET and HEAD are retried like get(); other methods are not.
     *
     * @param string     $method  GET, POST, ...
     * @param string     $path    from the API's root, such as `/v1/verifications/email`
     * @param array|null $body    sent as JSON, or null for none
     * @param string[]   $headers more "Name: value" lines (a Content-Type here replaces JSON's)
     * @return array the answer's `data`
     * @throws Exception\ApiException|ConnectionException
     */
    public function request(string $method, string $path, ?array $body = null, array $headers = []): array
    {
        if (!preg_match('/^[A-Z]+\z/', $method) || $path === '' || $path[0] !== '/' || preg_match('/[\x00-\x20\x7f]/', $path)) {
            throw new InvalidArgumentException('method must be upper-case letters and path must start with / and hold no spaces');
        }
        foreach ($headers as $h) {
            if (!is_string($h) || preg_match('/[\r\n]/', $h) || strpos($h, ':') === false) {
                throw new InvalidArgumentException('headers must be "Name: value" lines');
            }
        }
        return $this->call($method, $path, $body, $headers, $method === 'GET' || $method === 'HEAD');
    }

    /**
     * What the last answer was: `status`, `headers` (names in lower case),
     * `requestId` (X-Request-Id) and `attempts` (how many tries it took);
     * null before the first. An idempotent replay of a start has the
     * header `idempotent-replayed: true`.
     *
     * @return array|null `['status' => int, 'headers' => array, 'requestId' => ?string, 'attempts' => int]`
     */
    public function getLastResponse(): ?array
    {
        return $this->lastResponse;
    }

    /** The base URL requests go to, without a trailing slash. */
    public function getBaseUrl(): string
    {
        return $this->baseUrl;
    }

    // ------------------------------------------------------------------ internals

    /** @param array<string, mixed> $filters */
    private static function checkFilters(array $filters): void
    {
        foreach ($filters as $name => $value) {
            if (!in_array($name, ['email', 'userId', 'status', 'limit', 'cursor'], true)) {
                throw new InvalidArgumentException(sprintf('unknown list filter %s; known: email, userId, status, limit, cursor', (string) $name));
            }
            if (!is_string($value) && !is_int($value)) {
                throw new InvalidArgumentException(sprintf('list filter %s must be a string or an integer', $name));
            }
        }
    }

    /** @param array<string, mixed> $filters */
    private function walk(array $filters): \Generator
    {
        $cursor = isset($filters['cursor']) ? (string) $filters['cursor'] : null;
        unset($filters['cursor']);
        do {
            $page = $this->listPage($filters, $cursor);
            foreach ($page['items'] ?? [] as $item) {
                yield $item;
            }
            $next = $page['nextCursor'] ?? null;
            if ($next !== null && $next === $cursor) {
                throw new Exception\UnexpectedResponse(ApiException::UNEXPECTED_RESPONSE, 'the list gave the same cursor twice', 200);
            }
            $cursor = is_string($next) && $next !== '' ? $next : null;
        } while ($cursor !== null);
    }

    /** The path of a verification's route: the id checked, so that it can only be one path segment. */
    private function path(string $id, string $suffix): string
    {
        if (!preg_match('/^[A-Za-z0-9_-]{1,64}\z/', $id)) {
            throw new InvalidArgumentException('a verification id is letters, digits, _ and -, such as ev_01J...; got ' . json_encode($id));
        }
        return '/v1/verifications/email/' . rawurlencode($id) . $suffix;
    }

    /** @param array<string, mixed> $options */
    private static function positive(array $options, string $name, float $default, bool $zeroOk = false): float
    {
        if (!isset($options[$name])) {
            return $default;
        }
        $v = $options[$name];
        if (!is_int($v) && !is_float($v) || $v < 0 || (!$zeroOk && $v == 0)) {
            throw new InvalidArgumentException(sprintf('%s must be a number of seconds %s 0', $name, $zeroOk ? '>=' : '>'));
        }
        return (float) $v;
    }

    /**
     * Sends a request, with the retries it is safe for; returns `data`.
     *
     * @param array<string, mixed>|null $body
     * @param string[]                  $headers
     */
    private function call(string $method, string $path, ?array $body, array $headers, bool $retryable, bool $enveloped = true): array
    {
        $lines = [
            'Authorization: Bearer ' . $this->apiKey,
            'Accept: application/json',
            'User-Agent: ' . $this->userAgent,
        ];
        $payload = null;
        if ($body !== null) {
            $payload = json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
            if ($payload === false) {
                throw new InvalidArgumentException('the request body cannot be sent as JSON: ' . json_last_error_msg());
            }
            $hasType = false;
            foreach ($headers as $h) {
                if (stripos($h, 'content-type:') === 0) {
                    $hasType = true;
                }
            }
            if (!$hasType) {
                $lines[] = 'Content-Type: application/json';
            }
        }
        $request = [
            'method' => $method,
            'url' => $this->baseUrl . $path,
            'headers' => array_merge($lines, $headers),
            'body' => $payload,
            'timeout' => $this->timeout,
            'connectTimeout' => $this->connectTimeout,
        ];
        $attempt = 0;
        while (true) {
            $attempt++;
            $canRetry = $retryable && $attempt <= $this->maxRetries;
            try {
                $response = ($this->transport)($request);
            } catch (ConnectionException $e) {
                if (!$canRetry) {
                    throw $e;
                }
                ($this->sleep)($this->backoff($attempt));
                continue;
            }
            $status = (int) $response['status'];
            $rheaders = [];
            foreach ($response['headers'] as $name => $value) {
                $rheaders[strtolower((string) $name)] = is_array($value) ? implode(', ', $value) : (string) $value;
            }
            $requestId = $rheaders['x-request-id'] ?? null;
            $this->lastResponse = ['status' => $status, 'headers' => $rheaders, 'requestId' => $requestId, 'attempts' => $attempt];
            $decoded = json_decode((string) $response['body'], true);
            $isJson = is_array($decoded);
            if ($status >= 200 && $status < 300) {
                if (!$enveloped && $isJson) {
                    return $decoded;
                }
                if ($isJson && ($decoded['success'] ?? null) === true && is_array($decoded['data'] ?? null)) {
                    return $decoded['data'];
                }
                throw new Exception\UnexpectedResponse(ApiException::UNEXPECTED_RESPONSE,
                    sprintf('HTTP %d with a body that is not a mailproof answer: %s', $status, self::excerpt((string) $response['body'])),
                    $status, $requestId, [], $rheaders);
            }
            $error = $isJson && isset($decoded['error']) && is_array($decoded['error']) ? $decoded['error'] : null;
            if ($error !== null && is_string($error['code'] ?? null)) {
                $e = ApiException::create($error['code'], (string) ($error['message'] ?? $error['code']), $status,
                    $requestId, is_array($error['details'] ?? null) ? $error['details'] : [], $rheaders);
            } else {
                $e = self::notMailproof($status, (string) $response['body'], $requestId, $rheaders, $isJson ? $decoded : null);
            }
            $delay = $canRetry ? $this->retryDelayFor($e, $error !== null, $attempt) : null;
            if ($delay === null) {
                throw $e;
            }
            ($this->sleep)($delay);
        }
    }

    /**
     * How long to wait before retrying after $e, or null not to retry:
     * 503 (mailproof's UNAVAILABLE or not), a 5xx that is not mailproof's
     * JSON (502 and 504 from a proxy, say), and 429, honouring Retry-After
     * up to maxRetryDelay.
     */
    private function retryDelayFor(ApiException $e, bool $mailproofAnswer, int $attempt): ?float
    {
        $status = $e->getHttpStatus();
        $retry = $status === 503 || $status === 429 || ($status >= 500 && !$mailproofAnswer);
        if (!$retry) {
            return null;
        }
        $after = $e->getHeader('retry-after');
        $seconds = $after !== null ? ApiException::parseRetryAfter($after) : null;
        if ($seconds === null && $status === 429) {
            $d = $e->getDetails()['retryAfterSeconds'] ?? null;
            $seconds = is_int($d) ? $d : null;
        }
        if ($seconds !== null) {
            if ($seconds > $this->maxRetryDelay) {
                return null; // not worth waiting for here: the caller decides
            }
            return max((float) $seconds, $status === 429 ? 0.0 : $this->backoff($attempt) / 2);
        }
        return $this->backoff($attempt);
    }

    /** retryDelay * 2^(attempt-1), scaled by a random factor in [0.5, 1], at most maxRetryDelay. */
    private function backoff(int $attempt): float
    {
        $base = $this->retryDelay * (2 ** ($attempt - 1));
        $jitter = 0.5 + mt_rand() / mt_getrandmax() / 2;
        return min($this->maxRetryDelay, $base * $jitter);
    }

    /**
     * The exception for an error answer that is not mailproof's JSON: a
     * 5xx is taken as UNAVAILABLE (a proxy's or web server's error page);
     * 4xx statuses that mailproof also answers map to their codes.
     *
     * @param array<string, string> $headers
     * @param array<mixed>|null     $json
     */
    private static function notMailproof(int $status, string $body, ?string $requestId, array $headers, ?array $json): ApiException
    {
        $map = [
            400 => ApiException::INVALID_REQUEST,
            401 => ApiException::UNAUTHORIZED,
            404 => ApiException::NOT_FOUND,
            405 => ApiException::METHOD_NOT_ALLOWED,
            413 => ApiException::PAYLOAD_TOO_LARGE,
            415 => ApiException::UNSUPPORTED_MEDIA_TYPE,
            429 => ApiException::RATE_LIMITED,
        ];
        $code = $status >= 500 ? ApiException::UNAVAILABLE : ($map[$status] ?? ApiException::UNEXPECTED_RESPONSE);
        $what = $json !== null && isset($json['status']) && is_string($json['status'])
            ? 'status ' . $json['status'] : self::excerpt($body);
        return ApiException::create($code, sprintf('HTTP %d, not a mailproof error answer: %s', $status, $what),
            $status, $requestId, [], $headers);
    }

    private static function excerpt(string $body): string
    {
        $text = trim(preg_replace('/\s+/', ' ', strip_tags($body)) ?? '');
        if ($text === '') {
            return '(empty body)';
        }
        return strlen($text) > 120 ? substr($text, 0, 117) . '...' : $text;
    }
}
