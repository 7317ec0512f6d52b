<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 500 INTERNAL_ERROR: a failure inside the service; quote getRequestId() when you report it.
 */
class InternalError extends ApiException
{
}
