#!/usr/bin/python3
"""mailproof on two app hosts, one PgBouncer, and two PostgreSQL nodes
under pg_auto_failover, a primary and a synchronous standby: the state the
hosts share is PostgreSQL's, and it holds, also when the primary's machine
dies under load (twice, the second time the other way).

    tests/multihost/test-multihost.py [--keep] [--build DIR]

As root: builds the topology of tests/multihost/topology.sh (network
namespaces) in a temporary directory, runs the tests from inside its switch
namespace, takes it down, and checks that nothing is left.  Prints one
`ok NAME`, `FAIL NAME` or `skipped NAME: reason` line per test and
`N passed, N failed` last; exits 1 on any failure.  Without root or
`ip netns` every test is reported as skipped, never as passed.  --keep
leaves the topology up (take it down with topology.sh down DIR).
Standard library only.
"""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
TOPOLOGY = os.path.join(HERE, "topology.sh")
PSQL = "psql"

TESTS = [  # run in this order, in the switch namespace
    "cross_host_verify",
    "per_address_limit_counts_both_hosts",
    "concurrent_right_codes_one_wins",
    "two_notifiers_deliver_each_event_once",
    "notifiers_are_woken_through_their_direct_listen",
    "workers_go_through_pgbouncer",
    "standby_is_synchronous",
    "failover_under_load",
    "old_primary_rejoins_as_standby",
    "second_failover_under_load",
    "old_primary_rejoins_again",
]
OUTER = ["topology_up", "topology_down_leaves_nothing"]


class Failed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failed(msg)


def report(status, name, detail=""):
    print("%-8s %s%s" % (status, name, (": " + detail) if detail else ""), flush=True)


# ------------------------------------------------------------ inside the switch

