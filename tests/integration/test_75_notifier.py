"""mailproof-notifier (issue 4): webhooks to a real HTTP receiver with
signatures checked by the standardwebhooks npm package, retries and
back-off, 410, dead events and revival, the address guard, killed and
concurrent notifiers, queued mail, the expiry sweep, retention and --once.
The stack's own notifier is stopped while these run, so each test owns the
notifiers it starts."""
import os
import signal
import subprocess
import time

from harness import Master, Notifier, Receiver, check, free_port, verify_signatures

FAST = dict(webhook_retry_base_ms=200, webhook_timeout_ms=2000)


def setup(env):
    env.service("notifier", "stop")


def teardown(env):
    env.service("notifier", "start")


def hooked_tenant(env, receiver_url, name="hooks"):
    t, k = env.tenant_with_key("%s-%s" % (name, os.urandom(4).hex()), webhook_url=receiver_url)
    return t, k["key"]


def own_catcher(env, port):
    """An SMTP catcher of this test's own on port: (its process, its mail directory)."""
    mail_dir = os.path.join(env.var, "mail-queue-%d" % port)
    return subprocess.Popen(["/usr/bin/python3", os.path.join(
        env.src, "tests", "tools", "smtp_catcher.py"), "--port", str(port), "--dir",
        mail_dir]), mail_dir


def outbox(env, tenant_id):
    return env.psql("SELECT type, state, attempts, coalesce(last_error, '') FROM outbox"
                    " WHERE tenant_id = :'p1' ORDER BY id", tenant_id)


def start_and_code(env, key, **fields):
    addr = env.new_address()
    st, _, body = env.start(key, addr, **fields)
    check(st == 201, "start: %d %r" % (st, body))
    return body["data"]["id"], env.code_from_mail(addr)


def verify(env, key, vid, code):
    return env.request("POST", "/v1/verifications/email/%s/verify" % vid, body={"code": code},
                       key=key)


def test_each_event_arrives_signed_with_the_verification(env):
    rx = Receiver()
    t, key = hooked_tenant(env, rx.url)
    n = Notifier(env, **FAST)
    try:
        v1, c1 = start_and_code(env, key, userId="u-1")
        check(verify(env, key, v1, c1)[0] == 200)
        v2, _ = start_and_code(env, key, maxAttempts=1)
        verify(env, key, v2, "0")
        v3, _ = start_and_code(env, key)
        env.request("POST", "/v1/verifications/email/%s/cancel" % v3, key=key)
        v4, _ = start_and_code(env, key)
        env.psql("UPDATE verifications SET expires_at = now() - interval '1 second'"
                 " WHERE id = :'p1'", v4)
        n.stop()
        n = Notifier(env, args=["--once"], **FAST)  # --once also sweeps
        check(n.wait() == 0, "--once exits 0")
        got = {}
        for wid, ev in rx.events():
            got.setdefault(ev["data"]["id"], []).append(ev["type"])
        check(got.get(v1) == ["verification.initiated", "email.verified"], "v1: %r" % got.get(v1))
        check(got.get(v2) == ["verification.initiated", "email.failed"], "v2: %r" % got.get(v2))
        check(got.get(v3) == ["verification.initiated", "verification.canceled"], "v3")
        check(got.get(v4) == ["verification.initiated", "email.expired"], "v4: %r" % got.get(v4))
        for wid, ev in rx.events():
            d = ev["data"]
            check(set(ev) == {"type", "timestamp", "data"} and ev["timestamp"].endswith("Z"),
                  "envelope: %r" % ev)
            want = {"email.verified": "VERIFIED", "email.failed": "FAILED",
                    "verification.canceled": "CANCELED", "email.expired": "EXPIRED",
                    "verification.initiated": "PENDING"}[ev["type"]]
            check(d["status"] == want, "%s carries status %s: %r" % (ev["type"], want, d))
            for field in ("id", "email", "userId", "delivery", "metadata", "linkViews"):
                check(field in d, "data lacks %s" % field)
            check(wid.startswith("msg_"), "webhook-id")
        results = verify_signatures(env, t["webhookSecret"], rx.requests)
        check(len(results) == 8 and all(r == "ok" for r in results),
              "standardwebhooks verifies every signature: %r" % results)
        # and a tampered body does not verify
        bad = dict(rx.requests[0], body=rx.requests[0]["body"].replace("PENDING", "VERIFIED"))
        check(verify_signatures(env, t["webhookSecret"], [bad])[0].startswith("fail"),
              "a changed body fails")
    finally:
        n.stop()
        rx.stop()


