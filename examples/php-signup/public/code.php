<?php
// Where the person types the code from the mail.
declare(strict_types=1);
require __DIR__ . '/../bootstrap.php';

use Mailproof\Exception\AlreadyVerified;
use Mailproof\Exception\ApiException;
use Mailproof\Exception\InvalidCode;
use Mailproof\Exception\MailproofException;

$id = (string) ($_GET['id'] ?? '');
if (!preg_match('/^ev_[0-9A-HJKMNP-TV-Z]{26}$/', $id)) {
    signup_page('Not found', '<p>This page needs the link from the signup form.</p>', 404);
    exit;
}

function code_form(string $id, string $error = ''): string
{
    return ($error !== '' ? '<p class="error" role="alert">' . h($error) . '</p>' : '')
        . '<p>We sent a code to your address. Type it here.</p>'
        . '<form method="post" action="code.php?id=' . h(rawurlencode($id)) . '">'
        . '<input type="hidden" name="csrf" value="' . h(signup_csrf_token()) . '">'
        . '<label for="code">Code</label>'
        . '<input id="code" name="code" autocomplete="one-time-code" required>'
        . '<button type="submit" name="do" value="verify">Verify</button>'
        . '<button type="submit" name="do" value="resend" formnovalidate>Send a new code</button></form>';
}

if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
    signup_page('Enter your code', code_form($id));
    exit;
}
if (!signup_csrf_ok()) {
    signup_page('Enter your code', code_form($id, 'Your session expired. Please try again.'), 400);
    exit;
}
$client = signup_client();
try {
    if (($_POST['do'] ?? '') === 'resend') {
        $client->resend($id);
        signup_page('Enter your code', code_form($id, 'A new code is on its way.'));
        exit;
    }
    $v = $client->verify($id, trim((string) ($_POST['code'] ?? '')));
    signup_page('Your address is verified', '<p><strong>' . h($v['email'])
        . '</strong> is verified. Welcome aboard.</p>');
} catch (InvalidCode $e) {
    $left = $e->getAttemptsRemaining();
    signup_page('Enter your code', code_form($id, 'That code is not right. '
        . $left . ($left === 1 ? ' try' : ' tries') . ' left.'), 422);
} catch (AlreadyVerified $e) {
    signup_page('Your address is verified', '<p>This address was already verified.</p>');
} catch (ApiException $e) {
    error_log('php-signup: verify failed: ' . $e->getErrorCode() . ' request ' . $e->getRequestId());
    signup_page('We could not verify it', '<p class="error" role="alert">' . h($e->getMessage())
        . '</p><p><a href="index.php">Start again</a></p>', 422);
} catch (MailproofException $e) {
    error_log('php-signup: mailproof unreachable: ' . $e->getMessage());
    signup_page('Enter your code', code_form($id, 'Please try again in a minute.'), 503);
}
