"""Bounces (issue 17): with bounce_address set, each mail goes out with a
VERP envelope sender of its own; `mailproofctl bounce` reads what comes
back (the corpus of tests/data/bounces/: Postfix, Exim, Sendmail,
Microsoft 365, Gmail, qmail, a plain-text bounce, an auto-reply) and
records BOUNCED or DELAYED on the verification, with email.bounced and
the address suppressed; a forged tag changes nothing; its exit statuses
are the ones an MTA acts on (sysexits.h)."""
import hashlib
import os
import re
import subprocess

from harness import Master, Notifier, Receiver, check, config_env, expect_error, \
    verify_signatures

BOUNCE = "bounces@mailproof.test"
VERP = re.compile(r"^bounces\+(ev_[0-9A-Z]{26})\.([0-9a-f]{12})@mailproof\.test$")
CORPUS_VERP = "bounces+ev_7Q2N8K4M0D9X1V3B5C6F7G8H9J.a1b2c3d4e5f6@mail.example.com"
EX_DATAERR, EX_TEMPFAIL, EX_CONFIG = 65, 75, 78
API = "/v1/verifications/email"


def setup(env):
    env.service("notifier", "stop")
    env.bounce_master = Master(env, bounce_address=BOUNCE)


def teardown(env):
    env.bounce_master.stop()
    env.service("notifier", "start")


def bounce(env, message, *args, **overrides):
    """mailproofctl bounce with message on stdin: (exit status, stdout, stderr)."""
    ov = {"bounce_address": BOUNCE}
    ov.update(overrides)
    p = subprocess.run([os.path.join(env.build, "mailproofctl"), "bounce", *args],
                       input=message.encode() if isinstance(message, str) else message,
                       capture_output=True, timeout=60, env=config_env(env, ov))
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def corpus(env, name, verp):
    with open(os.path.join(env.src, "tests", "data", "bounces", name)) as f:
        return f.read().replace(CORPUS_VERP, verp)


def started(env, key, addr=None):
    """A start through the master with bounce_address: (id, address, envelope sender)."""
    addr = addr or env.new_address()
    st, body = env.bounce_master.start(key, {"email": addr})
    check(st == 201, "start: %d %r" % (st, body))
    msg = env.wait("the mail", lambda: env.mails_to(addr))[-1]
    return body["data"]["id"], addr, msg


def get(env, key, vid):
    return env.request("GET", "%s/%s" % (API, vid), key=key)[2]["data"]


def test_verp_sender_and_a_hard_bounce(env):
    rx = Receiver()
    t, k = env.tenant_with_key("bounce-" + os.urandom(4).hex(), webhook_url=rx.url)
    key = k["key"]
    vid, addr, msg = started(env, key)
    envelope = msg["X-Envelope-From"]
    m = VERP.match(envelope)
    check(m and m.group(1) == vid, "the envelope sender names the verification: %s" % envelope)
    want = hashlib.blake2b(b"bounce-tag\0" + vid.encode() + b"\0", key=env.secret_key,
                           digest_size=32).hexdigest()[:12]
    check(m.group(2) == want, "the tag is the keyed hash of the id")
    check(msg["From"].addresses[0].addr_spec == "verify@mailproof.test", "From is unchanged")
    rc, out, err = bounce(env, corpus(env, "postfix-5.1.1.eml", envelope), "--json")
    check(rc == 0, "exit %d: %s" % (rc, err))
    check('"outcome": "bounced"' in out and '"status": "5.1.1"' in out, out)
    v = get(env, key, vid)
    d = v["delivery"]
    check(v["status"] == "FAILED" and d["status"] == "BOUNCED" and d["bounceCode"] == "5.1.1"
          and d["bounceSource"] == "DSN" and d["bouncedAt"] and
          d["bounceReason"] == 'unknown user: "nosuchuser"', "GET: %r" % v)
    # the same bounce again: nothing new
    rc, out, _ = bounce(env, corpus(env, "postfix-5.1.1.eml", envelope))
    check(rc == 0 and out.split()[-1] == "ignored", "again: %d %s" % (rc, out))
    n = Notifier(env, args=["--once"])
    check(n.wait() == 0, "--once")
    kinds = sorted(r["body"].split('"type":"')[1].split('"')[0] for r in rx.requests)
    check(kinds == ["email.bounced", "email.failed", "verification.initiated"],
          "events: %r" % kinds)
    check(verify_signatures(env, t["webhookSecret"], rx.requests) == ["ok"] * 3, "signed")
    rx.stop()
    listed = env.ctl_json("suppression", "list", "--tenant", t["name"])
    check([(x["email"], x["reason"]) for x in listed] == [(addr.lower(), "bounced")],
          "suppressed: %r" % listed)
    expect_error(env.start(key, addr), 422, "EMAIL_SUPPRESSED")


