<?php

declare(strict_types=1);

namespace Mailproof;

use Mailproof\Exception\InvalidArgumentException;
use Mailproof\Exception\WebhookVerificationFailed;

/**
 * Checks the webhooks mailproof sends, as Standard Webhooks
 * (https://www.standardwebhooks.com) defines them: the signed text is
 * `webhook-id.webhook-timestamp.body`, signed with HMAC-SHA256 under the
 * base64-decoded part of the `whsec_...` secret; `webhook-signature` holds
 * one or more space-separated `v1,<base64>` signatures (two while a
 * rotated secret's overlap lasts).
 */
final class Webhook
{
    /** The default tolerance, in seconds, between webhook-timestamp and now, either way. */
    const DEFAULT_TOLERANCE = 300;

    /**
     * Verifies one webhook request and returns its event.
     *
     * @param string|string[] $secret    your `whsec_...` secret; or several (the old and the
     *   new one while you rotate): any that matches will do
     * @param array           $headers   the request's headers: any case (`Webhook-Id`,
     *   `webhook-id`), `$_SERVER` names (`HTTP_WEBHOOK_ID`) or PSR-7 lists of values;
     *   `svix-id`, `svix-timestamp` and `svix-signature` are taken too
     * @param string          $body      the raw request body, exactly as received
     *   (`file_get_contents('php://input')`), not re-encoded JSON
     * @param int             $tolerance seconds the timestamp may be off, either way
     * @param int|null        $now       the current unix time, for tests; default time()
     * @return array the event: `type` (such as `email.verified`), `timestamp` and `data`
     *   (the verification as Client::get() shows it)
     * @throws WebhookVerificationFailed when the request must not be trusted (getReason() says why)
     * @throws InvalidArgumentException when a secret is not `whsec_` and base64
     */
    public static function verify($secret, array $headers, string $body, int $tolerance = self::DEFAULT_TOLERANCE, ?int $now = null): array
    {
        $keys = self::keys($secret);
        $h = self::normalizeHeaders($headers);
        $id = $h['webhook-id'] ?? $h['svix-id'] ?? '';
        $ts = $h['webhook-timestamp'] ?? $h['svix-timestamp'] ?? '';
        $sigs = $h['webhook-signature'] ?? $h['svix-signature'] ?? '';
        if ($id === '' || $ts === '' || $sigs === '') {
            $missing = [];
            foreach (['webhook-id' => $id, 'webhook-timestamp' => $ts, 'webhook-signature' => $sigs] as $name => $v) {
                if ($v === '') {
                    $missing[] = $name;
                }
            }
            throw new WebhookVerificationFailed(WebhookVerificationFailed::MISSING_HEADERS,
                'missing header ' . implode(', ', $missing));
        }
        if (!preg_match('/^[0-9]{1,12}\z/', $ts)) {
            throw new WebhookVerificationFailed(WebhookVerificationFailed::INVALID_TIMESTAMP,
                'webhook-timestamp is not unix seconds');
        }
        $now = $now ?? time();
        $t = (int) $ts;
        if ($t < $now - $tolerance) {
            throw new WebhookVerificationFailed(WebhookVerificationFailed::TIMESTAMP_TOO_OLD,
                sprintf('webhook-timestamp is %d seconds old, over the tolerance of %d', $now - $t, $tolerance));
        }
        if ($t > $now + $tolerance) {
            throw new WebhookVerificationFailed(WebhookVerificationFailed::TIMESTAMP_TOO_NEW,
                sprintf('webhook-timestamp is %d seconds ahead, over the tolerance of %d', $t - $now, $tolerance));
        }
        $signed = $id . '.' . $ts . '.' . $body;
        $expected = [];
        foreach ($keys as $key) {
            $expected[] = base64_encode(hash_hmac('sha256', $signed, $key, true));
        }
        $match = false;
        foreach (preg_split('/[ ]+/', trim($sigs)) ?: [] as $entry) {
            $comma = strpos($entry, ',');
            if ($comma === false || substr($entry, 0, $comma) !== 'v1') {
                continue;
            }
            $given = substr($entry, $comma + 1);
            foreach ($expected as $want) {
                // every pair is compared, so the time taken does not tell which matched
                if (hash_equals($want, $given)) {
                    $match = true;
                }
            }
        }
        if (!$match) {
            throw new WebhookVerificationFailed(WebhookVerificationFailed::NO_MATCHING_SIGNATURE,
                'no signature matches the body with the secret' . (count($keys) > 1 ? 's' : ''));
        }
        $event = json_decode($body, true);
        if (!is_array($event)) {
            throw new WebhookVerificationFailed(WebhookVerificationFailed::INVALID_PAYLOAD,
                'the signed body is not a JSON object');
        }
        return $event;
    }

    /**
     * The current request's headers, for verify(): getallheaders() where the
     * server has it, else the HTTP_* entries of $_SERVER.
     *
     * @return array<string, string> names in lower case
     */
    public static function headersFromGlobals(): array
    {
        $out = [];
        if (function_exists('getallheaders')) {
            $all = getallheaders();
            if (is_array($all)) {
                foreach ($all as $name => $value) {
                    $out[strtolower((string) $name)] = (string) $value;
                }
                return $out;
            }
        }
        return self::normalizeHeaders($_SERVER);
    }

    /**
     * Lower-case names with dashes; $_SERVER's HTTP_* names converted;
     * lists of values joined with a space.
     *
     * @param array<mixed> $headers
     * @return array<string, string>
     */
    private static function normalizeHeaders(array $headers): array
    {
        $out = [];
        foreach ($headers as $name => $value) {
            $name = strtolower((string) $name);
            if (strncmp($name, 'http_', 5) === 0) {
                $name = str_replace('_', '-', substr($name, 5));
            }
            if (is_array($value)) {
                $value = implode(' ', array_map('strval', $value));
            } elseif (!is_scalar($value)) {
                continue;
            }
            $out[$name] = trim((string) $value);
        }
        return $out;
    }

    /**
     * The HMAC keys of the secrets.
     *
     * @param mixed $secret
     * @return string[]
     */
    private static function keys($secret): array
    {
        $list = is_array($secret) ? array_values($secret) : [$secret];
        if ($list === []) {
            throw new InvalidArgumentException('no webhook secret given');
        }
        $keys = [];
        foreach ($list as $s) {
            if (!is_string($s)) {
                throw new InvalidArgumentException('a webhook secret must be a string');
            }
            $b64 = strncmp($s, 'whsec_', 6) === 0 ? substr($s, 6) : $s;
            $key = base64_decode($b64, true);
            if ($b64 === '' || $key === false || $key === '') {
                throw new InvalidArgumentException('a webhook secret is whsec_ followed by base64, as mailproofctl printed it');
            }
            $keys[] = $key;
        }
        return $keys;
    }
}
