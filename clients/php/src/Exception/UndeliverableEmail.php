<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 422 UNDELIVERABLE_EMAIL: the address's domain receives no mail (the service checks MX records).
 */
class UndeliverableEmail extends ApiException
{
}