class Listener:
    """A psql session LISTENing on the notifier's channel."""

    def __init__(self, env):
        self.proc = subprocess.Popen(
            ["psql", "-h", "127.0.0.1", "-p", str(env.pg_port), "-U", "mailproof", "-d",
             "mailproof", "-qAtX"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.proc.stdin.write("LISTEN mailproof_wake;\nSELECT 'listening';\n")
        self.proc.stdin.flush()
        check(self.proc.stdout.readline().strip() == "listening", "LISTEN")

    def notifications(self):
        """Ends the session; the notifications it was sent."""
        out, _ = self.proc.communicate("SELECT 'done';\n", timeout=30)
        return out.count('notification "mailproof_wake"')


def sleeping(env):
    return env.psql("SELECT sleeping FROM notifier_sleep") == [["t"]]


def test_busy_writers_do_not_notify_and_a_sleeping_notifier_is_woken(env):
    # A NOTIFY in a transaction holds a database-wide lock from its commit
    # until the commit is flushed, so no insert may notify by itself.
    check(env.psql("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal"
                   " AND tgrelid IN ('outbox'::regclass, 'mail_jobs'::regclass)") == [["0"]],
          "no trigger on the queues")
    rx = Receiver()
    t, key = hooked_tenant(env, rx.url)
    try:
        # no notifier asleep (none runs): writers do not notify
        env.psql("UPDATE notifier_sleep SET sleeping = false")
        listener = Listener(env)
        for _ in range(3):
            start_and_code(env, key)
        check(listener.notifications() == 0, "starts notified while no notifier sleeps")
        # a notifier that has drained everything says it sleeps; the next
        # write wakes it, once
        n = Notifier(env, log_level="debug", **FAST)
        try:
            env.wait("the first events", lambda: len(rx.events()) == 3)
            env.wait("the notifier asleep", lambda: sleeping(env))
            listener = Listener(env)
            start_and_code(env, key)
            env.wait("woken", lambda: "woken by a notification" in n.text())
            env.wait("the event", lambda: len(rx.events()) == 4)
            check(listener.notifications() == 1, "one notification")
        finally:
            n.stop()
    finally:
        rx.stop()


def test_an_idle_notifier_sleeps(env):
    # what earlier tests left waiting (receivers long gone) would wake it
    env.psql("UPDATE outbox SET state = 'dead' WHERE state IN ('pending', 'sending')")
    env.psql("UPDATE mail_jobs SET state = 'failed' WHERE state IN ('pending', 'sending')")
    n = Notifier(env, sweep_interval_seconds=3600)
    try:
        env.wait("the notifier asleep", lambda: sleeping(env))
        backend = env.wait("its database session", lambda: env.psql(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'mailproof-notifier'"
            " AND pid <> pg_backend_pid()"))
        check(len(backend) == 1, "one session: %r" % backend)
        bpid = int(backend[0][0])
        time.sleep(0.5)

        def cpu(pid):
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])

        def last_statement():
            return env.psql("SELECT query_start FROM pg_stat_activity WHERE pid = :'p1'", bpid)

        before = (cpu(n.proc.pid), cpu(bpid), last_statement())
        time.sleep(5)
        after = (cpu(n.proc.pid), cpu(bpid), last_statement())
        check(after[2] == before[2], "statements ran while idle: %r -> %r" % (before[2], after[2]))
        check(after[0] - before[0] <= 1, "the notifier used %d ticks" % (after[0] - before[0]))
        check(after[1] - before[1] <= 1, "its backend used %d ticks" % (after[1] - before[1]))
    finally:
        n.stop()


def test_retries_keep_the_id_and_back_off(env):
    rx = Receiver(responses=[500, 500])
    t, key = hooked_tenant(env, rx.url)
    n = Notifier(env, webhook_retry_base_ms=400)
    try:
        vid, _ = start_and_code(env, key)
        env.wait("delivery after two 500s", lambda: len(rx.requests) >= 3, timeout=15)
        reqs = rx.requests[:3]
        check([r["status"] for r in reqs] == [500, 500, 200], "statuses")
        ids = {r["headers"]["webhook-id"] for r in reqs}
        check(len(ids) == 1, "the same webhook-id each time: %r" % ids)
        check(len({r["body"] for r in reqs}) == 1, "the same body each time")
        gap1, gap2 = reqs[1]["time"] - reqs[0]["time"], reqs[2]["time"] - reqs[1]["time"]
        check(gap1 >= 0.2 and gap2 >= 0.4, "back-off: %.2f s then %.2f s" % (gap1, gap2))
        env.wait("recorded", lambda: outbox(env, t["id"])[0][1] == "delivered")
        check(outbox(env, t["id"])[0][2] == "3", "three attempts recorded")
    finally:
        n.stop()
        rx.stop()


