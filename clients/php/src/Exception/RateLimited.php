<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 429 RATE_LIMITED: a rate limit was reached. getLimit() names it (such as
 * `per_email_per_hour`, `per_key_per_minute`, `resend_cooldown`) and
 * getRetryAfter() says in how many seconds to try again.
 */
class RateLimited extends ApiException
{
    /** Seconds until a new try may succeed: the Retry-After header, else details.retryAfterSeconds. */
    public function getRetryAfter(): ?int
    {
        return $this->retryAfterSeconds();
    }

    /** The limit that was reached (details.limit), such as `resend_cooldown`. */
    public function getLimit(): ?string
    {
        $l = $this->getDetails()['limit'] ?? null;
        return is_string($l) ? $l : null;
    }

    /** When to try again, RFC 3339 UTC (details.retryAt). */
    public function getRetryAt(): ?string
    {
        $t = $this->getDetails()['retryAt'] ?? null;
        return is_string($t) ? $t : null;
    }
}
