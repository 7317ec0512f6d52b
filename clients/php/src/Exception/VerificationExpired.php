<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 410 VERIFICATION_EXPIRED: the verification is past its expiresAt; start a new one (or resend() while it is PENDING).
 */
class VerificationExpired extends ApiException
{
}
