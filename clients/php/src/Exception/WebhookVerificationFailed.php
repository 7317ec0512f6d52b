<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * A webhook request that must not be trusted: answer it with 400 or 401
 * and do not act on it. getReason() says why, as one of the constants.
 */
class WebhookVerificationFailed extends MailproofException
{
    /** A webhook-id, webhook-timestamp or webhook-signature header is missing or empty. */
    const MISSING_HEADERS = 'MISSING_HEADERS';
    /** webhook-timestamp is not a whole number of seconds. */
    const INVALID_TIMESTAMP = 'INVALID_TIMESTAMP';
    /** webhook-timestamp is older than the tolerance: a replay, or a clock far off. */
    const TIMESTAMP_TOO_OLD = 'TIMESTAMP_TOO_OLD';
    /** webhook-timestamp is further in the future than the tolerance. */
    const TIMESTAMP_TOO_NEW = 'TIMESTAMP_TOO_NEW';
    /** No v1 signature in webhook-signature matches the body under any of the secrets. */
    const NO_MATCHING_SIGNATURE = 'NO_MATCHING_SIGNATURE';
    /** The signature matched but the body is not a JSON object. */
    const INVALID_PAYLOAD = 'INVALID_PAYLOAD';

    /** @var string */
    private $reason;

    public function __construct(string $reason, string $message)
    {
        parent::__construct($message);
        $this->reason = $reason;
    }

    /** Why the webhook was refused: one of the constants of this class. */
    public function getReason(): string
    {
        return $this->reason;
    }
}
