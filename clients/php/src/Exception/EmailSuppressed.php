<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 422 EMAIL_SUPPRESSED: the address is on the account's suppression list (its owner said they did not ask for mail); no mail is sent to it.
 */
class EmailSuppressed extends ApiException
{
}
