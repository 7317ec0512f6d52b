<?php

declare(strict_types=1);

// The tests load the library the way a user without Composer does.
require_once __DIR__ . '/../mailproof.php';

spl_autoload_register(static function (string $class): void {
    $prefix = 'Mailproof\\Tests\\';
    if (strncmp($class, $prefix, strlen($prefix)) === 0) {
        $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
