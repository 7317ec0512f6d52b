"""mailproofctl: migrate, tenants, keys, exit statuses; config errors."""
import base64
import os
import subprocess

from harness import check


def test_migrate_twice_changes_nothing(env):
    sql = os.path.join(env.src, "sql")
    before = env.psql("SELECT version, name, applied_at FROM schema_migrations ORDER BY 1")
    check(len(before) >= 1, "the schema is applied")
    out = env.ctl_json("migrate", "--sql-dir", sql)
    check(out["applied"] == [] and out["version"] == int(before[-1][0]), "migrate: %r" % out)
    _, text, _ = env.ctl("migrate", "--sql-dir", sql)
    check(text.startswith("nothing to do"), "text: %r" % text)
    check(env.psql("SELECT version, name, applied_at FROM schema_migrations ORDER BY 1")
          == before, "schema_migrations unchanged")


def test_migrate_applies_a_new_file_once(env):
    import shutil
    import tempfile
    d = tempfile.mkdtemp()
    try:
        for f in os.listdir(os.path.join(env.src, "sql")):
            shutil.copy(os.path.join(env.src, "sql", f), d)
        with open(os.path.join(d, "900_probe.sql"), "w") as f:
            f.write("CREATE TABLE migrate_probe (x int);\n")
        out = env.ctl_json("migrate", "--sql-dir", d)
        check(out["applied"] == ["900_probe.sql"] and out["version"] == 900, "%r" % out)
        check(env.ctl_json("migrate", "--sql-dir", d)["applied"] == [], "second run: nothing")
        with open(os.path.join(d, "901_broken.sql"), "w") as f:
            f.write("CREATE TABLE migrate_probe2 (x int);\nSELECT no_such_function();\n")
        rc, _, err = env.ctl("migrate", "--sql-dir", d, check=False)
        check(rc == 1 and "901_broken.sql" in err and err.count("\n") == 1, "broken: %r" % err)
        check(env.psql("SELECT to_regclass('migrate_probe2') IS NULL") == [["t"]],
              "a failed file is rolled back whole")
    finally:
        env.psql("DROP TABLE IF EXISTS migrate_probe")
        env.psql("DELETE FROM schema_migrations WHERE version >= 900")
        shutil.rmtree(d)


def test_tenant_create_json_form(env):
    name = "shop-" + os.urandom(4).hex()
    t = env.ctl_json("tenant", "create", "--name", name, "--webhook-url",
                     "https://hooks.example.com/mp", "--redirect-allow",
                     "https://shop.example.com/done", "--redirect-allow",
                     "https://shop.example.com/other")
    check(set(t) == {"id", "name", "webhookSecret"}, "fields: %r" % t)
    check(isinstance(t["id"], int) and t["name"] == name, "%r" % t)
    check(t["webhookSecret"].startswith("whsec_") and
          len(base64.b64decode(t["webhookSecret"][6:], validate=True)) == 32, "secret")
    listed = [x for x in env.ctl_json("tenant", "list") if x["name"] == name]
    check(len(listed) == 1 and listed[0]["webhookUrl"] == "https://hooks.example.com/mp",
          "listed: %r" % listed)
    check("whsec_" not in env.ctl("tenant", "list")[1], "list never shows the secret")
    rc, out, err = env.ctl("tenant", "create", "--name", name, check=False)
    check(rc == 1 and out == "" and "exists" in err and err.count("\n") == 1,
          "duplicate: %d %r" % (rc, err))


def test_key_create_json_form_and_list(env):
    name = "keys-" + os.urandom(4).hex()
    env.ctl("tenant", "create", "--name", name)
    k = env.ctl_json("key", "create", "--tenant", name)
    check(set(k) == {"id", "key", "scopes"}, "fields: %r" % k)
    check(k["key"].startswith("mpk_") and len(k["key"]) == 47, "key form")
    check(k["scopes"] == ["verifications:write", "verifications:check", "verifications:read"],
          "all three scopes by default")
    k2 = env.ctl_json("key", "create", "--tenant", name, "--scopes",
                      "verifications:read,verifications:write")
    check(k2["scopes"] == ["verifications:write", "verifications:read"], "%r" % k2["scopes"])
    _, text, _ = env.ctl("key", "list", "--tenant", name)
    lines = text.splitlines()
    check(len(lines) == 3 and lines[0].startswith("ID") and k["key"] not in text
          and k["key"][:12] in text, "text list: %r" % text)
    check(lines[1].index(name) == lines[0].index("TENANT"), "columns aligned")