def test_retry_after_of_429_is_honoured(env):
    rx = Receiver(responses=[429])  # answers with Retry-After: 1
    t, key = hooked_tenant(env, rx.url)
    n = Notifier(env, webhook_retry_base_ms=100)
    try:
        start_and_code(env, key)
        env.wait("the retry", lambda: len(rx.requests) >= 2, timeout=15)
        gap = rx.requests[1]["time"] - rx.requests[0]["time"]
        check(gap >= 1.0, "waited for Retry-After, not the 100 ms back-off: %.2f s" % gap)
    finally:
        n.stop()
        rx.stop()


def test_receiver_down_for_a_while_then_up(env):
    port = free_port()
    t, key = hooked_tenant(env, "http://127.0.0.1:%d/hooks" % port)
    n = Notifier(env, webhook_retry_base_ms=200, webhook_max_attempts=30)
    rx = None
    try:
        start_and_code(env, key)
        env.wait("a failed attempt", lambda: int(outbox(env, t["id"])[0][2]) >= 2, timeout=10)
        check(outbox(env, t["id"])[0][1] == "pending", "still pending")
        rx = Receiver(port=port)
        env.wait("delivery once the receiver is up", lambda: rx.events(), timeout=20)
        env.wait("recorded", lambda: outbox(env, t["id"])[0][1] == "delivered")
    finally:
        n.stop()
        if rx:
            rx.stop()


def test_410_disables_the_endpoint_until_it_is_set_again(env):
    rx = Receiver(responses=[410])
    t, key = hooked_tenant(env, rx.url)
    n = Notifier(env, **FAST)
    try:
        start_and_code(env, key)
        env.wait("dead after 410", lambda: outbox(env, t["id"])[0][1] == "dead")
        shown = env.ctl_json("tenant", "show", t["name"])
        check(shown["webhookEnabled"] is False and shown["webhookDisabledAt"], "show: %r" % shown)
        check("DISABLED" in env.ctl("tenant", "show", t["name"])[1], "text form says so")
        start_and_code(env, key)
        env.wait("skipped while disabled", lambda: outbox(env, t["id"])[1][1] == "skipped")
        check(len(rx.requests) == 1, "nothing sent to a disabled endpoint")
        env.ctl("tenant", "update", t["name"], "--webhook-url", rx.url)
        check(env.ctl_json("tenant", "show", t["name"])["webhookEnabled"], "enabled again")
        for row_id in env.psql("SELECT id FROM outbox WHERE tenant_id = :'p1' AND state IN"
                               " ('dead', 'skipped') ORDER BY id", t["id"]):
            env.ctl("outbox", "retry", row_id[0])
        env.wait("both delivered", lambda: [r[1] for r in outbox(env, t["id"])] ==
                 ["delivered", "delivered"])
    finally:
        n.stop()
        rx.stop()


def test_exhausted_events_are_dead_and_can_be_revived(env):
    rx = Receiver(responses=[500, 503, 500])
    t, key = hooked_tenant(env, rx.url)
    n = Notifier(env, webhook_retry_base_ms=100, webhook_max_attempts=2)
    try:
        start_and_code(env, key)
        env.wait("dead", lambda: outbox(env, t["id"])[0][1] == "dead", timeout=15)
        listed = env.ctl_json("outbox", "list", "--state", "dead", "--tenant", t["name"])
        check(len(listed) == 1 and listed[0]["attempts"] == 2 and listed[0]["lastStatus"] == 503,
              "outbox list: %r" % listed)
        rc, _, err = env.ctl("outbox", "retry", "999999999", check=False)
        check(rc == 1 and "no event" in err, "unknown id")
        out = env.ctl_json("outbox", "retry", str(listed[0]["id"]))
        check(out["was"] == "dead" and out["state"] == "pending", "%r" % out)
        env.wait("delivered after revival", lambda: outbox(env, t["id"])[0][1] == "delivered",
                 timeout=15)
        rc, _, err = env.ctl("outbox", "retry", str(listed[0]["id"]), check=False)
        check(rc == 1 and "delivered" in err, "a delivered event is not retried: %r" % err)
    finally:
        n.stop()
        rx.stop()


