<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 503 UNAVAILABLE: the service cannot reach its database and says so at
 * once; also any 5xx answer that is not mailproof's JSON (a proxy's or web
 * server's own error page: getHttpStatus() tells the real status). Safe
 * requests were already retried; try again later.
 */
class Unavailable extends ApiException
{
    /** Seconds the service asked to wait (Retry-After), or null. */
    public function getRetryAfter(): ?int
    {
        return $this->retryAfterSeconds();
    }
}
