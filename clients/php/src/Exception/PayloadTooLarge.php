<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 413 PAYLOAD_TOO_LARGE: the request body is over the service's
 * `max_body_bytes` (16384 by default); getMaxBytes() says the limit.
 */
class PayloadTooLarge extends ApiException
{
    /** The largest body the service takes, in bytes (details.maxBytes), or null. */
    public function getMaxBytes(): ?int
    {
        $n = $this->getDetails()['maxBytes'] ?? null;
        return is_int($n) ? $n : null;
    }
}
