<?php
// mailproof's webhook: checks the Standard Webhooks signature, then marks the
// user verified.  Any answer but 2xx makes mailproof deliver it again later.
declare(strict_types=1);
require __DIR__ . '/../bootstrap.php';

use Mailproof\Exception\WebhookVerificationFailed;
use Mailproof\Webhook;

if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
    http_response_code(405);
    header('Allow: POST');
    exit;
}
try {
    // During a secret rotation, MAILPROOF_WEBHOOK_SECRET may hold both, space-separated.
    $secrets = preg_split('/\s+/', trim(signup_setting('MAILPROOF_WEBHOOK_SECRET')));
    $event = Webhook::verify($secrets, Webhook::headersFromGlobals(),
        (string) file_get_contents('php://input'));
} catch (WebhookVerificationFailed $e) {
    error_log('php-signup: webhook refused: ' . $e->getMessage());
    http_response_code(400);
    exit;
}
if (($event['type'] ?? '') === 'email.verified') {
    signup_db()->prepare('UPDATE users SET verified_at = ? WHERE verification_id = ? AND verified_at IS NULL')
        ->execute([$event['data']['verifiedAt'] ?? gmdate('c'), $event['data']['id']]);
}
http_response_code(204);
