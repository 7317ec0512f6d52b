<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 502 EMAIL_SEND_FAILED: the mail server refused the mail or could not be
 * reached; the verification was stored and is FAILED (no code was mailed).
 * Never retried by the client: the mail server said no.
 */
class EmailSendFailed extends ApiException
{
    /** The id of the failed verification (details.verificationId). */
    public function getVerificationId(): ?string
    {
        $id = $this->getDetails()['verificationId'] ?? null;
        return is_string($id) ? $id : null;
    }

    /**
     * The delivery record: status, attempts, smtpCode, smtpReply (details.delivery).
     *
     * @return array<string, mixed>
     */
    public function getDelivery(): array
    {
        $d = $this->getDetails()['delivery'] ?? null;
        return is_array($d) ? $d : [];
    }
}
