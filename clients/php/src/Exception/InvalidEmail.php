<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 400 INVALID_EMAIL: the address is not one valid mailbox (local@domain).
 */
class InvalidEmail extends ApiException
{
}
