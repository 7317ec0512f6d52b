<?php

declare(strict_types=1);

namespace Mailproof\Tests\Unit;

use Mailproof\Exception\InvalidArgumentException;
use Mailproof\Exception\WebhookVerificationFailed;
use Mailproof\Webhook;
use PHPUnit\Framework\TestCase;

final class WebhookTest extends TestCase
{
    const NOW = 1790000000;

    /** @var string */
    private $secret;
    /** @var string */
    private $other;
    /** @var string */
    private $body;

    protected function setUp(): void
    {
        $this->secret = 'whsec_' . base64_encode(str_repeat("\x01", 32));
        $this->other = 'whsec_' . base64_encode(str_repeat("\x02", 32));
        $this->body = '{"type":"email.verified","timestamp":"2026-09-21T10:00:00.000Z","data":{"id":"ev_X","status":"VERIFIED"}}';
    }

    private static function sign(string $secret, string $id, int $ts, string $body): string
    {
        $key = base64_decode(substr($secret, 6), true);
        return 'v1,' . base64_encode(hash_hmac('sha256', "$id.$ts.$body", (string) $key, true));
    }

    /** @return array<string, string> */
    private function headers(?string $signature = null, int $ts = self::NOW): array
    {
        return [
            'webhook-id' => 'msg_1',
            'webhook-timestamp' => (string) $ts,
            'webhook-signature' => $signature ?? self::sign($this->secret, 'msg_1', $ts, $this->body),
        ];
    }

    private function refused(string $reason, callable $fn): void
    {
        try {
            $fn();
            self::fail("expected $reason");
        } catch (WebhookVerificationFailed $e) {
            self::assertSame($reason, $e->getReason(), $e->getMessage());
        }
    }

    public function testGoodSignatureReturnsTheEvent(): void
    {
        $event = Webhook::verify($this->secret, $this->headers(), $this->body, 300, self::NOW);
        self::assertSame('email.verified', $event['type']);
        self::assertSame('ev_X', $event['data']['id']);
    }

    public function testHeaderNamesInAnyCaseServerStyleAndLists(): void
    {
        $h = $this->headers();
        $server = ['HTTP_WEBHOOK_ID' => $h['webhook-id'], 'HTTP_WEBHOOK_TIMESTAMP' => $h['webhook-timestamp'],
            'HTTP_WEBHOOK_SIGNATURE' => $h['webhook-signature'], 'REQUEST_METHOD' => 'POST'];
        self::assertSame('email.verified', Webhook::verify($this->secret, $server, $this->body, 300, self::NOW)['type']);
        $mixed = ['Webhook-Id' => $h['webhook-id'], 'WEBHOOK-TIMESTAMP' => [$h['webhook-timestamp']],
            'Webhook-Signature' => [$h['webhook-signature']]];
        self::assertSame('email.verified', Webhook::verify($this->secret, $mixed, $this->body, 300, self::NOW)['type']);
        $svix = ['svix-id' => $h['webhook-id'], 'svix-timestamp' => $h['webhook-timestamp'],
            'svix-signature' => $h['webhook-signature']];
        self::assertSame('email.verified', Webhook::verify($this->secret, $svix, $this->body, 300, self::NOW)['type']);
    }

    public function testASecretWithoutPrefixIsTaken(): void
    {
        $raw = substr($this->secret, 6);
        self::assertSame('email.verified', Webhook::verify($raw, $this->headers(), $this->body, 300, self::NOW)['type']);
    }

    public function testForgedSignatureFails(): void
    {
        $this->refused(WebhookVerificationFailed::NO_MATCHING_SIGNATURE, function (): void {
            Webhook::verify($this->secret, $this->headers(self::sign($this->other, 'msg_1', self::NOW, $this->body)),
                $this->body, 300, self::NOW);
        });
        $this->refused(WebhookVerificationFailed::NO_MATCHING_SIGNATURE, function (): void {
            Webhook::verify($this->secret, $this->headers('v1,' . base64_encode(str_repeat('x', 32))), $this->body, 300, self::NOW);
        });
        // the right signature under another version tag is no match
        $this->refused(WebhookVerificationFailed::NO_MATCHING_SIGNATURE, function (): void {
            $sig = substr(self::sign($this->secret, 'msg_1', self::NOW, $this->body), 3);
            Webhook::verify($this->secret, $this->headers('v1a,' . $sig), $this->body, 300, self::NOW);
        });
    }

    public function testChangedBodyIdOrTimestampFails(): void
    {
        $this->refused(WebhookVerificationFailed::NO_MATCHING_SIGNATURE, function (): void {
            Webhook::verify($this->secret, $this->headers(), str_replace('VERIFIED', 'FAILED', $this->body), 300, self::NOW);
        });
        $this->refused(WebhookVerificationFailed::NO_MATCHING_SIGNATURE, function (): void {
            $h = $this->headers();
            $h['webhook-id'] = 'msg_2';
            Webhook::verify($this->secret, $h, $this->body, 300, self::NOW);
        });
        $this->refused(WebhookVerificationFailed::NO_MATCHING_SIGNATURE, function (): void {
            $h = $this->headers();
            $h['webhook-timestamp'] = (string) (self::NOW + 1);
            Webhook::verify($this->secret, $h, $this->body, 300, self::NOW);
        });
    }

