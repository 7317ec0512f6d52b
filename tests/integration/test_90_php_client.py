"""The PHP client of clients/php (issue 14): its PHPUnit tests, unit and
integration, run against this stack, with webhook signatures checked on
real deliveries of the notifier before and after a secret rotation; and
the library's PHP 7.4 compatibility, checked with PHP's tokenizer.
php-cli, php-curl and phpunit must be installed (dev.sh installs them):
without them these tests fail, they are not skipped."""
import json
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

from harness import Receiver, check

# At least this many tests must run: the unit tests (with the php74-check
# samples) and the integration tests, none of them skipped.
MIN_TESTS = 91
MIN_INTEGRATION_TESTS = 21

_state = {}


def php_dir(env):
    return os.path.join(env.src, "clients", "php")


def require_php():
    """php with curl and json, and phpunit; fails, does not skip, without them."""
    php, phpunit = shutil.which("php"), shutil.which("phpunit")
    check(php and phpunit, "php-cli and phpunit must be installed (apt-get install php-cli "
          "php-curl php-sqlite3 phpunit; dev.sh does): php=%r phpunit=%r" % (php, phpunit))
    mods = subprocess.run([php, "-m"], capture_output=True, text=True, timeout=30).stdout.lower()
    check("curl" in mods.split() and "json" in mods.split(),
          "php lacks curl or json (apt-get install php-curl): %s" % mods.split())
    return php, phpunit


def test_php74_compatibility(env):
    php, _ = require_php()
    tool = os.path.join(php_dir(env), "tools", "php74-check.php")
    targets = [os.path.join(php_dir(env), "src"), os.path.join(php_dir(env), "mailproof.php")]
    targets.append(os.path.join(env.src, "examples", "php-signup"))
    p = subprocess.run([php, tool, *targets], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "PHP 8 syntax or functions in the library:\n%s%s" % (p.stdout, p.stderr))
    # and the check is not blind: a file of PHP 8 forms is refused, each named
    samples = {
        "match": "$x = match ($a) { 1 => 2, default => 3 };",
        "nullsafe": "$x = $a?->b;",
        "attribute": "#[Foo] function f1() {}",
        "enum": "enum Suit { case Hearts; }",
        "readonly": "class R { public readonly int $x; }",
        "constructor promotion": "class P { public function __construct(private int $x) {} }",
        "union type in a parameter": "function f2(int|string $x) {}",
        "union type in a return": "function f3(): int|false { return 1; }",
        "the type mixed": "function f4(mixed $x) {}",
        "the type static": "class S { public function f(): static { return $this; } }",
        "named argument": "f5(flags: 1);",
        "str_contains()": "$b = str_contains('a', 'b');",
        "str_starts_with()": "$b = str_starts_with('a', 'b');",
        "get_debug_type()": "$b = get_debug_type(1);",
        "array_is_list()": "$b = array_is_list([]);",
        "throw as an expression": "$y = $a ?? throw new E();",
    }
    with tempfile.TemporaryDirectory() as d:
        for name, code in samples.items():
            with open(os.path.join(d, name.replace(" ", "_").strip("()") + ".php"), "w") as f:
                f.write("<?php\n" + code + "\n")
        with open(os.path.join(d, "fine.php"), "w") as f:
            f.write("<?php\ndeclare(strict_types=1);\nfinal class F { private ?int $n = null;\n"
                    " public function g(?array $a = null): ?string { return $a ? 'x' : null; } }\n")
        p = subprocess.run([php, tool, d], capture_output=True, text=True, timeout=60)
    check(p.returncode == 1, "the samples must be refused: %d %s %s" % (p.returncode, p.stdout, p.stderr))
    for name in samples:
        fname = name.replace(" ", "_").strip("()") + ".php"
        check(any(fname in line and name in line for line in p.stdout.splitlines()),
              "%s not found in %s:\n%s" % (name, fname, p.stdout))
    check("fine.php" not in p.stdout, "PHP 7.4 code refused: %s" % p.stdout)


def test_api_reference_in_the_readme_is_current(env):
    php, _ = require_php()
    p = subprocess.run([php, os.path.join(php_dir(env), "tools", "apiref.php"), "--check",
                        os.path.join(php_dir(env), "README.md")], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0, p.stderr)


def test_readme_php_snippets_parse_as_php74(env):
    """Each PHP block of clients/php/README.md is valid PHP, and PHP 7.4 too."""
    import re
    php, _ = require_php()
    with open(os.path.join(php_dir(env), "README.md")) as f:
        blocks = re.findall(r"```php\n(.*?)```\n", f.read(), re.S)
    check(len(blocks) >= 5, "the README's PHP blocks: %d" % len(blocks))
    with tempfile.TemporaryDirectory() as d:
        for i, code in enumerate(blocks):
            path = os.path.join(d, "snippet%d.php" % i)
            with open(path, "w") as f:
                f.write(code if code.startswith("<?php") else "<?php\n" + code)
            p = subprocess.run([php, "-l", path], capture_output=True, text=True, timeout=30)
            check(p.returncode == 0, "README block %d: %s%s\n%s" % (i, p.stdout, p.stderr, code))
        p = subprocess.run([php, os.path.join(php_dir(env), "tools", "php74-check.php"), d],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, "README blocks use PHP 8: %s" % p.stdout)


def wait_events(env, rx, n, what):
    return env.wait(what, lambda: len(rx.events()) >= n and rx.events(), timeout=30)


