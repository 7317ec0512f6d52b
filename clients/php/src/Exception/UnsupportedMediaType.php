<?php

declare(strict_types=1);

namespace Mailproof\Exception;

/**
 * 415 UNSUPPORTED_MEDIA_TYPE: the body was not sent as application/json (the client always does; seen through request() only).
 */
class UnsupportedMediaType extends ApiException
{
}
