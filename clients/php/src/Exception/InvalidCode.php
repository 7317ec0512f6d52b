<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 422 INVALID_CODE: the code is wrong; the person may try again
 * getAttemptsRemaining() more times.
 */
class InvalidCode extends ApiException
{
    /** How many more codes may be tried (details.attemptsRemaining). */
    public function getAttemptsRemaining(): int
    {
        $n = $this->getDetails()['attemptsRemaining'] ?? 0;
        return is_int($n) ? $n : 0;
    }
}
