<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * An error answer of the API:
 * `{"success":false,"error":{"code","message","details"}}`.
 * Catch a subclass for one code (InvalidCode, RateLimited, NotFound, ...),
 * or this class and switch on getErrorCode() against the ErrorCode
 * constants. An unknown code (from a newer service) arrives as an
 * ApiException itself. getCode() is the HTTP status too.
 */
class ApiException extends MailproofException implements ErrorCode
{
    /** @var array<string, class-string<ApiException>> the class for each code */
    const CLASSES = [
        self::INVALID_REQUEST => InvalidRequest::class,
        self::INVALID_EMAIL => InvalidEmail::class,
        self::UNAUTHORIZED => Unauthorized::class,
        self::SCOPE_REQUIRED => ScopeRequired::class,
        self::NOT_FOUND => NotFound::class,
        self::VERIFICATION_NOT_FOUND => NotFound::class,
        self::METHOD_NOT_ALLOWED => MethodNotAllowed::class,
        self::PAYLOAD_TOO_LARGE => PayloadTooLarge::class,
        self::UNSUPPORTED_MEDIA_TYPE => UnsupportedMediaType::class,
        self::RATE_LIMITED => RateLimited::class,
        self::QUOTA_EXCEEDED => QuotaExceeded::class,
        self::UNAVAILABLE => Unavailable::class,
        self::INTERNAL_ERROR => InternalError::class,
        self::EMAIL_SEND_FAILED => EmailSendFailed::class,
        self::EMAIL_SUPPRESSED => EmailSuppressed::class,
        self::DISPOSABLE_EMAIL => DisposableEmail::class,
        self::UNDELIVERABLE_EMAIL => UndeliverableEmail::class,
        self::REDIRECT_NOT_ALLOWED => RedirectNotAllowed::class,
        self::IDEMPOTENCY_CONFLICT => IdempotencyConflict::class,
        self::INVALID_CODE => InvalidCode::class,
        self::MAX_ATTEMPTS_EXCEEDED => MaxAttemptsExceeded::class,
        self::VERIFICATION_FAILED => VerificationFailed::class,
        self::VERIFICATION_EXPIRED => VerificationExpired::class,
        self::ALREADY_VERIFIED => AlreadyVerified::class,
        self::VERIFICATION_CANCELED => VerificationCanceled::class,
        self::UNEXPECTED_RESPONSE => UnexpectedResponse::class,
    ];

    /** @var string */
    private $errorCode;
    /** @var int */
    private $httpStatus;
    /** @var string|null */
    private $requestId;
    /** @var array<string, mixed> */
    private $details;
    /** @var array<string, string> */
    private $headers;

    /**
     * @param array<string, mixed>  $details the error's details object
     * @param array<string, string> $headers the answer's headers, names in lower case
     */
    public function __construct(
        string $errorCode,
        string $message,
        int $httpStatus,
        ?string $requestId = null,
        array $details = [],
        array $headers = []
    ) {
        parent::__construct($message, $httpStatus);
        $this->errorCode = $errorCode;
        $this->httpStatus = $httpStatus;
        $this->requestId = $requestId;
        $this->details = $details;
        $this->headers = $headers;
    }

    /**
     * The exception of the class that fits the code: ApiException itself
     * for a code this version does not know.
     *
     * @param array<string, mixed>  $details
     * @param array<string, string> $headers names in lower case
     */
    public static function create(
        string $errorCode,
        string $message,
        int $httpStatus,
        ?string $requestId = null,
        array $details = [],
        array $headers = []
    ): ApiException {
        $class = self::CLASSES[$errorCode] ?? self::class;
        return new $class($errorCode, $message, $httpStatus, $requestId, $details, $headers);
    }

    /** The API's error code, such as `INVALID_CODE`: compare with the ErrorCode constants. */
    public function getErrorCode(): string
    {
        return $this->errorCode;
    }

    /** The HTTP status of the answer, such as 422. */
    public function getHttpStatus(): int
    {
        return $this->httpStatus;
    }

    /** The X-Request-Id of the answer: quote it when you ask for support; it is in the service's log. */
    public function getRequestId(): ?string
    {
        return $this->requestId;
    }

    /**
     * The error's `details` object (empty when it has none).
     *
     * @return array<string, mixed>
     */
    public function getDetails(): array
    {
        return $this->details;
    }

    /**
     * The answer's headers, names in lower case.
     *
     * @return array<string, string>
     */
    public function getHeaders(): array
    {
        return $this->headers;
    }

    /** One header of the answer (case-insensitive name), or null. */
    public function getHeader(string $name): ?string
    {
        return $this->headers[strtolower($name)] ?? null;
    }

    /**
     * Seconds to wait from the Retry-After header (seconds or an HTTP date),
     * else from details.retryAfterSeconds; null when neither is there.
     */
    protected function retryAfterSeconds(): ?int
    {
        $h = $this->getHeader('retry-after');
        if ($h !== null) {
            $s = self::parseRetryAfter($h);
            if ($s !== null) {
                return $s;
            }
        }
        $d = $this->details['retryAfterSeconds'] ?? null;
        return is_int($d) && $d >= 0 ? $d : null;
    }

    /**
     * Reads a Retry-After value, delta-seconds or an HTTP date, as seconds
     * from now (at least 0); null when it is neither.
     *
     * @internal
     */
    public static function parseRetryAfter(string $value, ?int $now = null): ?int
    {
        $value = trim($value);
        if ($value === '') {
            return null;
        }
        if (ctype_digit($value)) {
            return (int) $value;
        }
        $t = strtotime($value);
        if ($t === false) {
            return null;
        }
        return max(0, $t - ($now ?? time()));
    }
}
