<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * A wrong argument, found before any request is made: a malformed
 * verification id, an API key or Idempotency-Key with characters a header
 * cannot carry, a webhook secret that is not base64, an unknown option.
 * A mistake in the calling code, not a failure at run time.
 */
class InvalidArgumentException extends \InvalidArgumentException implements ExceptionInterface
{
}
