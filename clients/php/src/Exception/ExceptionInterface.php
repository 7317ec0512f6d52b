<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * Implemented by every exception the library throws, so that one
 * `catch (\Mailproof\Exception\ExceptionInterface $e)` catches them all.
 */
interface ExceptionInterface
{
}
