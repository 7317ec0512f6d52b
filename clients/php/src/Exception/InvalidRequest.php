<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 400 INVALID_REQUEST: bad JSON, an unknown or ill-typed field, a value out of range; getMessage() names the field.
 */
class InvalidRequest extends ApiException
{
}
