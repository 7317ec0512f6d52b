<?php
// Shared by every page of the example: configuration, the mailproof client,
// the SQLite user table and a tiny page layout.
declare(strict_types=1);

// The client library: Composer's autoloader when the example was installed
// with Composer, else the library's single-file loader beside this example.
if (is_file(__DIR__ . '/vendor/autoload.php')) {
    require __DIR__ . '/vendor/autoload.php';
} else {
    require __DIR__ . '/../../clients/php/mailproof.php';
}

/**
 * A setting from the web server's environment (Apache SetEnv, a PHP-FPM
 * pool's env[...]), else from config.local.php, else the default.
 */
function signup_setting(string $name, ?string $default = null): string
{
    static $local = null;
    if ($local === null) {
        $file = __DIR__ . '/config.local.php';
        $local = is_file($file) ? (array) require $file : [];
    }
    $value = $_SERVER[$name] ?? getenv($name);
    if (is_string($value) && $value !== '') {
        return $value;
    }
    if (isset($local[$name]) && $local[$name] !== '') {
        return (string) $local[$name];
    }
    if ($default === null) {
        http_response_code(500);
        error_log("php-signup: $name is not set (SetEnv $name, or config.local.php)");
        exit("The example is not configured: $name is missing. See examples/php-signup/README.md.\n");
    }
    return $default;
}

function signup_client(): Mailproof\Client
{
    return new Mailproof\Client(signup_setting('MAILPROOF_KEY'), [
        'baseUrl' => signup_setting('MAILPROOF_URL', 'http://127.0.0.1:8080'),
        'timeout' => 15,
    ]);
}

function signup_db(): PDO
{
    $db = new PDO('sqlite:' . signup_setting('SIGNUP_DB', __DIR__ . '/signup.sqlite'));
    $db->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
    // The webhook and a page may write at once.
    $db->exec('PRAGMA busy_timeout = 5000');
    $db->exec('CREATE TABLE IF NOT EXISTS users (
        email TEXT PRIMARY KEY,
        verification_id TEXT,
        created_at TEXT NOT NULL,
        verified_at TEXT
    )');
    return $db;
}

function h(string $s): string
{
    return htmlspecialchars($s, ENT_QUOTES | ENT_HTML5, 'UTF-8');
}

/** A token per session that every form posts back (CSRF). */
function signup_csrf_token(): string
{
    if (session_status() !== PHP_SESSION_ACTIVE) {
        session_start();
    }
    if (empty($_SESSION['csrf'])) {
        $_SESSION['csrf'] = bin2hex(random_bytes(16));
    }
    return $_SESSION['csrf'];
}

function signup_csrf_ok(): bool
{
    $sent = $_POST['csrf'] ?? '';
    return is_string($sent) && hash_equals(signup_csrf_token(), $sent);
}

function signup_page(string $title, string $body, int $status = 200): void
{
    http_response_code($status);
    header('Content-Type: text/html; charset=utf-8');
    header("Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    echo '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<title>', h($title), ' · Example shop</title>',
        '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}',
        'input,button{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;margin:.25rem 0}',
        '.error{color:#a00}</style></head><body><main><h1>', h($title), '</h1>', $body,
        '</main></body></html>';
}
