<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 403: the API key may not do this. Its one subclass today is ScopeRequired.
 */
class Forbidden extends ApiException
{
}
