"""STARTTLS and AUTH against a real SMTP server (the catcher with TLS and
AUTH on), with a private CA given by smtp_ca_file."""
from harness import Master, TlsCatcher, check


def test_starttls_required_with_auth_delivers_twice_from_one_worker(env):
    _, key = env.shared_tenant("tls")
    c = TlsCatcher(env)
    m = Master(env, smtp_host="localhost", smtp_port=c.port, smtp_starttls="required",
               smtp_ca_file=c.ca, smtp_user="mailer", smtp_password="s3cret")
    try:
        # two sessions in one worker: libESMTP 1.1.0 crashed on the second
        for _ in range(2):
            st, body = m.start(key, {"email": env.new_address()})
            check(st == 201 and body["data"]["delivery"]["status"] == "SENT",
                  "over STARTTLS with AUTH: %d %r" % (st, body))
        env.wait("two mails", lambda: len(c.mails()) == 2)
        st, body = m.start(key, {"email": env.new_address()})
        check(st == 201, "the worker is still alive: %d" % st)
    finally:
        m.stop()
        c.stop()


def test_tls_and_auth_failures_are_502(env):
    _, key = env.shared_tenant("tls")
    c = TlsCatcher(env)
    plain_port = int(env.conf["SMTP_PORT"])
    # each case: what it is, the reply it must fail with, the settings
    cases = [
        ("wrong password", "535", dict(smtp_host="localhost", smtp_port=c.port, smtp_starttls="required",
                                smtp_ca_file=c.ca, smtp_user="mailer", smtp_password="wrong")),
        ("untrusted certificate", "certificate", dict(smtp_host="localhost", smtp_port=c.port,
                                       smtp_starttls="required", smtp_user="mailer",
                                       smtp_password="s3cret")),
        ("server demands STARTTLS", "530", dict(smtp_host="localhost", smtp_port=c.port,
                                         smtp_starttls="no", smtp_user="mailer",
                                         smtp_password="s3cret")),
        ("required but not offered", "STARTTLS", dict(smtp_port=plain_port,
                                                      smtp_starttls="required")),
    ]
    try:
        for what, reason, overrides in cases:
            m = Master(env, smtp_timeout_ms=5000, **overrides)
            try:
                st, body = m.start(key, {"email": env.new_address()})
                check(st == 502 and body["error"]["code"] == "EMAIL_SEND_FAILED",
                      "%s: %d %r" % (what, st, body))
                d = body["error"]["details"]["delivery"]
                check(reason in "%s %s" % (d["smtpCode"], d["smtpReply"]),
                      "%s fails for its own reason: %r" % (what, d))
            finally:
                m.stop()
        check(c.mails() == [], "nothing was delivered")
        m = Master(env, smtp_port=plain_port, smtp_starttls="try")
        try:
            st, body = m.start(key, {"email": env.new_address()})
            check(st == 201, "try falls back to plain text when not offered: %d %r" % (st, body))
        finally:
            m.stop()
    finally:
        c.stop()