def test_dead_events_of_an_outage_are_retried_by_one_command(env):
    rx = Receiver()
    a, ka = hooked_tenant(env, rx.url, "outage-a")
    b, kb = hooked_tenant(env, rx.url, "outage-b")
    for key in (ka, ka, ka, kb):
        start_and_code(env, key)
    # the receiver was away for long: every event died, one of them hours ago
    env.psql("UPDATE outbox SET state = 'dead', attempts = 12 WHERE tenant_id IN (:'p1', :'p2')",
             a["id"], b["id"])
    env.psql("UPDATE outbox SET created_at = now() - interval '3 hours' WHERE id = (SELECT min(id)"
             " FROM outbox WHERE tenant_id = :'p1')", a["id"])
    rc, out, err = env.ctl("outbox", "retry", "--state", "dead", "--tenant", a["name"],
                           "--since", "2h")
    check(out.startswith("2 dead events are pending again"), "%r %r" % (out, err))
    check(sorted(r[1] for r in outbox(env, a["id"])) == ["dead", "pending", "pending"] and
          [r[1] for r in outbox(env, b["id"])] == ["dead"], "only the tenant's recent ones")
    since = env.psql("SELECT to_char(now() - interval '4 hours', 'YYYY-MM-DD HH24:MI:SSOF')")[0][0]
    out = env.ctl_json("outbox", "retry", "--state", "dead", "--tenant", a["name"], "--since",
                       since)
    check(out == {"was": "dead", "retried": 1}, "since a time: %r" % out)
    out = env.ctl_json("outbox", "retry", "--state", "dead", "--tenant", b["name"])
    check(out["retried"] == 1, "the other tenant: %r" % out)
    n = Notifier(env)
    try:
        env.wait("all delivered", lambda: {r[1] for r in outbox(env, a["id"]) +
                                           outbox(env, b["id"])} == {"delivered"}, timeout=15)
    finally:
        n.stop()
        rx.stop()
    for args, says in [(["--state", "pending"], "--state dead"), ([], "event ID"),
                       (["--state", "dead", "--since", "last tuesday-ish"], "--since"),
                       (["--state", "dead", "--tenant", "no-such-tenant"], "no tenant named"),
                       (["1", "--state", "dead"], "not both")]:
        rc, _, err = env.ctl("outbox", "retry", *args, check=False)
        check(rc == 1 and says in err, "%r: %d %r" % (args, rc, err))


def test_private_addresses_are_refused_unless_allowed(env):
    rx = Receiver()
    t, key = hooked_tenant(env, rx.url)
    n = Notifier(env, webhook_allow_private="false", webhook_retry_base_ms=100,
                 webhook_max_attempts=2)
    try:
        start_and_code(env, key)
        env.wait("given up", lambda: outbox(env, t["id"])[0][1] == "dead", timeout=15)
        check(rx.requests == [], "nothing reached the receiver")
        err = outbox(env, t["id"])[0][3]
        check("127.0.0.1" in err and "private" in err, "recorded why: %r" % err)
    finally:
        n.stop()
        rx.stop()


def test_killed_notifier_loses_nothing(env):
    rx = Receiver(delay=0.3)
    t, key = hooked_tenant(env, rx.url)
    for _ in range(6):
        start_and_code(env, key)
    n = Notifier(env, args=["--batch", "3"], webhook_timeout_ms=1000)
    env.wait("the batch under way", lambda: len(rx.requests) >= 1, timeout=10)
    n.stop(signal.SIGKILL)
    claimed = env.psql("SELECT count(*) FROM outbox WHERE tenant_id = :'p1' AND state ="
                       " 'sending'", t["id"])[0][0]
    check(int(claimed) >= 1, "rows were leased when it died")
    n = Notifier(env, args=["--batch", "3"], webhook_timeout_ms=1000)
    try:
        # the leased rows come back when the lease (3 x 1 s + 2 s) runs out
        env.wait("every event delivered", lambda: all(
            r[1] == "delivered" for r in outbox(env, t["id"])), timeout=30)
        ids = {wid for wid, _ in rx.events()}
        check(len(ids) == 6, "all six events arrived (at least once): %d" % len(ids))
    finally:
        n.stop()
        rx.stop()


def test_two_notifiers_share_the_work(env):
    rx = Receiver(delay=0.02)
    t, key = hooked_tenant(env, rx.url)
    n1 = Notifier(env, args=["--batch", "2"])
    n2 = Notifier(env, args=["--batch", "2"])
    try:
        for _ in range(15):
            start_and_code(env, key)
        env.wait("all delivered", lambda: len(rx.events()) >= 15, timeout=30)
        time.sleep(0.5)
        ids = [wid for wid, _ in rx.events()]
        check(len(ids) == 15 and len(set(ids)) == 15, "each once: %d for %d" %
              (len(ids), len(set(ids))))
        check("delivered" in n1.text() and "delivered" in n2.text(), "both took part")
    finally:
        n1.stop()
        n2.stop()
        rx.stop()


