<?php

declare(strict_types=1);

namespace Mailproof\Transport;

use Mailproof\Exception\ConnectionException;

/**
 * HTTP with PHP's own streams (file_get_contents and an http context with
 * ignore_errors): the fallback when ext-curl is not loaded. Needs
 * allow_url_fopen, and ext-openssl for https. The connect time-out is
 * PHP's default_socket_timeout.
 */
final class StreamTransport implements TransportInterface
{
    public function __invoke(array $request): array
    {
        $headers = $request['headers'];
        $headers[] = 'Connection: close';
        $http = [
            'method' => $request['method'],
            'header' => implode("\r\n", $headers),
            'timeout' => (float) $request['timeout'],
            'ignore_errors' => true,
            'follow_location' => 0,
            'max_redirects' => 1,
            'protocol_version' => 1.1,
        ];
        if ($request['body'] !== null) {
            $http['content'] = $request['body'];
        } elseif ($request['method'] === 'POST') {
            $http['content'] = ''; // Content-Length: 0
            $http['header'] .= "\r\nContent-Length: 0";
        }
        $scheme = strtolower((string) parse_url($request['url'], PHP_URL_SCHEME));
        if ($scheme !== 'http' && $scheme !== 'https') {
            throw new ConnectionException('only http and https URLs are supported: ' . $request['url']);
        }
        $context = stream_context_create(['http' => $http]);
        $error = null;
        set_error_handler(static function (int $no, string $msg) use (&$error): bool {
            $error = $msg;
            return true;
        });
        try {
            $body = file_get_contents($request['url'], false, $context);
        } finally {
            restore_error_handler();
        }
        $lines = function_exists('http_get_last_response_headers')
            ? (http_get_last_response_headers() ?? [])
            : (isset($http_response_header) ? $http_response_header : []);
        if ($body === false || $lines === []) {
            $msg = $error ?? 'no answer';
            throw new ConnectionException(
                sprintf('%s %s: %s', $request['method'], $request['url'], $msg),
                stripos($msg, 'timed out') !== false
            );
        }
        $status = 0;
        $received = [];
        foreach ($lines as $line) {
            if (strncasecmp($line, 'HTTP/', 5) === 0) {
                $parts = explode(' ', $line, 3);
                $status = (int) ($parts[1] ?? 0);
                $received = [];
            } elseif (strpos($line, ':') !== false) {
                list($name, $value) = explode(':', $line, 2);
                $name = strtolower(trim($name));
                $value = trim($value);
                $received[$name] = isset($received[$name]) ? $received[$name] . ', ' . $value : $value;
            }
        }
        return ['status' => $status, 'headers' => $received, 'body' => (string) $body];
    }
}
