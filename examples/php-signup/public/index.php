<?php
// The signup form: takes an address, starts its verification, and sends the
// person to the page where they type the code (or tells them a link is on
// its way).
declare(strict_types=1);
require __DIR__ . '/../bootstrap.php';

use Mailproof\Exception\ApiException;
use Mailproof\Exception\MailproofException;

function form(string $email = '', string $error = ''): string
{
    return ($error !== '' ? '<p class="error" role="alert">' . h($error) . '</p>' : '')
        . '<form method="post" action="index.php">'
        . '<input type="hidden" name="csrf" value="' . h(signup_csrf_token()) . '">'
        . '<label for="email">Email address</label>'
        . '<input id="email" name="email" type="email" autocomplete="email" required value="' . h($email) . '">'
        . '<fieldset><legend>How should we check it?</legend>'
        . '<label><input type="radio" name="method" value="OTP" checked> Send me a code</label>'
        . '<label><input type="radio" name="method" value="MAGIC_LINK"> Send me a link</label>'
        . '</fieldset><button type="submit">Sign up</button></form>';
}

if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
    signup_page('Create your account', form());
    exit;
}
$email = trim((string) ($_POST['email'] ?? ''));
$method = ($_POST['method'] ?? 'OTP') === 'MAGIC_LINK' ? 'MAGIC_LINK' : 'OTP';
if (!signup_csrf_ok()) {
    signup_page('Create your account', form($email, 'Your session expired. Please try again.'), 400);
    exit;
}
try {
    $v = signup_client()->start($email, [
        'method' => $method,
        // mailproof's per-person limits count the visitor, not this server
        'clientIp' => $_SERVER['REMOTE_ADDR'] ?? '',
        'userAgent' => substr((string) ($_SERVER['HTTP_USER_AGENT'] ?? ''), 0, 256),
    ]);
} catch (ApiException $e) {
    error_log('php-signup: start failed: ' . $e->getErrorCode() . ' request ' . $e->getRequestId());
    $why = $e->getErrorCode() === 'INVALID_EMAIL' ? 'That does not look like an email address.'
        : ($e->getErrorCode() === 'RATE_LIMITED' ? 'Too many tries. Please wait a little.'
        : 'We could not send the mail: ' . $e->getMessage());
    signup_page('Create your account', form($email, $why), 422);
    exit;
} catch (MailproofException $e) {
    error_log('php-signup: mailproof unreachable: ' . $e->getMessage());
    signup_page('Create your account', form($email, 'Please try again in a minute.'), 503);
    exit;
}
$db = signup_db();
$db->prepare('INSERT INTO users (email, verification_id, created_at) VALUES (?, ?, ?)
              ON CONFLICT (email) DO UPDATE SET verification_id = excluded.verification_id')
   ->execute([$v['email'], $v['id'], gmdate('c')]);

if ($method === 'MAGIC_LINK') {
    signup_page('Check your inbox', '<p>A link is on its way to <strong>' . h($v['email'])
        . '</strong>. Open it on this device to confirm your address.</p>');
    exit;
}
header('Location: code.php?id=' . rawurlencode($v['id']), true, 303);
