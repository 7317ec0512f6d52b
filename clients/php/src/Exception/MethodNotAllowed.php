<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 405 METHOD_NOT_ALLOWED: the route does not take this method (seen
 * through Client::request() only); getAllowedMethods() reads `Allow`.
 */
class MethodNotAllowed extends ApiException
{
    /**
     * The methods the route takes, from the Allow header.
     *
     * @return string[]
     */
    public function getAllowedMethods(): array
    {
        $allow = $this->getHeader('allow');
        if ($allow === null || trim($allow) === '') {
            return [];
        }
        return array_values(array_filter(array_map('trim', explode(',', $allow)), 'strlen'));
    }
}
