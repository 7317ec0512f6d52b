<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 404 NOT_FOUND (no such route: check baseUrl) or VERIFICATION_NOT_FOUND (no such verification, or another account's); getErrorCode() tells which.
 */
class NotFound extends ApiException
{
}
