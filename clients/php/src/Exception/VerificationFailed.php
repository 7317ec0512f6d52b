<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 409 VERIFICATION_FAILED: the verification failed earlier (its attempts are used up, or its mail could not be sent); start a new one.
 */
class VerificationFailed extends ApiException
{
}
