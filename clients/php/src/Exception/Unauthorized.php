<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 401 UNAUTHORIZED: the API key is missing, unknown or revoked.
 */
class Unauthorized extends ApiException
{
}
