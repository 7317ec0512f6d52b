<?php

declare(strict_types=1);

namespace Mailproof\Transport;

use Mailproof\Exception\ConnectionException;

/**
 * HTTP with ext-curl: the default when the extension is loaded. No
 * redirects are followed; http and https only.
 */
final class CurlTransport implements TransportInterface
{
    /** @var array<int, mixed> */
    private $extraOptions;

    /**
     * @param array<int, mixed> $curlOptions more CURLOPT_* settings (a CA file, a proxy)
     */
    public function __construct(array $curlOptions = [])
    {
        if (!extension_loaded('curl')) {
            throw new \LogicException('ext-curl is not loaded: use StreamTransport');
        }
        $this->extraOptions = $curlOptions;
    }

    public function __invoke(array $request): array
    {
        $ch = curl_init();
        if ($ch === false) {
            throw new ConnectionException('curl_init failed');
        }
        $headers = [];
        $headers[] = 'Expect:';
        foreach ($request['headers'] as $line) {
            $headers[] = $line;
        }
        $received = [];
        $options = [
            CURLOPT_URL => $request['url'],
            CURLOPT_CUSTOMREQUEST => $request['method'],
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_NOSIGNAL => true,
            CURLOPT_TIMEOUT_MS => (int) ceil($request['timeout'] * 1000),
            CURLOPT_CONNECTTIMEOUT_MS => (int) ceil($request['connectTimeout'] * 1000),
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
            CURLOPT_HEADERFUNCTION => static function ($ch, string $line) use (&$received): int {
                $len = strlen($line);
                $line = rtrim($line, "\r\n");
                if (strncasecmp($line, 'HTTP/', 5) === 0) {
                    $received = []; // a new answer (after a 100 Continue)
                } elseif (strpos($line, ':') !== false) {
                    list($name, $value) = explode(':', $line, 2);
                    $name = strtolower(trim($name));
                    $value = trim($value);
                    $received[$name] = isset($received[$name]) ? $received[$name] . ', ' . $value : $value;
                }
                return $len;
            },
        ];
        if ($request['method'] === 'HEAD') {
            $options[CURLOPT_NOBODY] = true;
        } elseif ($request['body'] !== null) {
            $options[CURLOPT_POSTFIELDS] = $request['body'];
        } elseif ($request['method'] === 'POST') {
            $options[CURLOPT_POSTFIELDS] = ''; // sends Content-Length: 0
        }
        foreach ($this->extraOptions as $k => $v) {
            $options[$k] = $v;
        }
        curl_setopt_array($ch, $options);
        $body = curl_exec($ch);
        if ($body === false) {
            $errno = curl_errno($ch);
            $error = curl_error($ch);
            curl_close($ch);
            throw new ConnectionException(
                sprintf('%s %s: %s (curl error %d)', $request['method'], $request['url'], $error, $errno),
                $errno === CURLE_OPERATION_TIMEDOUT
            );
        }
        $status = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        curl_close($ch);
        return ['status' => $status, 'headers' => $received, 'body' => (string) $body];
    }
}
