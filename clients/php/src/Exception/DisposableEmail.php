<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 422 DISPOSABLE_EMAIL: the address is at a disposable mail domain and the service is set to refuse those.
 */
class DisposableEmail extends ApiException
{
}