def test_a_delay_then_the_code(env):
    t, k = env.tenant_with_key("bounce-delay-" + os.urandom(4).hex())
    key = k["key"]
    vid, addr, msg = started(env, key)
    rc, out, err = bounce(env, corpus(env, "postfix-delayed.eml", msg["X-Envelope-From"]))
    check(rc == 0 and out.split()[-1] == "delayed", "%d %s %s" % (rc, out, err))
    d = get(env, key, vid)["delivery"]
    check(d["status"] == "DELAYED" and d["bounceCode"] == "4.7.1", "DELAYED: %r" % d)
    st, _, body = env.request("POST", "%s/%s/verify" % (API, vid), key=key,
                              body={"code": env.code_from_mail(addr)})
    check(st == 200, "verify: %d %r" % (st, body))
    v = get(env, key, vid)
    check(v["status"] == "VERIFIED" and v["delivery"]["status"] == "SENT",
          "verified, so it arrived: %r" % v)
    # and a bounce for it now changes nothing: it arrived
    rc, out, _ = bounce(env, corpus(env, "postfix-5.1.1.eml", msg["X-Envelope-From"]))
    check(rc == 0 and out.split()[-1] == "ignored", "%d %s" % (rc, out))
    check(get(env, key, vid)["delivery"]["status"] == "SENT", "still SENT")


def test_every_corpus_format_through_the_command(env):
    t, k = env.tenant_with_key("bounce-corpus-" + os.urandom(4).hex())
    key = k["key"]
    path = os.path.join(env.src, "tests", "data", "bounces", "expected.txt")
    seen = []
    with open(path) as f:
        rows = [line.split() for line in f if line.strip() and not line.startswith("#")]
    for name, kind, status, guessed in rows:
        vid, addr, msg = started(env, key)
        rc, out, err = bounce(env, corpus(env, name, msg["X-Envelope-From"]))
        v = get(env, key, vid)
        d = v["delivery"]
        if kind == "FAILED":
            check(rc == 0 and d["status"] == "BOUNCED" and d["bounceCode"] == status and
                  d["bounceSource"] == ("TEXT" if guessed == "1" else "DSN") and
                  v["status"] == "FAILED", "%s: %d %r %s" % (name, rc, d, err))
        elif kind == "DELAYED":
            check(rc == 0 and d["status"] == "DELAYED" and d["bounceCode"] == status,
                  "%s: %d %r" % (name, rc, d))
        else:  # an auto-reply, a reply: nothing changes
            check(rc == 0 and out.split()[-1] == "ignored" and d["status"] == "SENT" and
                  v["status"] == "PENDING", "%s: %d %s %r" % (name, rc, out, d))
        seen.append(name)
    check(len(seen) >= 10, "%d formats" % len(seen))


def test_forged_tags_change_nothing(env):
    t, k = env.tenant_with_key("bounce-forged-" + os.urandom(4).hex())
    key = k["key"]
    vid, addr, msg = started(env, key)
    verp = msg["X-Envelope-From"]
    local, domain = verp.split("@")
    base, tag = local.rsplit(".", 1)
    forged = [base + "." + tag[:-1] + ("0" if tag[-1] != "0" else "1") + "@" + domain,
              base + "@" + domain,                  # no tag
              local + "@elsewhere.test",            # another domain
              "postmaster@" + domain]
    for f in forged:
        rc, out, err = bounce(env, corpus(env, "postfix-5.1.1.eml", f), "--recipient", f)
        check(rc == 0 and out.split()[-1] == "dropped", "%s: %d %s %s" % (f, rc, out, err))
        check("not sent to a VERP address of ours" in err, err)
    d = get(env, key, vid)["delivery"]
    check(d["status"] == "SENT" and d["bounceCode"] is None, "unchanged: %r" % d)
    # an MTA that folded the case, and a tag made under the previous secret_key
    rc, out, _ = bounce(env, corpus(env, "postfix-delayed.eml", verp.lower()))
    check(rc == 0 and out.split()[-1] == "delayed", "case folded: %d %s" % (rc, out))
    new = os.urandom(32).hex()
    rc, out, err = bounce(env, corpus(env, "postfix-5.1.1.eml", verp), secret_key=new,
                          secret_key_previous=env.secret_key.hex())
    check(rc == 0 and out.split()[-1] == "bounced", "previous key: %d %s %s" % (rc, out, err))


def test_exit_statuses_an_mta_acts_on(env):
    t, k = env.tenant_with_key("bounce-exit-" + os.urandom(4).hex())
    key = k["key"]
    vid, addr, msg = started(env, key)
    verp = msg["X-Envelope-From"]
    unreadable = ("From: MAILER-DAEMON@mx.example.net\r\nTo: %s\r\nSubject: failure notice\r\n"
                  "\r\nYour message could not be delivered, sorry.\r\n" % verp)
    rc, _, err = bounce(env, unreadable)
    check(rc == EX_DATAERR and "returned to the MTA" in err, "unreadable: %d %s" % (rc, err))
    rc, _, err = bounce(env, corpus(env, "postfix-5.1.1.eml", verp), bounce_address="")
    check(rc == EX_CONFIG, "no bounce_address: %d %s" % (rc, err))
    rc, _, err = bounce(env, corpus(env, "postfix-5.1.1.eml", verp),
                        database_url="host=127.0.0.1 port=1 dbname=mailproof")
    check(rc == EX_TEMPFAIL and "try again" in err, "no database: %d %s" % (rc, err))
    rc, _, err = bounce(env, corpus(env, "postfix-5.1.1.eml", verp), bounce_address="no-at-sign")
    check(rc == EX_CONFIG and "bounce_address" in err, "a bad bounce_address: %d %s" % (rc, err))
    rc, out, _ = bounce(env, b"\x00\xff" * 1000 + b"\r\n\r\n")
    check(rc == 0 and out.split()[-1] == "dropped", "garbage: %d %s" % (rc, out))
    # none of that changed the verification
    d = get(env, key, vid)["delivery"]
    check(d["status"] == "SENT", "unchanged: %r" % d)
