<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 409 IDEMPOTENCY_CONFLICT: the Idempotency-Key was used with another body, or the first request with it is still running.
 */
class IdempotencyConflict extends ApiException
{
}
