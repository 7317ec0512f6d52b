<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 400 REDIRECT_NOT_ALLOWED: redirectUrl matches none of the account's allowed redirect prefixes (mailproofctl tenant update --redirect-allow).
 */
class RedirectNotAllowed extends ApiException
{
}
