"""mailproofctl doctor and send-test (issue 11): every part of a good stack
passes; each broken part fails with a hint and a non-zero exit; a test mail
reaches the SMTP catcher."""
import os
import shutil
import tempfile

from harness import TlsCatcher, check, free_port


def doctor(env, **environ):
    rc, out, err = env.ctl("doctor", check=False,
                           environ={"MAILPROOF_" + k.upper(): str(v) for k, v in environ.items()})
    return rc, out + err


def test_a_good_stack_passes_every_check(env):
    # tenants of earlier tests point their webhooks at hosts that do not
    # exist (doctor would rightly say so): set aside while this runs
    aside = env.psql("UPDATE tenants SET webhook_disabled_at = now()"
                     " WHERE webhook_url IS NOT NULL AND webhook_disabled_at IS NULL"
                     " AND webhook_url NOT LIKE 'http://127.0.0.1:%' RETURNING id")
    try:
        rc, out = doctor(env)
    finally:
        for (tid,) in aside:
            env.psql("UPDATE tenants SET webhook_disabled_at = NULL WHERE id = :'p1'", tid)
    check(rc == 0 and "all checks passed" in out, "exit %d: %s" % (rc, out))
    for part in ("config", "database", "smtp", "templates", "dns", "webhooks", "base url"):
        check("\u2713 %s" % part in out, "%s passes: %s" % (part, out))
    check("\u2717" not in out, "nothing fails: %s" % out)


def test_each_broken_part_fails_with_a_hint(env):
    d = tempfile.mkdtemp(prefix="mailproof-doctor-")
    try:
        shutil.copytree(os.path.join(env.src, "templates"), d, dirs_exist_ok=True)
        os.remove(os.path.join(d, "otp.html"))
        cases = [
            ({"smtp_port": free_port()}, "\u2717 smtp", "cannot connect"),
            ({"database_url": "host=127.0.0.1 port=%d dbname=x connect_timeout=2"
              % free_port()}, "\u2717 database", "database_url"),
            ({"template_dir": d}, "\u2717 templates", "otp.html"),
            ({"mx_check": "true", "dns_server": "127.0.0.1:%d" % free_port(),
              "dns_timeout_ms": 300}, "\u2717 dns", "dns_server"),
        ]
        for environ, line, hint in cases:
            rc, out = doctor(env, **environ)
            check(rc == 1 and line in out and "hint:" in out and hint in out,
                  "%r: exit %d: %s" % (environ, rc, out))
        # a receiver on this host, while private addresses are refused
        t, _ = env.tenant_with_key("doctor-" + os.urandom(4).hex(),
                                   webhook_url="http://127.0.0.1:9999/hooks")
        rc, out = doctor(env, webhook_allow_private="false")
        env.psql("UPDATE tenants SET webhook_disabled_at = now() WHERE id = :'p1'", t["id"])
        check(rc == 1 and "\u2717 webhooks" in out and "tenant %s" % t["name"] in out and
              "private" in out, "a private receiver: %s" % out)
        # the config itself: refused before any check, with the key named
        rc, out = doctor(env, public_base_url="ftp://verify.example")
        check(rc == 1 and "public_base_url" in out, "a bad config: %d %s" % (rc, out))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def smtp_line(out):
    """doctor's smtp line and, for a failure, its hint."""
    lines = out.split("\n")
    for i, ln in enumerate(lines):
        if ln[2:].startswith("smtp "):
            hint = lines[i + 1] if i + 1 < len(lines) and "hint:" in lines[i + 1] else ""
            return ln + "\n" + hint
    raise AssertionError("no smtp line: %s" % out)


def test_smtp_starttls_and_auth_are_tried_and_no_mail_is_sent(env):
    c = TlsCatcher(env)
    good = dict(smtp_host="localhost", smtp_port=c.port, smtp_starttls="required",
                smtp_ca_file=c.ca, smtp_user="mailer", smtp_password="s3cret")
    try:
        ln = smtp_line(doctor(env, **good)[1])
        check(ln.startswith("\u2713 smtp") and "STARTTLS" in ln and "AUTH" in ln, ln)
        cases = [
            (dict(good, smtp_password="wrong"), "AUTH as mailer refused", "smtp_password"),
            (dict(good, smtp_ca_file=""), "STARTTLS with localhost", "smtp_ca_file"),
            (dict(good, smtp_host="127.0.0.1"), "STARTTLS with 127.0.0.1", "smtp_host"),
            (dict(good, smtp_starttls="no"), "does not offer AUTH without", "smtp_starttls"),
            (dict(smtp_starttls="required"), "does not offer STARTTLS", "smtp_starttls"),
        ]
        for environ, what, hint in cases:
            rc, out = doctor(env, **environ)
            ln = smtp_line(out)
            check(rc == 1 and ln.startswith("\u2717 smtp") and what in ln and "hint:" in ln
                  and hint in ln.split("hint:")[1], "%r: %s" % (environ, ln))
        check(c.mails() == [], "doctor sent no mail: %r" % c.mails())
    finally:
        c.stop()


def test_send_test_arrives(env):
    to = env.new_address("sendtest")
    rc, out, err = env.ctl("send-test", "--to", to)
    check(rc == 0 and out.startswith("sent from ") and " 250 " in out, "%d %r %r" % (rc, out, err))
    m = env.wait("the test mail", lambda: env.mails_to(to))[-1]
    check(str(m["Subject"]) == "mailproof test mail", "subject: %r" % str(m["Subject"]))
    rc, out, err = env.ctl("send-test", "--to", "not an address", check=False)
    check(rc == 1 and "--to" in err, "a bad address: %r" % err)
    rc, out, err = env.ctl("send-test", "--to", to, check=False,
                           environ={"MAILPROOF_SMTP_PORT": str(free_port()),
                                    "MAILPROOF_SMTP_TIMEOUT_MS": "1000"})
    check(rc == 1 and "NOT sent" in out, "a server that is down: %r" % out)
