<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * An answer that is not a mailproof JSON answer and fits no other class: an HTML error page of a proxy, a 2xx that is not JSON. getErrorCode() is UNEXPECTED_RESPONSE; getHttpStatus() is what came.
 */
class UnexpectedResponse extends ApiException
{
}
