<?php

/*
 * The mailproof client without Composer: `require_once __DIR__ . '/mailproof/mailproof.php';`
 * once, then use Mailproof\Client and Mailproof\Webhook. It registers an
 * autoloader for the Mailproof\ namespace (the same files Composer loads).
 */

declare(strict_types=1);

if (PHP_VERSION_ID < 70400) {
    throw new \RuntimeException('mailproof-php needs PHP 7.4 or newer; this is PHP ' . PHP_VERSION);
}
if (!extension_loaded('json')) {
    throw new \RuntimeException('mailproof-php needs ext-json');
}

spl_autoload_register(static function (string $class): void {
    $prefix = 'Mailproof\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