def test_sigterm_finishes_the_delivery_in_hand(env):
    rx = Receiver(delay=1.0)
    t, key = hooked_tenant(env, rx.url)
    for _ in range(3):
        start_and_code(env, key)
    n = Notifier(env, args=["--batch", "3"], webhook_timeout_ms=5000)
    env.wait("a delivery under way", lambda: env.psql(
        "SELECT count(*) FROM outbox WHERE tenant_id = :'p1' AND state = 'sending'",
        t["id"])[0][0] != "0", timeout=10)
    time.sleep(0.2)
    rc = n.stop()
    check(rc == 0, "clean exit: %r" % rc)
    states = [r[1] for r in outbox(env, t["id"])]
    check(states.count("delivered") >= 1, "the event in hand was delivered: %r" % states)
    check("sending" not in states, "nothing left leased: %r" % states)


def test_reconnects_after_a_database_restart(env):
    rx = Receiver()
    t, key = hooked_tenant(env, rx.url)
    n = Notifier(env, **FAST)
    try:
        start_and_code(env, key)
        env.wait("first event", lambda: len(rx.events()) == 1)
        env.service("pg", "stop")
        time.sleep(1.5)
        env.service("pg", "start")
        env.wait("the API again", lambda: env.request("GET", "/healthz")[0] == 200, timeout=15)
        start_and_code(env, key)
        env.wait("an event after the restart", lambda: len(rx.events()) == 2, timeout=20)
        check(n.proc.poll() is None, "the notifier kept running")
    finally:
        n.stop()
        rx.stop()


def test_queued_mail_survives_an_smtp_outage(env):
    port = free_port()
    t, key = hooked_tenant(env, Receiver().url, name="queue")
    m = Master(env, mail_delivery="queue", smtp_port=port)
    n = Notifier(env, smtp_port=port, mail_retry_base_ms=300, smtp_timeout_ms=1000, **FAST)
    catcher = None
    try:
        addr = env.new_address()
        st, body = m.start(key, {"email": addr})
        check(st == 201 and body["data"]["sent"] is False and
              body["data"]["delivery"]["status"] == "QUEUED", "queued: %d %r" % (st, body))
        vid = body["data"]["id"]
        env.wait("a deferred attempt", lambda: int(env.psql(
            "SELECT attempts FROM mail_jobs WHERE verification_id = :'p1'", vid)[0][0]) >= 2,
            timeout=10)
        st, _, got = env.request("GET", "/v1/verifications/email/" + vid, key=key)
        tries = int(env.psql("SELECT attempts FROM mail_jobs WHERE verification_id = :'p1'",
                             vid)[0][0])
        check(st == 200 and got["data"]["delivery"]["status"] == "QUEUED",
              "still queued while SMTP is down: %d %r" % (st, got))
        # each failed try counts, as the job counted it (one may be under way)
        check(got["data"]["delivery"]["attempts"] in (tries - 1, tries) and
              got["data"]["delivery"]["attempts"] >= 2,
              "every failed try shown: %r, the job made %d" % (got["data"]["delivery"], tries))
        catcher, mail_dir = own_catcher(env, port)
        env.wait("SENT", lambda: env.request("GET", "/v1/verifications/email/" + vid,
                                             key=key)[2]["data"]["delivery"]["status"] == "SENT",
                 timeout=20)
        files = [f for f in os.listdir(mail_dir) if f.endswith(".eml") and f[0] != "."]
        check(len(files) == 1, "one mail arrived")
        d = env.request("GET", "/v1/verifications/email/" + vid, key=key)[2]["data"]["delivery"]
        tries = int(env.psql("SELECT attempts FROM mail_jobs WHERE verification_id = :'p1'",
                             vid)[0][0])
        check(d["attempts"] == tries and tries >= 3 and d["smtpCode"] == 250,
              "the failed tries and the one that sent: %r, the job made %d" % (d, tries))
        raw = open(os.path.join(mail_dir, files[0]), "rb").read().decode()
        import re
        code = re.search(r"^ {4}(\d{6})\r?$", raw, re.M).group(1)
        check(verify(env, key, vid, code)[0] == 200, "the queued code verifies")
        sealed = env.psql("SELECT octet_length(sealed_message), sealed_secret IS NULL"
                          " FROM mail_jobs WHERE verification_id = :'p1'", vid)
        check(sealed == [["0", "t"]], "the sealed code is dropped once sent: %r" % sealed)
    finally:
        n.stop()
        m.stop()
        if catcher:
            catcher.terminate()
            catcher.wait(10)


