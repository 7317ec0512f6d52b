<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * The error codes of the mailproof API (`error.code` of an error answer),
 * as constants. ApiException implements this interface, so
 * `ApiException::INVALID_CODE` names the same string as
 * `ErrorCode::INVALID_CODE`.
 */
interface ErrorCode
{
    /** 400: bad JSON, an unknown or ill-typed field, a value out of range. */
    const INVALID_REQUEST = 'INVALID_REQUEST';
    /** 400: `email` is not one valid address. */
    const INVALID_EMAIL = 'INVALID_EMAIL';
    /** 401: the API key is missing, unknown or revoked. */
    const UNAUTHORIZED = 'UNAUTHORIZED';
    /** 403: the API key lacks the scope the route needs (details.scope names it). */
    const SCOPE_REQUIRED = 'SCOPE_REQUIRED';
    /** 404: no such route. */
    const NOT_FOUND = 'NOT_FOUND';
    /** 404: no such verification, or another account's. */
    const VERIFICATION_NOT_FOUND = 'VERIFICATION_NOT_FOUND';
    /** 405: the route does not take this method. */
    const METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED';
    /** 413: the request body is over the service's limit (details.maxBytes). */
    const PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE';
    /** 415: the body is not sent as application/json. */
    const UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE';
    /** 429: a rate limit (details.limit names it; Retry-After says when to try again). */
    const RATE_LIMITED = 'RATE_LIMITED';
    /** 402: the account's monthly quota is used up. */
    const QUOTA_EXCEEDED = 'QUOTA_EXCEEDED';
    /** 503: the service cannot reach its database; try again shortly. */
    const UNAVAILABLE = 'UNAVAILABLE';
    /** 500: a failure inside the service. */
    const INTERNAL_ERROR = 'INTERNAL_ERROR';
    /** 502: the mail server refused the mail; the verification has failed (details.verificationId). */
    const EMAIL_SEND_FAILED = 'EMAIL_SEND_FAILED';
    /** 422: the address is on the account's suppression list. */
    const EMAIL_SUPPRESSED = 'EMAIL_SUPPRESSED';
    /** 422: the address is at a disposable mail domain (when the service rejects those). */
    const DISPOSABLE_EMAIL = 'DISPOSABLE_EMAIL';
    /** 422: the address's domain receives no mail (when the service checks MX records). */
    const UNDELIVERABLE_EMAIL = 'UNDELIVERABLE_EMAIL';
    /** 400: redirectUrl matches none of the account's allowed redirect prefixes. */
    const REDIRECT_NOT_ALLOWED = 'REDIRECT_NOT_ALLOWED';
    /** 409: the Idempotency-Key was used with another body, or its first request is still running. */
    const IDEMPOTENCY_CONFLICT = 'IDEMPOTENCY_CONFLICT';
    /** 422: wrong code; attempts remain (details.attemptsRemaining). */
    const INVALID_CODE = 'INVALID_CODE';
    /** 422: wrong code and no attempts remain: the verification has now failed. */
    const MAX_ATTEMPTS_EXCEEDED = 'MAX_ATTEMPTS_EXCEEDED';
    /** 409: the verification has failed earlier (attempts used up, or the mail could not be sent). */
    const VERIFICATION_FAILED = 'VERIFICATION_FAILED';
    /** 410: the verification is past its expiresAt. */
    const VERIFICATION_EXPIRED = 'VERIFICATION_EXPIRED';
    /** 409: the verification is verified already. */
    const ALREADY_VERIFIED = 'ALREADY_VERIFIED';
    /** 409: the verification was canceled, or superseded by a newer start. */
    const VERIFICATION_CANCELED = 'VERIFICATION_CANCELED';
    /** Not sent by mailproof: the answer was not a mailproof JSON answer (a proxy's error page, say). */
    const UNEXPECTED_RESPONSE = 'UNEXPECTED_RESPONSE';
}
