<?php

declare(strict_types=1);

namespace Mailproof\Tests\Integration;

use Mailproof\Exception\WebhookVerificationFailed;
use Mailproof\Tests\Support\Stack;
use Mailproof\Webhook;
use PHPUnit\Framework\TestCase;

/**
 * Webhook::verify on real deliveries of mailproof-notifier, captured by
 * tests/integration/test_90_php_client.py into the JSON file named by
 * MAILPROOF_WEBHOOK_FIXTURE: `oldSecret`, `newSecret` (after
 * `mailproofctl tenant rotate-secret --overlap 24h`), `before` (deliveries
 * signed with the old secret) and `after` (deliveries of the overlap,
 * signed with both); each delivery is `headers` (lower-case names) and the
 * raw `body`.
 */
final class WebhookDeliveryTest extends TestCase
{
    /** @var array<string, mixed> */
    private $fx;

    protected function setUp(): void
    {
        $file = Stack::env($this, 'MAILPROOF_WEBHOOK_FIXTURE');
        $fx = json_decode((string) file_get_contents($file), true);
        self::assertIsArray($fx, "$file is JSON");
        self::assertNotEmpty($fx['before']);
        self::assertNotEmpty($fx['after']);
        $this->fx = $fx;
    }

    /** @param array<string, mixed> $d */
    private static function now(array $d): int
    {
        return (int) $d['headers']['webhook-timestamp'];
    }

    private function refused(string $reason, callable $fn): void
    {
        try {
            $fn();
            self::fail("accepted; expected $reason");
        } catch (WebhookVerificationFailed $e) {
            self::assertSame($reason, $e->getReason(), $e->getMessage());
        }
    }

    public function testEachRealDeliveryVerifiesWithItsSecret(): void
    {
        $types = [];
        foreach ($this->fx['before'] as $d) {
            $event = Webhook::verify($this->fx['oldSecret'], $d['headers'], $d['body']);
            self::assertSame(json_decode($d['body'], true), $event);
            self::assertArrayHasKey('data', $event);
            self::assertStringStartsWith('ev_', $event['data']['id']);
            $types[] = $event['type'];
            self::assertCount(1, explode(' ', $d['headers']['webhook-signature']), 'one signature before the rotation');
            $this->refused(WebhookVerificationFailed::NO_MATCHING_SIGNATURE, function () use ($d): void {
                Webhook::verify($this->fx['newSecret'], $d['headers'], $d['body']);
            });
        }
        self::assertContains('verification.initiated', $types);
        self::assertContains('email.verified', $types);
    }

    public function testAfterTheRotationEitherSecretVerifies(): void
    {
        foreach ($this->fx['after'] as $d) {
            self::assertCount(2, explode(' ', $d['headers']['webhook-signature']), 'two signatures in the overlap');
            $old = Webhook::verify($this->fx['oldSecret'], $d['headers'], $d['body']);
            $new = Webhook::verify($this->fx['newSecret'], $d['headers'], $d['body']);
            self::assertSame($old, $new);
            self::assertSame($old, Webhook::verify([$this->fx['newSecret'], $this->fx['oldSecret']], $d['headers'], $d['body']));
            // as a PHP endpoint sees them, in $_SERVER
            $server = [];
            foreach ($d['headers'] as $name => $value) {
                $server['HTTP_' . strtoupper(str_replace('-', '_', $name))] = $value;
            }
            self::assertSame($old, Webhook::verify($this->fx['newSecret'], $server, $d['body']));
        }
        foreach (array_merge($this->fx['before'], $this->fx['after']) as $d) {
            self::assertSame(json_decode($d['body'], true), Webhook::verify([$this->fx['oldSecret'], $this->fx['newSecret']],
                $d['headers'], $d['body']));
        }
    }

    public function testAFlippedByteOrAForgedSignatureFails(): void
    {
        foreach (array_merge($this->fx['before'], $this->fx['after']) as $d) {
            $body = $d['body'];
            $i = intdiv(strlen($body), 2);
            $flipped = substr($body, 0, $i) . chr(ord($body[$i]) ^ 0x01) . substr($body, $i + 1);
            foreach ([$this->fx['oldSecret'], [$this->fx['oldSecret'], $this->fx['newSecret']]] as $secret) {
                $this->refused(WebhookVerificationFailed::NO_MATCHING_SIGNATURE, function () use ($secret, $d, $flipped): void {
                    Webhook::verify($secret, $d['headers'], $flipped);
                });
            }
            $forged = $d['headers'];
            $attacker = 'whsec_' . base64_encode(random_bytes(32));
            $key = (string) base64_decode(substr($attacker, 6), true);
            $forged['webhook-signature'] = 'v1,' . base64_encode(hash_hmac('sha256',
                $d['headers']['webhook-id'] . '.' . $d['headers']['webhook-timestamp'] . '.' . $body, $key, true));
            $this->refused(WebhookVerificationFailed::NO_MATCHING_SIGNATURE, function () use ($forged, $body): void {
                Webhook::verify([$this->fx['oldSecret'], $this->fx['newSecret']], $forged, $body);
            });
            // a signature of another event, replayed on this body
            $other = $this->fx['after'][0]['headers']['webhook-signature'];
            if ($other !== $d['headers']['webhook-signature']) {
                $replayed = $d['headers'];
                $replayed['webhook-signature'] = $other;
                $this->refused(WebhookVerificationFailed::NO_MATCHING_SIGNATURE, function () use ($replayed, $body): void {
                    Webhook::verify([$this->fx['oldSecret'], $this->fx['newSecret']], $replayed, $body);
                });
            }
        }
    }

    public function testARealDeliveryTenMinutesLaterIsStale(): void
    {
        foreach (array_merge($this->fx['before'], $this->fx['after']) as $d) {
            $this->refused(WebhookVerificationFailed::TIMESTAMP_TOO_OLD, function () use ($d): void {
                Webhook::verify($this->fx['oldSecret'], $d['headers'], $d['body'], 300, self::now($d) + 600);
            });
            $this->refused(WebhookVerificationFailed::TIMESTAMP_TOO_NEW, function () use ($d): void {
                Webhook::verify($this->fx['oldSecret'], $d['headers'], $d['body'], 300, self::now($d) - 600);
            });
            // within a wider tolerance it is fine
            self::assertIsArray(Webhook::verify($this->fx['oldSecret'], $d['headers'], $d['body'], 900, self::now($d) + 600));
        }
    }
}