def test_a_resend_replaces_the_queued_mail(env):
    port = free_port()
    catcher, mail_dir = own_catcher(env, port)
    t, key = hooked_tenant(env, Receiver().url, name="requeue")
    m = Master(env, mail_delivery="queue", smtp_port=port)
    n = None
    try:
        vid = m.start_and_resend(key)
        # both mails are queued when the notifier comes; only the new one goes
        n = Notifier(env, smtp_port=port, **FAST)
        env.wait("SENT", lambda: env.request("GET", "/v1/verifications/email/" + vid,
                                             key=key)[2]["data"]["delivery"]["status"] == "SENT",
                 timeout=20)
        env.wait("both jobs done", lambda: env.psql(
            "SELECT state FROM mail_jobs WHERE verification_id = :'p1' ORDER BY id", vid) ==
            [["failed"], ["sent"]])
        files = [f for f in os.listdir(mail_dir) if f.endswith(".eml") and f[0] != "."]
        check(len(files) == 1, "one mail, not %d" % len(files))
        raw = open(os.path.join(mail_dir, files[0]), "rb").read().decode()
        import re
        code = re.search(r"^ {4}(\d{6})\r?$", raw, re.M).group(1)
        check(verify(env, key, vid, code)[0] == 200, "the resent code verifies")
    finally:
        if n:
            n.stop()
        m.stop()
        catcher.terminate()
        catcher.wait(10)


def test_a_same_code_resend_in_queue_mode_mails_the_code_again(env):
    port = free_port()
    catcher, mail_dir = own_catcher(env, port)
    t, key = hooked_tenant(env, Receiver().url, name="samecode")
    env.ctl("tenant", "update", t["name"], "--resend-policy", "same_code")
    m = Master(env, mail_delivery="queue", smtp_port=port)
    n = Notifier(env, smtp_port=port, **FAST)
    try:
        import re

        def codes():
            files = sorted(f for f in os.listdir(mail_dir) if f.endswith(".eml") and f[0] != ".")
            return [re.search(r"^ {4}(\d{6})\r?$", open(os.path.join(mail_dir, f), "rb").read()
                              .decode(), re.M).group(1) for f in files]
        vid = m.start(key, {"email": env.new_address()})[1]["data"]["id"]
        env.wait("the first mail", lambda: os.path.isdir(mail_dir) and len(codes()) == 1)
        env.past_cooldown(vid)
        st, body = m.post(key, "/v1/verifications/email/%s/resend" % vid, {})
        check(st == 200, "resend: %d %r" % (st, body))
        env.wait("the second mail", lambda: len(codes()) == 2)
        check(codes()[0] == codes()[1], "the same code twice: %r" % codes())
        check(verify(env, key, vid, codes()[0])[0] == 200, "and it verifies")
    finally:
        n.stop()
        m.stop()
        catcher.terminate()
        catcher.wait(10)


def test_queued_mail_refused_with_5xx_fails_at_once(env):
    rx = Receiver()
    t, key = hooked_tenant(env, rx.url, name="queue5xx")
    m = Master(env, mail_delivery="queue")
    n = Notifier(env, **FAST)
    try:
        st, body = m.start(key, {"email": env.new_address("reject")})
        check(st == 201, "queued: %d" % st)
        vid = body["data"]["id"]
        env.wait("FAILED", lambda: env.request("GET", "/v1/verifications/email/" + vid,
                                               key=key)[2]["data"]["status"] == "FAILED")
        d = env.request("GET", "/v1/verifications/email/" + vid, key=key)[2]["data"]["delivery"]
        check(d["status"] == "FAILED" and d["smtpCode"] == 550 and d["attempts"] == 1,
              "one attempt, the 550 recorded: %r" % d)
        env.wait("email.failed delivered", lambda: "email.failed" in
                 [ev["type"] for _, ev in rx.events()])
    finally:
        n.stop()
        m.stop()
        rx.stop()


def test_queued_mail_with_4xx_is_retried_then_failed(env):
    rx = Receiver()
    t, key = hooked_tenant(env, rx.url, name="queue4xx")
    m = Master(env, mail_delivery="queue")
    n = Notifier(env, mail_max_attempts=3, mail_retry_base_ms=200, **FAST)
    try:
        st, body = m.start(key, {"email": env.new_address("tempfail")})
        vid = body["data"]["id"]
        env.wait("FAILED after the last attempt", lambda: env.request(
            "GET", "/v1/verifications/email/" + vid, key=key)[2]["data"]["status"] == "FAILED",
            timeout=15)
        d = env.request("GET", "/v1/verifications/email/" + vid, key=key)[2]["data"]["delivery"]
        check(d["attempts"] == 3 and d["smtpCode"] == 451 and d["status"] == "FAILED",
              "three attempts, each a 451: %r" % d)
        env.wait("email.failed delivered", lambda: "email.failed" in
                 [ev["type"] for _, ev in rx.events()])
    finally:
        n.stop()
        m.stop()
        rx.stop()


