<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * No answer from the service: the connection failed, was refused or reset,
 * or timed out (isTimeout()). For a verify, resend or cancel the request
 * may or may not have reached the service; a start with an idempotency key
 * can safely be repeated with the same key.
 */
class ConnectionException extends MailproofException
{
    /** @var bool */
    private $timeout;

    public function __construct(string $message, bool $timeout = false, ?\Throwable $previous = null)
    {
        parent::__construct($message, 0, $previous);
        $this->timeout = $timeout;
    }

    /** Whether the connection or the answer took longer than the configured time-out. */
    public function isTimeout(): bool
    {
        return $this->timeout;
    }
}
