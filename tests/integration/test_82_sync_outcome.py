"""A sync-mode start whose worker loses the database, or dies, after the
SMTP server answered (issue 12): the outcome is recorded all the same, by
the worker once PostgreSQL is back or by the notifier from the mail
journal, and a retry with the same Idempotency-Key answers the truth.
The catcher takes 2 s over a mail to a "slow" address: time to act while
the send is under way."""
import json
import os
import signal
import subprocess
import threading
import time

from harness import Master, Notifier, check, fcgi_request

SMTP = dict(smtp_timeout_ms=3000, sync_mail_settle_seconds=8)


def setup(env):
    env.service("notifier", "stop")


def teardown(env):
    env.service("notifier", "start")


def start(m, key, email, idem, timeout=30):
    """A start through m with an Idempotency-Key: (status, headers, answer)."""
    st, hdrs, out = fcgi_request(("127.0.0.1", m.port), {
        "REQUEST_METHOD": "POST", "REQUEST_URI": "/v1/verifications/email",
        "CONTENT_TYPE": "application/json", "HTTP_AUTHORIZATION": "Bearer " + key,
        "HTTP_IDEMPOTENCY_KEY": idem}, json.dumps({"email": email}).encode(), timeout=timeout)
    return st, hdrs, json.loads(out)


def in_background(fn):
    """Runs fn in a thread; the returned list gets its result, or the exception."""
    got = []

    def run():
        try:
            got.append(fn())
        except Exception as e:  # noqa: BLE001 - the test looks at what happened
            got.append(e)
    t = threading.Thread(target=run)
    t.start()
    return t, got


def worker_of(m):
    p = subprocess.run(["pgrep", "-P", str(m.proc.pid)], capture_output=True, text=True)
    pids = [int(x) for x in p.stdout.split()]
    check(len(pids) == 1, "one worker: %r" % pids)
    return pids[0]


def delivery(env, vid):
    return json.loads(env.psql("SELECT mp_verification_json(v)::text FROM verifications v"
                               " WHERE id = :'p1'", vid)[0][0])


def test_a_database_restart_during_the_send_is_a_201_with_sent(env):
    _, key = env.shared_tenant("sync-outcome")
    m = Master(env, **SMTP)
    addr = env.new_address("slow")
    try:
        t, got = in_background(lambda: start(m, key, addr, "restart-" + os.urandom(4).hex()))
        time.sleep(0.5)   # the worker waits for the SMTP server's answer
        env.service("pg", "stop")
        time.sleep(2.5)   # the answer came: the worker cannot record it
        env.service("pg", "start")
        t.join(30)
        st, _, body = got[0]
        check(st == 201 and body["data"]["delivery"]["status"] == "SENT" and
              body["data"]["sent"] is True, "the client is told the truth: %d %r" % (st, body))
        check(delivery(env, body["data"]["id"])["delivery"]["status"] == "SENT", "and it is kept")
        check(len(env.mails_to(addr)) == 1, "one mail")
    finally:
        m.stop()


def killed_during_the_send(env, key, addr, idem, **overrides):
    """Starts a slow send through a master of one worker and kills that
    worker while it waits for the SMTP server; returns the master."""
    m = Master(env, **dict(SMTP, **overrides))
    t, got = in_background(lambda: start(m, key, addr, idem))
    time.sleep(0.5)
    os.kill(worker_of(m), signal.SIGKILL)
    t.join(30)
    check(isinstance(got[0], Exception) or got[0][0] >= 500,
          "the client got no answer, or a 5xx: %r" % (got[0],))
    return m


def test_a_killed_worker_s_sent_mail_is_recorded_from_the_journal(env):
    _, key = env.shared_tenant("sync-outcome")
    addr, idem = env.new_address("slow"), "killed-" + os.urandom(4).hex()
    m = killed_during_the_send(env, key, addr, idem)
    n = Notifier(env, sweep_interval_seconds=1, **SMTP)
    try:
        env.wait("the mail, sent by the process that talked to the server",
                 lambda: env.mails_to(addr), timeout=10)
        st, _, body = start(m, key, addr, idem)
        check(st == 409 and body["error"]["code"] == "IDEMPOTENCY_CONFLICT",
              "while unrecorded, a retry is told to wait: %d %r" % (st, body))
        vid = env.psql("SELECT id FROM verifications WHERE email = :'p1'", addr)[0][0]
        env.wait("recorded from the journal",
                 lambda: delivery(env, vid)["delivery"]["status"] == "SENT", timeout=30)
        st, hdrs, body = start(m, key, addr, idem)
        check(st == 201 and hdrs.get("idempotent-replayed") == "true" and
              body["data"]["id"] == vid and body["data"]["status"] == "PENDING" and
              body["data"]["delivery"]["status"] == "SENT" and body["data"]["sent"] is True,
              "the retry answers the truth: %d %r %r" % (st, hdrs, body))
        again = start(m, key, addr, idem)
        check(again[0] == 201 and again[1].get("idempotent-replayed") == "true" and
              again[2] == body, "and so does the next: %r" % (again,))
        held = json.loads(env.psql("SELECT payload::text FROM outbox WHERE verification_id ="
                                   " :'p1' AND type = 'verification.initiated'", vid)[0][0])
        check(held["delivery"]["status"] == "SENT", "the initiated event says SENT: %r" % held)
        code = env.code_from_mail(addr)
        check(env.request("POST", "/v1/verifications/email/%s/verify" % vid,
                          body={"code": code}, key=key)[0] == 200, "its code verifies")
        check(len(env.mails_to(addr)) == 1, "one mail, not a second for the retry")
    finally:
        n.stop()
        m.stop()


def test_with_no_journal_line_it_fails_with_an_event(env):
    _, key = env.shared_tenant("sync-outcome")
    addr, idem = env.new_address("slow"), "lost-" + os.urandom(4).hex()
    m = killed_during_the_send(env, key, addr, idem, mail_journal="")
    n = Notifier(env, sweep_interval_seconds=1, **SMTP)
    try:
        vid = env.psql("SELECT id FROM verifications WHERE email = :'p1'", addr)[0][0]
        env.wait("FAILED after twice the settle time",
                 lambda: delivery(env, vid)["status"] == "FAILED", timeout=40)
        d = delivery(env, vid)["delivery"]
        check(d["status"] == "FAILED" and "not recorded" in d["smtpReply"], "why: %r" % d)
        check(env.psql("SELECT count(*) FROM outbox WHERE verification_id = :'p1'"
                       " AND type = 'email.failed'", vid) == [["1"]], "an email.failed event")
        st, hdrs, body = start(m, key, addr, idem)
        check(st == 502 and body["error"]["code"] == "EMAIL_SEND_FAILED" and
              hdrs.get("idempotent-replayed") == "true" and
              body["error"]["details"]["verificationId"] == vid,
              "the retry answers the truth: %d %r" % (st, body))
    finally:
        n.stop()
        m.stop()