def test_once_drains_sweeps_purges_and_exits(env):
    rx = Receiver()
    t, key = hooked_tenant(env, rx.url, name="once")
    for _ in range(3):
        start_and_code(env, key)
    old, _ = start_and_code(env, key)
    # past retention_days, and expired just now (as every expiry is: the sweep
    # reads the ones since its last run)
    env.psql("UPDATE verifications SET created_at = now() - interval '40 days',"
             " expires_at = now() - interval '1 second' WHERE id = :'p1'", old)
    n = Notifier(env, args=["--once"])
    check(n.wait() == 0, "exit 0")
    types = [ev["type"] for _, ev in rx.events()]
    check(types.count("verification.initiated") == 4 and types.count("email.expired") == 1,
          "everything due was delivered, the sweep's event too: %r" % types)
    # events keep their own age, and are written in order: time passes for
    # every event up to this one, and the ones written since stay
    env.psql("UPDATE outbox SET created_at = now() - interval '40 days' WHERE id <="
             " (SELECT id FROM outbox WHERE verification_id = :'p1'"
             "  AND type = 'verification.initiated')", old)
    n = Notifier(env, args=["--once"])
    check(n.wait() == 0, "second run")
    check(n.text() == "", "a run that went well prints nothing, for cron: %r" % n.text())
    check(env.psql("SELECT count(*) FROM verifications WHERE id = :'p1'", old) == [["0"]],
          "a verification past retention_days is purged")
    check(env.psql("SELECT type FROM outbox WHERE verification_id = :'p1'", old) ==
          [["email.expired"]], "so are its delivered events past retention_days, not the others")
    rx.stop()


def test_once_says_one_line_when_the_database_is_down(env):
    n = Notifier(env, args=["--once"], database_url="host=127.0.0.1 port=1 dbname=none "
                 "connect_timeout=2")
    rc = n.wait()
    lines = n.text().splitlines()
    check(rc == 1 and len(lines) == 1 and "database" in lines[0], "%d %r" % (rc, lines))


def test_rotated_secret_signs_beside_the_new_one_during_the_overlap(env):
    rx = Receiver()
    t, key = hooked_tenant(env, rx.url, name="rotate")
    old = t["webhookSecret"]
    rot = env.ctl_json("tenant", "rotate-secret", t["name"], "--overlap", "2h")
    new = rot["webhookSecret"]
    check(new.startswith("whsec_") and new != old and rot["previousSignsUntil"], "rotated: %r" % rot)
    start_and_code(env, key)
    n = Notifier(env, args=["--once"], **FAST)
    check(n.wait() == 0, "--once")
    reqs = list(rx.requests)
    check(len(reqs) == 1 and len(reqs[0]["headers"]["webhook-signature"].split(" ")) == 2,
          "two signatures: %r" % [r["headers"].get("webhook-signature") for r in reqs])
    check(verify_signatures(env, old, reqs) == ["ok"], "a receiver with the old secret")
    check(verify_signatures(env, new, reqs) == ["ok"], "a receiver with the new secret")
    # the overlap is over
    env.psql("UPDATE tenants SET webhook_secret_previous_until = now() - interval '1 second'"
             " WHERE name = :'p1'", t["name"])
    start_and_code(env, key)
    check(Notifier(env, args=["--once"], **FAST).wait() == 0, "--once again")
    reqs = list(rx.requests)[1:]
    check(len(reqs) == 1, "the second event: %d" % len(reqs))
    check(verify_signatures(env, old, reqs)[0].startswith("fail"), "the old secret no longer")
    check(verify_signatures(env, new, reqs) == ["ok"], "the new one does")
    rc, _, err = env.ctl("tenant", "rotate-secret", t["name"], "--overlap", "forever",
                         check=False)
    check(rc == 1 and "--overlap" in err, "a bad overlap: %r" % err)
    rot = env.ctl_json("tenant", "rotate-secret", t["name"], "--overlap", "0")
    check(rot["previousSignsUntil"] is None, "no overlap: %r" % rot)
    rx.stop()