    public function testStaleAndFutureTimestampsFail(): void
    {
        $old = self::NOW - 301;
        $this->refused(WebhookVerificationFailed::TIMESTAMP_TOO_OLD, function () use ($old): void {
            Webhook::verify($this->secret, $this->headers(null, $old), $this->body, 300, self::NOW);
        });
        $new = self::NOW + 301;
        $this->refused(WebhookVerificationFailed::TIMESTAMP_TOO_NEW, function () use ($new): void {
            Webhook::verify($this->secret, $this->headers(null, $new), $this->body, 300, self::NOW);
        });
        // at the edge of the tolerance, and with a wider one, it passes
        self::assertIsArray(Webhook::verify($this->secret, $this->headers(null, self::NOW - 300), $this->body, 300, self::NOW));
        self::assertIsArray(Webhook::verify($this->secret, $this->headers(null, self::NOW + 300), $this->body, 300, self::NOW));
        self::assertIsArray(Webhook::verify($this->secret, $this->headers(null, $old), $this->body, 600, self::NOW));
        $this->refused(WebhookVerificationFailed::INVALID_TIMESTAMP, function (): void {
            $h = $this->headers();
            $h['webhook-timestamp'] = '17e8';
            Webhook::verify($this->secret, $h, $this->body, 300, self::NOW);
        });
    }

    public function testTheCurrentTimeIsTheDefault(): void
    {
        $ts = time();
        $h = $this->headers(null, $ts);
        self::assertIsArray(Webhook::verify($this->secret, $h, $this->body));
    }

    public function testAnyOfSeveralSignaturesMatches(): void
    {
        $mine = self::sign($this->secret, 'msg_1', self::NOW, $this->body);
        $theirs = self::sign($this->other, 'msg_1', self::NOW, $this->body);
        foreach (["$theirs $mine", "$mine $theirs", "v0,abc $theirs  $mine", "$mine"] as $header) {
            self::assertIsArray(Webhook::verify($this->secret, $this->headers($header), $this->body, 300, self::NOW), $header);
            self::assertIsArray(Webhook::verify($this->other, $this->headers("$theirs $mine"), $this->body, 300, self::NOW));
        }
    }

    public function testAnArrayOfSecretsAnyOfWhichMatches(): void
    {
        $signedByOther = $this->headers(self::sign($this->other, 'msg_1', self::NOW, $this->body));
        self::assertIsArray(Webhook::verify([$this->secret, $this->other], $signedByOther, $this->body, 300, self::NOW));
        self::assertIsArray(Webhook::verify([$this->other, $this->secret], $this->headers(), $this->body, 300, self::NOW));
        $third = 'whsec_' . base64_encode(str_repeat("\x03", 32));
        $this->refused(WebhookVerificationFailed::NO_MATCHING_SIGNATURE, function () use ($third, $signedByOther): void {
            Webhook::verify([$this->secret, $third], $signedByOther, $this->body, 300, self::NOW);
        });
    }

    public function testMissingHeadersFail(): void
    {
        foreach (['webhook-id', 'webhook-timestamp', 'webhook-signature'] as $name) {
            $this->refused(WebhookVerificationFailed::MISSING_HEADERS, function () use ($name): void {
                $h = $this->headers();
                unset($h[$name]);
                Webhook::verify($this->secret, $h, $this->body, 300, self::NOW);
            });
            $this->refused(WebhookVerificationFailed::MISSING_HEADERS, function () use ($name): void {
                $h = $this->headers();
                $h[$name] = '';
                Webhook::verify($this->secret, $h, $this->body, 300, self::NOW);
            });
        }
        $this->refused(WebhookVerificationFailed::MISSING_HEADERS, function (): void {
            Webhook::verify($this->secret, [], $this->body, 300, self::NOW);
        });
    }

    public function testBadSecretFormatIsTheCallersMistake(): void
    {
        foreach (['', 'whsec_', 'whsec_not base64!', 'whsec_***', [], [$this->secret, 'whsec_%%'], [42]] as $bad) {
            try {
                Webhook::verify($bad, $this->headers(), $this->body, 300, self::NOW);
                self::fail('accepted ' . json_encode($bad));
            } catch (InvalidArgumentException $e) {
                self::assertInstanceOf(\Mailproof\Exception\ExceptionInterface::class, $e);
            }
        }
    }

    public function testASignedBodyThatIsNoEventFails(): void
    {
        $body = '"just a string"';
        $h = $this->headers(self::sign($this->secret, 'msg_1', self::NOW, $body));
        $this->refused(WebhookVerificationFailed::INVALID_PAYLOAD, function () use ($h, $body): void {
            Webhook::verify($this->secret, $h, $body, 300, self::NOW);
        });
    }

    public function testTheStandardWebhooksReferenceVector(): void
    {
        // The example of the Standard Webhooks specification's reference libraries.
        $secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
        $id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
        $ts = 1614265330;
        $body = '{"test": 2432232314}';
        $h = ['webhook-id' => $id, 'webhook-timestamp' => (string) $ts,
            'webhook-signature' => 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='];
        self::assertSame(['test' => 2432232314], Webhook::verify($secret, $h, $body, 300, $ts));
        $this->refused(WebhookVerificationFailed::NO_MATCHING_SIGNATURE, function () use ($secret, $h, $body, $ts): void {
            Webhook::verify($secret, $h, $body . ' ', 300, $ts);
        });
    }
}
