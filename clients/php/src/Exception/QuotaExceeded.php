<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 402 QUOTA_EXCEEDED: the account's monthly quota is used up.
 */
class QuotaExceeded extends ApiException
{
}
