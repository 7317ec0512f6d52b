<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 409 VERIFICATION_CANCELED: the verification was canceled, or superseded by a newer start for the same address and user.
 */
class VerificationCanceled extends ApiException
{
}
