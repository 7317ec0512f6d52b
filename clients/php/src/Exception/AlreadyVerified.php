<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 409 ALREADY_VERIFIED: the verification is verified already (a second submission of the right code, say).
 */
class AlreadyVerified extends ApiException
{
}