def test_sync_initiated_event_tells_how_the_mail_went(env):
    """In sync mode the event waits for the mail's outcome and shows it."""
    rx = Receiver()
    t, key = hooked_tenant(env, rx.url, name="syncev")
    vid, _ = start_and_code(env, key)
    check(Notifier(env, args=["--once"], **FAST).wait() == 0, "--once")
    evs = [ev for _, ev in rx.events() if ev["data"]["id"] == vid]
    check(len(evs) == 1 and evs[0]["type"] == "verification.initiated", "one event: %r" % evs)
    d = evs[0]["data"]["delivery"]
    check(d["status"] == "SENT" and d["sentAt"] and d["smtpCode"] == 250,
          "the event says SENT, as the API did: %r" % d)
    # a mail the server refused: the event says so, before email.failed
    m = Master(env, smtp_port=free_port(), smtp_timeout_ms=1000)
    try:
        st, body = m.start(key, {"email": env.new_address()})
        check(st == 502, "refused: %d" % st)
    finally:
        m.stop()
    check(Notifier(env, args=["--once"], **FAST).wait() == 0, "--once again")
    evs = [ev for _, ev in rx.events()][1:]
    check([e["type"] for e in evs] == ["verification.initiated", "email.failed"] and
          evs[0]["data"]["delivery"]["status"] == "FAILED", "in order, FAILED: %r" % evs)
    rx.stop()


def test_bad_config_and_usage(env):
    p = subprocess.run([os.path.join(env.build, "mailproof-notifier"), "--batch", "0"],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == 2 and "--batch" in p.stderr, "%d %r" % (p.returncode, p.stderr))
    p = subprocess.run([os.path.join(env.build, "mailproof-notifier"), "--once"],
                       capture_output=True, text=True, timeout=10,
                       env=dict(os.environ, MAILPROOF_CONFIG=env.config_file,
                                MAILPROOF_WEBHOOK_MAX_ATTEMPTS="zero"))
    check(p.returncode == 1 and "webhook_max_attempts" in p.stderr, "%r" % p.stderr)


def test_webhook_secrets_are_sealed_at_rest_and_survive_a_secret_key_rotation(env):
    rx = Receiver()
    t, key = hooked_tenant(env, rx.url, name="sealed")
    legacy, legacy_key = hooked_tenant(env, rx.url, name="legacy")
    sql = ["--sql-dir", os.path.join(env.src, "sql")]

    def stored(tenant):
        return env.psql("SELECT webhook_secret FROM tenants WHERE id = :'p1'", tenant["id"])[0][0]

    def delivered_and_signed(tenant, tkey, **keys):
        """One event of tenant, sent by a --once notifier with keys; its signature checked."""
        before = len(rx.requests)
        start_and_code(env, tkey)
        check(Notifier(env, args=["--once"], **dict(FAST, **keys)).wait() == 0, "--once")
        reqs = list(rx.requests)[before:]
        check(reqs and verify_signatures(env, tenant["webhookSecret"], reqs[-1:]) == ["ok"],
              "signed with the secret %s was given: %r" % (tenant["name"], reqs))

    check(not stored(t).startswith("whsec_") and t["webhookSecret"][6:20] not in stored(t),
          "sealed at rest: %r" % stored(t))
    delivered_and_signed(t, key)
    # a secret left in clear by a version before 11 is sealed by migrate
    env.psql("UPDATE tenants SET webhook_secret = :'p2' WHERE id = :'p1'", legacy["id"],
             legacy["webhookSecret"])
    delivered_and_signed(legacy, legacy_key)
    out = env.ctl_json("migrate", *sql)
    check(out["webhookSecretsSealed"] >= 1 and not stored(legacy).startswith("whsec_"),
          "migrate sealed it: %r %r" % (out, stored(legacy)))
    delivered_and_signed(legacy, legacy_key)
    # secret_key rotated: the old key, as secret_key_previous, still opens them;
    # migrate seals them again under the new key, and then the old one may go
    old_key, new_key = env.conf["SECRET_KEY"], os.urandom(32).hex()
    rotating = {"secret_key": new_key, "secret_key_previous": old_key}
    try:
        delivered_and_signed(t, key, **rotating)
        rc, out, err = env.ctl("migrate", *sql, environ={"MAILPROOF_" + k.upper(): v
                                                   for k, v in rotating.items()})
        check(rc == 0 and "sealed the webhook secrets of" in out, "%r %r" % (out, err))
        delivered_and_signed(t, key, secret_key=new_key)
        # without the key that sealed it, a secret cannot be opened: the event dies, said why
        start_and_code(env, key)
        n = Notifier(env, args=["--once"], **FAST)
        n.wait()
        check("cannot be opened" in n.text(), "logged: %s" % n.text())
        check(outbox(env, t["id"])[-1][1] == "dead" and "cannot be opened" in
              outbox(env, t["id"])[-1][3], "dead: %r" % outbox(env, t["id"])[-1])
    finally:
        # back under the stack's own key, for the tests that follow
        back = {"MAILPROOF_SECRET_KEY": old_key, "MAILPROOF_SECRET_KEY_PREVIOUS": new_key}
        check(env.ctl("migrate", *sql, environ=back)[0] == 0, "sealed again under the stack's key")
        rx.stop()
