<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 422 MAX_ATTEMPTS_EXCEEDED: the code is wrong and it was the last attempt:
 * the verification has now FAILED. Start a new one.
 */
class MaxAttemptsExceeded extends ApiException
{
    /** Always 0, for symmetry with InvalidCode. */
    public function getAttemptsRemaining(): int
    {
        $n = $this->getDetails()['attemptsRemaining'] ?? 0;
        return is_int($n) ? $n : 0;
    }
}