class Env:
    def __init__(self, d):
        self.dir = d
        self.t = {}
        with open(os.path.join(d, "topology.env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                self.t[k] = v
        self.hosts = [self.t["A"], self.t["B"]]
        self.mail = os.path.join(d, "sw", "mail")
        self.hooks = os.path.join(d, "sw", "webhooks.jsonl")
        self.build = self.t["BUILD"]

    def ctl(self, *args):
        """mailproofctl with host A's config (through PgBouncer)."""
        env = dict(os.environ, MAILPROOF_CONFIG=os.path.join(self.dir, "a", "mailproof.conf"))
        p = subprocess.run([os.path.join(self.build, "mailproofctl")] + list(args),
                           env=env, capture_output=True, text=True, timeout=30)
        check(p.returncode == 0, "mailproofctl %s: %s" % (" ".join(args), p.stderr.strip()))
        return p.stdout

    def psql(self, hostport, sql, db="mailproof", user="postgres"):
        host, port = hostport.split(":")
        p = subprocess.run([PSQL, "-h", host, "-p", port, "-U", user, "-d", db, "-qAtX",
                            "-F", "|", "-v", "ON_ERROR_STOP=1", "-c", sql],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0, "psql %s: %s" % (hostport, p.stderr.strip()))
        return [line.split("|") for line in p.stdout.splitlines() if line]

    def request(self, host, method, path, body=None, key=None, timeout=20):
        data = json.dumps(body).encode() if body is not None else None
        if method == "POST" and data is None:
            data = b""
        req = urllib.request.Request(host + path, data=data, method=method)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        if key:
            req.add_header("X-API-Key", key)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def mails_to(self, address):
        out = []
        for name in sorted(os.listdir(self.mail)):
            if not name.endswith(".eml") or name.startswith("."):
                continue
            with open(os.path.join(self.mail, name), "rb") as f:
                raw = f.read()
            if ("X-Envelope-To: %s\r\n" % address).encode() in raw:
                out.append(raw)
        return out

    def code_from_mail(self, address):
        import email
        import email.policy
        msgs = wait("a mail to " + address, lambda: self.mails_to(address))
        m = email.message_from_bytes(msgs[-1], policy=email.policy.default)
        text = m.get_body(("plain",)).get_content()
        code = re.search(r"^ {4}(\S+)\r?$", text, re.M)
        check(code, "no code in the mail: %r" % text)
        return code.group(1)

    def webhooks(self):
        if not os.path.exists(self.hooks):
            return []
        out = []
        with open(self.hooks) as f:
            for line in f:
                rec = json.loads(line)
                rec["event"] = json.loads(rec["body"])
                out.append(rec)
        return out


def wait(what, pred, timeout=15.0, step=0.1):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > end:
            break
        time.sleep(step)
    check(v, "timed out waiting for " + what)
    return v


def new_address(local):
    return "%s-%s@example.com" % (local, os.urandom(5).hex())


API = "/v1/verifications/email"


def start(env, host, key, email):
    st, body = env.request(host, "POST", API, {"email": email}, key)
    return st, body


def t_cross_host_verify(env, key):
    a, b = env.hosts
    email = new_address("cross")
    st, body = start(env, a, key, email)
    check(st == 201, "start through A: %d %r" % (st, body))
    vid = body["data"]["id"]
    code = env.code_from_mail(email)
    st, body = env.request(b, "POST", "%s/%s/verify" % (API, vid), {"code": code}, key)
    check(st == 200 and body["data"]["status"] == "VERIFIED",
          "verify through B: %d %r" % (st, body))
    st, body = env.request(a, "GET", "%s/%s" % (API, vid), key=key)
    check(st == 200 and body["data"]["status"] == "VERIFIED", "GET through A: %d %r" % (st, body))
    env.cross_vid = vid
    return "started through A, verified through B, VERIFIED through A"


def t_per_address_limit(env, key):
    email = new_address("limit")
    got = []
    for i in range(6):  # rate_per_email_per_hour = 5 (the default)
        st, body = start(env, env.hosts[i % 2], key, email)
        got.append(st)
        if st == 429:
            details = body["error"]["details"]
            check(details.get("limit") == "per_email_per_hour",
                  "the 429 names %r" % details)
    check(got == [201] * 5 + [429], "answers A,B,A,B,A,B: %r (want 5 x 201, then 429)" % got)
    return "A,B,A,B,A: 201; the 6th start, through B: 429 per_email_per_hour"


def t_concurrent_right_codes(env, key):
    email = new_address("race")
    st, body = start(env, env.hosts[0], key, email)
    check(st == 201, "start: %d %r" % (st, body))
    vid = body["data"]["id"]
    code = env.code_from_mail(email)
    barrier = threading.Barrier(20)

    def one(i):
        barrier.wait()
        return env.request(env.hosts[i % 2], "POST", "%s/%s/verify" % (API, vid),
                           {"code": code}, key)

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(one, range(20)))
    statuses = sorted(st for st, _ in answers)
    codes = sorted({b["error"]["code"] for st, b in answers if st == 409})
    check(statuses.count(200) == 1, "200s: %d of %r" % (statuses.count(200), statuses))
    check(statuses.count(409) == 19 and codes == ["ALREADY_VERIFIED"],
          "the others: %r %r" % (statuses, codes))

    def verified_events():
        return [h for h in env.webhooks() if h["event"]["type"] == "email.verified" and
                h["event"]["data"]["id"] == vid]
    wait("its email.verified event", verified_events)
    time.sleep(2)  # a second one would come about now
    n = len(verified_events())
    check(n == 1, "email.verified events for %s: %d" % (vid, n))
    return "1 x 200, 19 x 409 ALREADY_VERIFIED, one email.verified event"


def t_two_notifiers_once(env, key):
    n = 20
    before = len(env.webhooks())
    t0 = time.time()
    vids = []
    for i in range(n):
        email = new_address("hook%d" % i)
        st, body = start(env, env.hosts[i % 2], key, email)
        check(st == 201, "start %d: %d %r" % (i, st, body))
        vids.append((body["data"]["id"], email))
    for i, (vid, email) in enumerate(vids):
        if i % 2 == 0:  # every other one verified, through the other host
            st, body = env.request(env.hosts[(i + 1) % 2], "POST", "%s/%s/verify" % (API, vid),
                                   {"code": env.code_from_mail(email)}, key)
            check(st == 200, "verify %d: %d %r" % (i, st, body))
    ids = {v for v, _ in vids}
    # each start: verification.initiated; each verified one: email.verified
    want = n + n // 2

    def ours():
        return [h for h in env.webhooks()[before:] if h["event"]["data"].get("id") in ids]
    wait("%d events" % want, lambda: len(ours()) >= want, timeout=30)
    done = time.time()
    time.sleep(3)  # a duplicate would come about now
    got = ours()
    by_id = {}
    for h in got:
        by_id.setdefault(h["headers"]["webhook-id"], []).append(h)
    dups = {k: len(v) for k, v in by_id.items() if len(v) > 1}
    check(not dups, "delivered more than once: %r" % dups)
    check(len(by_id) == want, "%d distinct events, want %d" % (len(by_id), want))
    kinds = sorted((h["event"]["type"] for h in got))
    check(kinds.count("verification.initiated") == n and kinds.count("email.verified") == n // 2,
          "event types: %r" % kinds)
    peers = {}
    for h in got:
        peers[h["peer"]] = peers.get(h["peer"], 0) + 1
    return ("%d events, each delivered once, within %.1f s of the first start; by notifier: %s"
            % (want, done - t0, ", ".join("%s %d" % kv for kv in sorted(peers.items()))))


def t_woken(env, key):
    """An idle notifier hears of new work at once: its LISTEN connection
    (database_listen_url) goes to the primary directly.  Through PgBouncer
    it would hear nothing and find the event only at its next timer (the
    10 s settle of sync-mode mail, or the next sweep)."""
    lags = []
    for i in range(3):
        time.sleep(1.5 + i)  # both notifiers asleep, at a different point of their timers
        email = new_address("wake%d" % i)
        t0 = time.time()
        st, body = start(env, env.hosts[i % 2], key, email)
        check(st == 201, "start: %d %r" % (st, body))
        vid = body["data"]["id"]
        hook = wait("the event of %s" % vid, lambda: [
            h for h in env.webhooks() if h["event"]["data"].get("id") == vid], timeout=20)
        lags.append(hook[0]["time"] - t0)
    check(max(lags) < 2.0, "delivered %s s after the start (want < 2 s each)"
          % ", ".join("%.2f" % x for x in lags))
    return "3 events delivered %s s after their start" % ", ".join("%.2f" % x for x in lags)


def t_pgbouncer(env, key):
    pgb = env.t["PGB"]
    pgb_ip = pgb.split(":")[0]
    a_ip = env.t["A"].split("//")[1].split(":")[0]
    b_ip = env.t["B"].split("//")[1].split(":")[0]
    # some traffic through both hosts first, so that each worker is connected
    for i in range(8):
        env.request(env.hosts[i % 2], "GET", "%s/ev_00000000000000000000000000" % API, key=key)
    rows = env.psql(pgb, "SHOW CLIENTS", db="pgbouncer")
    clients = [r for r in rows if r[1] == "mailproof" and r[2] == "mailproof"]
    addrs = {r[4] for r in clients}
    check({a_ip, b_ip} <= addrs, "PgBouncer's mailproof clients come from %r" % addrs)
    pools = env.psql(pgb, "SHOW POOLS", db="pgbouncer")
    pool = [r for r in pools if r[0] == "mailproof" and r[1] == "mailproof"]
    check(pool, "no mailproof pool in %r" % pools)
    mode = pool[0][-1]
    check(mode == "transaction", "pool mode %r" % mode)
    # the primary sees the app hosts only through PgBouncer, but for the
    # notifiers' LISTEN connections (database_listen_url)
    act = env.psql(env.t["PG1"], "SELECT application_name, host(client_addr) FROM pg_stat_activity"
                   " WHERE usename = 'mailproof'", db="postgres")
    direct = [r for r in act if r[1] != pgb_ip]
    check(all(r[0] == "mailproof-notifier-listen" for r in direct),
          "backends not through PgBouncer: %r" % direct)
    check(sorted(r[1] for r in direct) == sorted([a_ip, b_ip]),
          "LISTEN connections: %r" % direct)
    via = [r for r in act if r[1] == pgb_ip]
    check(via, "no backend from PgBouncer")
    return ("%d clients from %s in pool mode %s, on %d server connections; direct: only the "
            "2 notifiers' LISTEN" % (len(clients), ", ".join(sorted(addrs)), mode, len(via)))


def t_standby(env, key):
    rows = env.psql(env.t["PG1"], "SELECT application_name, state, sync_state"
                    " FROM pg_stat_replication", db="postgres")
    # pg_auto_failover names the standby by node id, and lists it as ANY 1
    check(rows == [["pgautofailover_standby_2", "streaming", "quorum"]],
          "pg_stat_replication: %r" % rows)
    setting = env.psql(env.t["PG1"], "SHOW synchronous_standby_names", db="postgres")[0][0]
    check(setting == "ANY 1 (pgautofailover_standby_2)", "synchronous_standby_names = %r" % setting)
    sc = env.psql(env.t["PG1"], "SHOW synchronous_commit", db="postgres")[0][0]
    check(sc == "on", "synchronous_commit = %s" % sc)
    rec = env.psql(env.t["PG2"], "SELECT pg_is_in_recovery()", db="postgres")[0][0]
    check(rec == "t", "pg2 is not a standby")
    check(node_states(env) == [["pg1", "primary", "primary"], ["pg2", "secondary", "secondary"]],
          "the monitor says %r" % node_states(env))
    vid = getattr(env, "cross_vid", None)
    check(vid, "no verification from the first test to look for")
    wait("%s VERIFIED on the standby" % vid, lambda: env.psql(
        env.t["PG2"], "SELECT status FROM verifications WHERE id = '%s'" % vid)
        == [["VERIFIED"]], timeout=10)
    return ("pg2 streaming, %s (synchronous_standby_names = %s, synchronous_commit = on); "
            "the monitor: pg1 primary, pg2 secondary; the first test's verification is "
            "VERIFIED on pg2" % (rows[0][2], setting))


# ------------------------------------------------------------ failover

class MailIndex:
    """The codes of the caught mails, by recipient, read as they arrive."""

    def __init__(self, directory):
        self.dir = directory
        self.seen = set()
        self.codes = {}
        self.lock = threading.Lock()

    def scan(self):
        import email
        import email.policy
        for name in sorted(os.listdir(self.dir)):
            if name in self.seen or not name.endswith(".eml") or name.startswith("."):
                continue
            self.seen.add(name)
            with open(os.path.join(self.dir, name), "rb") as f:
                m = email.message_from_bytes(f.read(), policy=email.policy.default)
            code = re.search(r"^ {4}(\S+)\r?$", m.get_body(("plain",)).get_content(), re.M)
            if code:
                with self.lock:
                    self.codes[str(m["X-Envelope-To"])] = code.group(1)

    def wait(self, address, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if address in self.codes:
                    return self.codes[address]
            self.scan()
            time.sleep(0.05)
        return None


class Load:
    """Starts, and verifies of what started, through both hosts at once,
    each answer recorded with when it was asked and answered."""

    def __init__(self, env, key, threads=6):
        self.env, self.key, self.threads = env, key, threads
        self.mails = MailIndex(env.mail)
        self.rec = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.pool = []

    def ask(self, kind, host, method, path, body, vid=None):
        t0 = time.time()
        try:
            st, answer = self.env.request(host, method, path, body, self.key, timeout=30)
            code = answer["error"]["code"] if isinstance(answer, dict) and "error" in answer \
                else None
            if st == 201:
                vid = answer["data"]["id"]
        except Exception as e:  # noqa: BLE001 - no answer at all is recorded too
            st, code, answer = -1, "%s: %s" % (type(e).__name__, e), None
        r = {"kind": kind, "host": host, "t0": t0, "t1": time.time(), "status": st,
             "code": code, "vid": vid}
        with self.lock:
            self.rec.append(r)
        return r

    def loop(self, i):
        host, other = self.env.hosts[i % 2], self.env.hosts[(i + 1) % 2]
        n = 0
        while not self.stop.is_set():
            n += 1
            email = "load%d-%d-%s@example.com" % (i, n, os.urandom(3).hex())
            r = self.ask("start", host, "POST", API, {"email": email})
            if r["status"] != 201 or n % 2:
                continue
            code = self.mails.wait(email)
            if code:  # through the other host
                self.ask("verify", other, "POST", "%s/%s/verify" % (API, r["vid"]),
                         {"code": code}, r["vid"])

    def __enter__(self):
        self.pool = [threading.Thread(target=self.loop, args=(i,)) for i in range(self.threads)]
        for t in self.pool:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.pool:
            t.join()

    def ok_since(self, t):
        with self.lock:
            return [r for r in self.rec if r["t0"] >= t and r["status"] in (200, 201)]


def primary(env):
    rows = env.psql(env.t["MONITOR"], "SELECT primary_name FROM pgautofailover.get_primary()",
                    db="pg_auto_failover", user="autoctl_node")
    return rows[0][0] if rows else None


def node_states(env):
    return env.psql(env.t["MONITOR"], "SELECT nodename, reportedstate, goalstate"
                    " FROM pgautofailover.node ORDER BY nodename",
                    db="pg_auto_failover", user="autoctl_node")


def crash_or_start(env, what, node):
    p = subprocess.run([TOPOLOGY, what, env.dir, node], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0, "topology.sh %s %s: %s" % (what, node, p.stderr.strip()))


def t_failover(env, _key):
    """Kills the primary's machine while starts and verifies run through
    both hosts; counts that nothing answered is lost."""
    old = primary(env)
    check(old in ("pg1", "pg2"), "the monitor names no primary: %r" % node_states(env))
    new = "pg2" if old == "pg1" else "pg1"
    check([new, "secondary", "secondary"] in node_states(env),
          "%s is not a healthy standby: %r" % (new, node_states(env)))
    # a tenant and key of their own, made just now: whatever a key needs
    # (its request counter) must survive a failover that comes soon after
    name = "failover-%s" % os.urandom(3).hex()
    env.ctl("tenant", "create", "--name", name, "--webhook-url", env.t["HOOKS"])
    env.ctl("tenant", "update", name, "--rate-per-key-per-minute", "1000000")
    key = json.loads(env.ctl("key", "create", "--tenant", name, "--json"))["key"]
    tenant_id = env.psql(env.t["PGB"], "SELECT id FROM tenants WHERE name = '%s'" % name)[0][0]
    # an address's hourly limit is WAL-logged: it must survive
    limited = new_address("limit-across")
    for i in range(3):
        st, body = start(env, env.hosts[i % 2], key, limited)
        check(st == 201, "start %d of %s: %d %r" % (i, limited, st, body))
    with Load(env, key) as load:
        time.sleep(6)
        before = len(load.ok_since(0))
        check(before > 10, "only %d answers before the crash" % before)
        t_crash = time.time()
        crash_or_start(env, "crash", old)
        wait("a new primary", lambda: primary(env) == new, timeout=60, step=0.2)
        # load goes on until the new primary has served for a while
        try:
            wait("answers after the failover", lambda: len(load.ok_since(time.time() - 3)) > 10
                 and load.ok_since(t_crash), timeout=60, step=0.2)
        except Failed as e:
            with load.lock:
                seen = collections.Counter((r["status"], r["code"]) for r in load.rec
                                           if r["t0"] > t_crash)
            raise Failed("%s; answers since the crash: %r" % (e, dict(seen))) from None
        time.sleep(5)
    rec = load.rec
    # every answer: a success, or 503 UNAVAILABLE; never a hang or another 5xx
    bad = [r for r in rec if not (r["status"] in (200, 201) or
                                  (r["status"] == 503 and r["code"] == "UNAVAILABLE"))]
    check(not bad, "%d answers neither a success nor 503 UNAVAILABLE, e.g. %r" % (
        len(bad), bad[:5]))
    fails = [r for r in rec if r["status"] == 503]
    slowest = max((r["t1"] - r["t0"] for r in fails), default=0)
    # PgBouncer's query_wait_timeout is 2 s; a read may wait twice
    check(slowest < 6, "a 503 took %.1f s" % slowest)
    # the window: the longest time in which no request succeeded
    oks = sorted(r["t1"] for r in rec if r["status"] in (200, 201))
    check(oks and oks[-1] > t_crash, "nothing succeeded after the crash")
    gaps = [(b - a, a) for a, b in zip(oks, oks[1:])]
    window, since = max(gaps)
    first_fail = min((r["t1"] for r in fails), default=t_crash) - t_crash
    last_fail = max((r["t1"] for r in fails), default=t_crash) - t_crash
    # what was answered is there, on the new primary
    rows = env.psql(env.t["PGB"], "SELECT id, status FROM verifications WHERE tenant_id = %s"
                    % tenant_id)
    status = dict(rows)
    started = [r["vid"] for r in rec if r["kind"] == "start" and r["status"] == 201]
    verified = [r["vid"] for r in rec if r["kind"] == "verify" and r["status"] == 200]
    lost_starts = [v for v in started if v not in status]
    lost_verifies = [v for v in verified if status.get(v) != "VERIFIED"]
    check(not lost_starts, "%d of %d started (201) are gone: %r" % (
        len(lost_starts), len(started), lost_starts[:5]))
    check(not lost_verifies, "%d of %d verified (200) are not VERIFIED: %r" % (
        len(lost_verifies), len(verified), lost_verifies[:5]))
    # every event of a committed change is delivered
    def undelivered():
        return env.psql(env.t["PGB"], "SELECT event_id, state, attempts, run_at - now()"
                        " FROM outbox WHERE tenant_id = %s AND state <> 'delivered'"
                        % tenant_id)
    try:
        wait("every event delivered", lambda: not undelivered(), timeout=90, step=0.5)
    except Failed as e:
        left = undelivered()
        raise Failed("%s: %d left, e.g. %r" % (e, len(left), left[:5])) from None
    events = [r[0] for r in env.psql(env.t["PGB"], "SELECT event_id FROM outbox"
                                     " WHERE tenant_id = %s" % tenant_id)]
    got = {}
    for h in env.webhooks():
        got[h["headers"]["webhook-id"]] = got.get(h["headers"]["webhook-id"], 0) + 1
    missing = [e for e in events if e not in got]
    check(not missing, "%d of %d events never arrived: %r" % (len(missing), len(events),
                                                             missing[:5]))
    twice = sum(1 for e in events if got[e] > 1)
    # the address's limit counted the starts before the crash
    for i in range(2):
        st, body = start(env, env.hosts[i % 2], key, limited)
        check(st == 201, "start %d of %s after the failover: %d %r" % (4 + i, limited, st, body))
    st, body = start(env, env.hosts[0], key, limited)
    check(st == 429, "the 6th start of %s this hour: %d %r" % (limited, st, body))
    n503 = len(fails)
    env.failovers = getattr(env, "failovers", []) + [window]
    return ("%s killed, %s promoted; %d starts answered 201, %d verifies answered 200, lost: 0 "
            "and 0; %d answered 503 UNAVAILABLE (the slowest in %.1f s), no other error; "
            "no success for %.1f s (from %.1f s after the crash; 503s from %.1f s to %.1f s); "
            "%d events, all delivered (%d twice); the address limit kept its count"
            % (old, new, len(started), len(verified), n503, slowest, window, since - t_crash,
               first_fail, last_fail, len(events), twice))


def t_rejoin(env, key):
    """The crashed primary's machine comes back: its keeper rewinds it and
    it follows the new primary, synchronously."""
    now = primary(env)
    old = "pg2" if now == "pg1" else "pg1"
    t0 = time.time()
    crash_or_start(env, "start", old)
    want = sorted([[old, "secondary", "secondary"], [now, "primary", "primary"]])
    wait("%s back as a standby" % old, lambda: node_states(env) == want, timeout=120, step=0.5)
    took = time.time() - t0
    hp = env.t["PG1" if now == "pg1" else "PG2"]
    rows = env.psql(hp, "SELECT state, sync_state FROM pg_stat_replication", db="postgres")
    check(rows and rows[0][1] in ("sync", "quorum"), "pg_stat_replication on %s: %r" % (now, rows))
    # what the failover wrote reached it
    other = env.t["PG1" if old == "pg1" else "PG2"]
    count = "SELECT count(*) FROM verifications"
    wait("the same verifications on %s" % old,
         lambda: env.psql(other, count) == env.psql(hp, count), timeout=20)
    return "%s rejoined as a %s standby of %s in %.1f s, with every verification" % (
        old, rows[0][1], now, took)


def inner(d):
    env = Env(d)
    passed = failed = 0
    try:
        out = env.ctl("tenant", "create", "--name", "multihost", "--webhook-url",
                      env.t["HOOKS"], "--json")
        out = env.ctl("key", "create", "--tenant", "multihost", "--json")
        key = json.loads(out)["key"]
    except Exception as e:  # noqa: BLE001 - every test fails with the reason
        key, why = None, "no tenant and key: %s" % e
    fns = {
        "cross_host_verify": t_cross_host_verify,
        "per_address_limit_counts_both_hosts": t_per_address_limit,
        "concurrent_right_codes_one_wins": t_concurrent_right_codes,
        "two_notifiers_deliver_each_event_once": t_two_notifiers_once,
        "notifiers_are_woken_through_their_direct_listen": t_woken,
        "workers_go_through_pgbouncer": t_pgbouncer,
        "standby_is_synchronous": t_standby,
        "failover_under_load": t_failover,
        "old_primary_rejoins_as_standby": t_rejoin,
        "second_failover_under_load": t_failover,
        "old_primary_rejoins_again": t_rejoin,
    }
    for name in TESTS:
        if key is None:
            report("FAIL", name, why)
            failed += 1
            continue
        t0 = time.monotonic()
        try:
            detail = fns[name](env, key)
            report("ok", name, "%s (%.1f s)" % (detail, time.monotonic() - t0))
            passed += 1
        except Exception as e:  # noqa: BLE001 - a test's failure, reported
            report("FAIL", name, "%s: %s" % (type(e).__name__, e))
            failed += 1
    with open(os.path.join(d, "inner-results.json"), "w") as f:
        json.dump({"passed": passed, "failed": failed}, f)


# ------------------------------------------------------------ outside

def skip_reason():
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    probe = "mp-probe-%d" % os.getpid()
    p = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if p.returncode != 0:
        return "ip netns is not available: %s" % (p.stderr.strip() or "ip failed")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    for prog in ("lighttpd", "psql"):
        if subprocess.run(["sh", "-c", "command -v " + prog], capture_output=True).returncode:
            return "no %s" % prog
    return None


def leftovers(d, run_id):
    left = []
    ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    left += [line.split()[0] for line in ns.splitlines() if line.startswith("mp-%s-" % run_id)]
    for root, _, files in os.walk(d):
        for f in files:
            if f.endswith(".pid"):
                left.append(os.path.join(root, f))
    if os.path.exists("/var/tmp/mp-%s" % run_id):
        left.append("/var/tmp/mp-%s" % run_id)
    # a process of ours still running: its command line names the run's directory
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if (d in cmd or "/var/tmp/mp-%s" % run_id in cmd) and int(pid) != os.getpid():
            left.append("pid %s: %s" % (pid, cmd.strip()))
    return left


def outer(args):
    t_start = time.monotonic()
    why = skip_reason()
    if why:
        for name in OUTER[:1] + TESTS + OUTER[1:]:
            report("skipped", name, why)
        print("0 passed, 0 failed")
        return 0
    d = args.dir or tempfile.mkdtemp(prefix="mailproof-multihost.")
    os.chmod(d, 0o755)
    env = dict(os.environ)
    if args.build:
        env["BUILD"] = os.path.abspath(args.build)
    passed = failed = 0
    up = subprocess.run([TOPOLOGY, "up", d], env=env, capture_output=True, text=True)
    run_id = None
    try:
        if up.returncode != 0:
            report("FAIL", "topology_up", up.stderr.strip()[-2000:])
            failed += 1
            for name in TESTS:
                report("FAIL", name, "no topology")
                failed += 1
        else:
            report("ok", "topology_up", "%s (%.1f s)" % (d, time.monotonic() - t_start))
            passed += 1
            run_id = Env(d).t["ID"]
            p = subprocess.run(["ip", "netns", "exec", "mp-%s-sw" % run_id, sys.executable,
                                os.path.abspath(__file__), "--inner", d], timeout=600)
            try:
                with open(os.path.join(d, "inner-results.json")) as f:
                    r = json.load(f)
                passed += r["passed"]
                failed += r["failed"]
            except (OSError, ValueError):
                report("FAIL", "tests", "the tests in the switch namespace ended with %d"
                       % p.returncode)
                failed += 1
    finally:
        if args.keep:
            print("kept: %s (tests/multihost/topology.sh down %s)" % (d, d))
        else:
            if run_id is None and os.path.exists(os.path.join(d, "topology.env")):
                run_id = Env(d).t["ID"]
            down = subprocess.run([TOPOLOGY, "down", d], capture_output=True, text=True)
            again = subprocess.run([TOPOLOGY, "down", d], capture_output=True, text=True)
            left = leftovers(d, run_id) if run_id else []
            if down.returncode == 0 and again.returncode == 0 and not left:
                report("ok", "topology_down_leaves_nothing",
                       "no namespace, process or pid file of run %s left; down twice is safe"
                       % run_id)
                passed += 1
            else:
                report("FAIL", "topology_down_leaves_nothing", "rc %d/%d, left: %r %s" % (
                    down.returncode, again.returncode, left, (down.stderr + again.stderr)[-1000:]))
                failed += 1
            if failed:
                print("logs kept in %s/*/log/" % d)
            else:
                subprocess.run(["rm", "-rf", d])
    print("took %.0f s" % (time.monotonic() - t_start))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inner", metavar="DIR", help=argparse.SUPPRESS)
    ap.add_argument("--dir", help="the topology's directory (default: a new temporary one)")
    ap.add_argument("--build", help="the binaries (default: build/ of the checkout)")
    ap.add_argument("--keep", action="store_true", help="leave the topology up")
    args = ap.parse_args()
    if args.inner:
        inner(args.inner)
        return 0
    return outer(args)


if __name__ == "__main__":
    sys.exit(main())
