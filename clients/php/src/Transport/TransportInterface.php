<?php

declare(strict_types=1);

namespace Mailproof\Transport;

/**
 * What sends one HTTP request. The client takes any callable of this shape
 * as its `transport` option (a class implementing this interface, or a
 * closure, as the unit tests use).
 *
 * The request array has `method`, `url`, `headers` (a list of
 * "Name: value" lines), `body` (string or null), `timeout` and
 * `connectTimeout` (seconds, float). The answer array has `status` (int),
 * `headers` (array, names in lower case; a repeated header's values joined
 * with ", ") and `body` (string). A failure to get any answer throws
 * Mailproof\Exception\ConnectionException.
 */
interface TransportInterface
{
    /**
     * Sends one request.
     *
     * @param array $request `method`, `url`, `headers`, `body`, `timeout`, `connectTimeout`
     * @return array `status`, `headers`, `body`
     * @throws \Mailproof\Exception\ConnectionException when no answer came
     */
    public function __invoke(array $request): array;
}
