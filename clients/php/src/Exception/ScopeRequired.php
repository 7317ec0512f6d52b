<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 403 SCOPE_REQUIRED: the API key lacks the scope this route needs (verifications:write, :check or :read); getRequiredScope() names it.
 */
class ScopeRequired extends Forbidden
{
    /** The scope the route needs, such as `verifications:write` (details.scope). */
    public function getRequiredScope(): ?string
    {
        $s = $this->getDetails()['scope'] ?? null;
        return is_string($s) ? $s : null;
    }
}