def test_webhook_fixture_from_real_deliveries(env):
    """Real deliveries of the stack's notifier to a receiver of ours: two events
    signed with the first secret, then, after rotate-secret --overlap 24h, two
    more signed with both; written with both secrets for WebhookDeliveryTest."""
    rx = Receiver()
    try:
        name = "php-hooks-%s" % os.urandom(4).hex()
        t, k = env.tenant_with_key(name, webhook_url=rx.url)
        old = t["webhookSecret"]
        key = k["key"]
        addr = env.new_address("phphook")
        st, _, body = env.start(key, addr, userId="php-hook")
        check(st == 201, "start: %d %r" % (st, body))
        vid = body["data"]["id"]
        code = env.code_from_mail(addr)
        st, _, body = env.request("POST", "/v1/verifications/email/%s/verify" % vid,
                                  body={"code": code}, key=key)
        check(st == 200, "verify: %d %r" % (st, body))
        wait_events(env, rx, 2, "verification.initiated and email.verified")
        before = [r for r in rx.requests if r["status"] < 300]
        check([json.loads(r["body"])["type"] for r in before] ==
              ["verification.initiated", "email.verified"], "events: %r" % [r["body"] for r in before])

        rot = env.ctl_json("tenant", "rotate-secret", name, "--overlap", "24h")
        new = rot["webhookSecret"]
        check(new.startswith("whsec_") and new != old and rot.get("previousSignsUntil"),
              "rotated: %r" % rot)
        st, _, body = env.start(key, env.new_address("phphook"), userId="php-hook-2")
        check(st == 201, "start after the rotation: %d %r" % (st, body))
        vid2 = body["data"]["id"]
        st, _, body = env.request("POST", "/v1/verifications/email/%s/cancel" % vid2, key=key)
        check(st == 200, "cancel: %d %r" % (st, body))
        wait_events(env, rx, 4, "the two events after the rotation")
        after = [r for r in rx.requests if r["status"] < 300][len(before):]
        check(len(after) == 2 and all(len(r["headers"]["webhook-signature"].split(" ")) == 2
                                      for r in after),
              "two signatures on each event of the overlap: %r" %
              [r["headers"].get("webhook-signature") for r in after])

        def delivery(r):
            return {"headers": {h: r["headers"][h] for h in
                                ("webhook-id", "webhook-timestamp", "webhook-signature",
                                 "content-type") if h in r["headers"]},
                    "body": r["body"]}

        fixture = os.path.join(env.var, "php-webhook-fixture.json")
        with open(fixture, "w") as f:
            json.dump({"oldSecret": old, "newSecret": new,
                       "before": [delivery(r) for r in before],
                       "after": [delivery(r) for r in after]}, f, indent=1)
        _state["fixture"] = fixture
    finally:
        rx.stop()


def stack_environment(env):
    """Tenants and keys for the PHP integration tests, as environment variables."""
    name = "php-%s" % os.urandom(4).hex()
    _, k = env.tenant_with_key(name)
    ro = env.ctl_json("key", "create", "--tenant", name, "--scopes", "verifications:read")
    suppressed = env.new_address("php-suppressed")
    env.ctl("suppression", "add", "--tenant", name, "--email", suppressed)
    quota_name = "php-quota-%s" % os.urandom(4).hex()
    _, qk = env.tenant_with_key(quota_name)
    env.ctl("tenant", "update", quota_name, "--monthly-quota", "1")
    limited_name = "php-limited-%s" % os.urandom(4).hex()
    _, lk = env.tenant_with_key(limited_name)
    env.ctl("tenant", "update", limited_name, "--rate-per-key-per-minute", "2")
    return {
        "MAILPROOF_URL": "http://127.0.0.1:%d" % env.http_port,
        "MAILPROOF_KEY": k["key"],
        "MAILPROOF_READONLY_KEY": ro["key"],
        "MAILPROOF_QUOTA_KEY": qk["key"],
        "MAILPROOF_LIMITED_KEY": lk["key"],
        "MAILPROOF_SUPPRESSED_EMAIL": suppressed,
        "MAILPROOF_MAILDIR": os.path.join(env.var, "mail"),
        "MAILPROOF_PSQL": "host=127.0.0.1 port=%d dbname=mailproof user=mailproof" % env.pg_port,
        "MAILPROOF_WEBHOOK_FIXTURE": _state.get("fixture", ""),
    }


def test_phpunit_unit_and_integration(env):
    _, phpunit = require_php()
    check(_state.get("fixture"), "the webhook fixture was not made (see the test before)")
    junit = os.path.join(env.var, "php-junit.xml")
    if os.path.exists(junit):
        os.remove(junit)
    p = subprocess.run([phpunit, "-c", os.path.join(php_dir(env), "phpunit.xml.dist"),
                        "--log-junit", junit],
                       capture_output=True, text=True, timeout=600, cwd=php_dir(env),
                       env=dict(os.environ, **stack_environment(env)))
    out = (p.stdout + p.stderr).strip()
    check(p.returncode == 0, "phpunit exited %d:\n%s" % (p.returncode, out[-6000:]))
    check(os.path.exists(junit), "phpunit wrote no JUnit log:\n%s" % out[-2000:])
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    skipped = [c.get("class", "") + "::" + c.get("name", "") for c in cases
               if c.find("skipped") is not None]
    bad = [c.get("class", "") + "::" + c.get("name", "") for c in cases
           if c.find("failure") is not None or c.find("error") is not None]
    integration = [c for c in cases if "\\Integration\\" in (c.get("class") or "")]
    check(not bad, "failed: %r" % bad)
    check(not skipped, "skipped, so not tested: %r" % skipped)
    check(len(cases) >= MIN_TESTS, "only %d tests ran (expected at least %d):\n%s" % (
        len(cases), MIN_TESTS, out[-2000:]))
    check(len(integration) >= MIN_INTEGRATION_TESTS,
          "only %d integration tests ran (expected at least %d)" % (
              len(integration), MIN_INTEGRATION_TESTS))