def test_usage_errors_exit_2_and_failures_exit_1(env):
    for args in ([], ["frobnicate"], ["tenant"], ["tenant", "create", "--nme", "x"],
                 ["key", "revoke"], ["key", "revoke", "1", "2"], ["tenant", "create"],
                 ["key", "create"], ["key", "revoke", "abc"]):
        rc, _, err = env.ctl(*args, check=False)
        check(rc == 2 and err, "%r: exit %d" % (args, rc))
    rc, _, err = env.ctl("key", "revoke", "999999999", check=False)
    check(rc == 1 and "no key" in err and err.count("\n") == 1, "%d %r" % (rc, err))
    rc, _, err = env.ctl("key", "create", "--tenant", "no-such-tenant", check=False)
    check(rc == 1 and "no tenant" in err, "%d %r" % (rc, err))
    rc, _, err = env.ctl("tenant", "create", "--name", "bad name!", check=False)
    check(rc == 1 and "--name" in err, "%d %r" % (rc, err))
    rc, _, err = env.ctl("tenant", "create", "--name", "x" + os.urandom(3).hex(),
                         "--webhook-url", "ftp://x", check=False)
    check(rc == 1 and "--webhook-url" in err, "%d %r" % (rc, err))


def test_config_option_before_or_after_the_command(env):
    base = [os.path.join(env.build, "mailproofctl")]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAILPROOF_")}
    for argv in (base + ["--config", env.config_file, "tenant", "list", "--json"],
                 base + ["tenant", "list", "--config", env.config_file, "--json"],
                 base + ["tenant", "list", "--json", "--config=" + env.config_file]):
        p = subprocess.run(argv, capture_output=True, text=True, env=clean, timeout=30)
        check(p.returncode == 0 and p.stdout.lstrip().startswith("["), "%r: %r" % (argv, p))


def _run_with_config(env, text, extra_env=None):
    path = os.path.join(env.var, "probe.conf")
    with open(path, "w") as f:
        f.write(text)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAILPROOF_")}
    clean.update(extra_env or {})
    p = subprocess.run([os.path.join(env.build, "mailproof-fcgi"), "--config", path,
                        "--check-config"], capture_output=True, text=True, env=clean, timeout=30)
    return p.returncode, p.stderr


def test_config_errors_name_file_line_and_key(env):
    good = open(env.config_file).read()
    rc, err = _run_with_config(env, good)
    check(rc == 0, "the dev config is valid: %r" % err)
    rc, err = _run_with_config(env, good + "\n# comment\nsmtp_prot = 25\n")
    check(rc == 1 and "probe.conf:" in err and "smtp_prot" in err and "unknown" in err,
          "unknown key: %r" % err)
    lines = good.count("\n")
    rc, err = _run_with_config(env, good + "max_body_bytes = lots\n")
    check(rc == 1 and "probe.conf:%d:" % (lines + 1) in err and "max_body_bytes" in err,
          "bad value names the line: %r" % err)
    rc, err = _run_with_config(env, good + "mail_delivery = maybe\n")
    check(rc == 1 and "mail_delivery" in err and "queue" in err, "enum: %r" % err)
    rc, err = _run_with_config(env, good.replace("secret_key = ", "secret_key = zz"))
    check(rc == 1 and "secret_key" in err, "bad secret: %r" % err)
    no_secret = "\n".join(l for l in good.splitlines() if not l.startswith("secret_key"))
    rc, err = _run_with_config(env, no_secret)
    check(rc == 1 and "secret_key" in err and "required" in err, "missing secret: %r" % err)
    rc, err = _run_with_config(env, good + "smtp_port = 25\n")
    check(rc == 1 and "already set" in err, "duplicate key: %r" % err)


def test_environment_overrides_the_file(env):
    good = open(env.config_file).read()
    rc, err = _run_with_config(env, good, {"MAILPROOF_MAX_BODY_BYTES": "nope"})
    check(rc == 1 and "MAILPROOF_MAX_BODY_BYTES" in err and "max_body_bytes" in err, err)
    rc, err = _run_with_config(env, good, {"MAILPROOF_MAX_BODY_BYTE": "100"})
    check(rc == 1 and "MAILPROOF_MAX_BODY_BYTE" in err, "unknown variable: %r" % err)
    rc, err = _run_with_config(env, good.replace("secret_key", "#secret_key"),
                               {"MAILPROOF_SECRET_KEY": "ab" * 32})
    check(rc == 0, "secret from the environment: %r" % err)


def test_stats_counts_by_state(env):
    name = "stats-" + os.urandom(4).hex()
    t = env.ctl_json("tenant", "create", "--name", name)
    for status in ("PENDING", "VERIFIED", "VERIFIED"):
        env.insert_verification(t["id"], status=status)
    env.insert_verification(t["id"], expires_in="-1 minute")
    s = env.ctl_json("stats", "--tenant", name)
    check(s["verifications"] == {"PENDING": 1, "VERIFIED": 2, "EXPIRED": 1}, "%r" % s)
    _, text, _ = env.ctl("stats", "--tenant", name)
    check(text.splitlines()[0].split() == ["KIND", "STATE", "COUNT"], "text: %r" % text)
