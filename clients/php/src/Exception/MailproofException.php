<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * The base of every run-time failure of the library: an error answer of
 * the API (ApiException), a failed connection (ConnectionException) or a
 * webhook that does not verify (WebhookVerificationFailed).
 */
class MailproofException extends \RuntimeException implements ExceptionInterface
{
}
