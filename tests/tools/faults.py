#!/usr/bin/python3
"""Faults under load, counted (issue 12): what the test suite proves case by
case, here at volume, for the closing notes.

    tests/tools/faults.py [SECONDS]

On a throw-away stack (as tests/integration/run.py makes one), through
lighttpd:

1. Sync-mode starts from 4 threads, each with an Idempotency-Key, while a
   worker is killed every second and PostgreSQL is restarted (pg_ctl -m
   fast) twice.  A start that gets a 5xx, an answer that is not JSON, or
   none, is retried with its key until it gets a 201 or a 502, as
   docs/retries.md says.  Then the notifier settles what the workers did
   not record.  Counted: starts, first answers by kind, retries, final
   answers; verifications left QUEUED with no job (must be 0); final
   answers that differ from the database (must be 0); verifications
   started twice for one key (must be 0).
2. Upgrades (SIGUSR2, the binary installed again over itself) every 2 s,
   under GET and start load.  Counted: requests by status, and those that
   got no answer of mailproof's (must be 0).
Prints the counts; exits 1 when a must-be-0 is not."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import run as runner  # noqa: E402
from harness import Env, Notifier  # noqa: E402


def start(env, key, email, idem):
    """One start; (kind, status, answer): kind is 'ok', '5xx', 'not-json' or 'none'."""
    try:
        st, _, body = env.request("POST", "/v1/verifications/email", body={"email": email},
                                  key=key, headers={"Idempotency-Key": idem}, timeout=30)
    except OSError:
        return "none", 0, None
    if not isinstance(body, dict):
        return "not-json", st, None
    return ("5xx" if st >= 500 and st != 502 else "ok"), st, body


def sync_faults(env, seconds):
    key = env.tenant_with_key("faults-" + os.urandom(3).hex())[1]["key"]
    stop = threading.Event()
    lock = threading.Lock()
    c = {"starts": 0, "first_ok": 0, "first_5xx": 0, "first_not_json": 0, "first_none": 0,
         "retries": 0, "final_201": 0, "final_502": 0, "final_409": 0, "gave_up": 0}
    finals = {}

    def load(n):
        i = 0
        while not stop.is_set():
            i += 1
            email, idem = env.new_address("load%d" % n), "faults-%d-%d" % (n, i)
            kind, st, body = start(env, key, email, idem)
            with lock:
                c["starts"] += 1
                c["first_" + kind.replace("-", "_")] += 1
            tries = 0
            while (kind != "ok" or st == 409) and tries < 120:
                time.sleep(1)
                tries += 1
                kind, st, body = start(env, key, email, idem)
                with lock:
                    c["retries"] += 1
            with lock:
                if kind == "ok" and st in (201, 502, 409):
                    c["final_%d" % st] += 1
                    vid = body["data"]["id"] if st == 201 else \
                        body["error"].get("details", {}).get("verificationId")
                    finals[email] = (st, vid)
                else:
                    c["gave_up"] += 1

    # the notifier runs throughout, as in production, settling what a killed
    # worker did not record (sync_mail_settle_seconds: the least for smtp_timeout_ms)
    notifier = Notifier(env, sweep_interval_seconds=1, sync_mail_settle_seconds=15)
    threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    restarts = {int(seconds * 0.3), int(seconds * 0.7)}
    kills = 0
    for s in range(seconds):
        time.sleep(1)
        pids = env.worker_pids()
        if pids:
            os.kill(random.choice(pids), signal.SIGKILL)
            kills += 1
        if s in restarts:
            env.service("pg", "stop")
            env.service("pg", "start")
    stop.set()
    for t in threads:
        t.join(300)
    c["worker_kills"], c["pg_restarts"] = kills, len(restarts)
    c["load_seconds"] = round(time.monotonic() - t0)
    try:
        env.wait("nothing left unrecorded", lambda: unrecorded(env) == 0, timeout=200, step=1)
    except AssertionError:
        pass
    finally:
        notifier.stop()
    c["left_queued_without_job"] = unrecorded(env)
    wrong = 0
    for email, (st, vid) in finals.items():
        rows = env.psql("SELECT id, delivery_status FROM verifications WHERE email = :'p1'"
                        " ORDER BY created_at", email)
        if not rows or rows[-1][0] != vid or (st == 201) != (rows[-1][1] == "SENT"):
            wrong += 1
    c["answers_unlike_the_database"] = wrong
    c["verifications_stored"] = int(env.psql(
        "SELECT count(*) FROM verifications v JOIN tenants t ON t.id = v.tenant_id"
        " WHERE t.name LIKE 'faults-%'")[0][0])
    c["more_than_one_per_key"] = int(env.psql(
        "SELECT count(*) FROM (SELECT email FROM verifications WHERE email LIKE 'load%%'"
        " GROUP BY email HAVING count(*) > 1) d")[0][0])
    return c


def unrecorded(env):
    return int(env.psql("SELECT count(*) FROM verifications v WHERE mp_mail_unrecorded(v)")[0][0])


def upgrades(env, seconds):
    key = env.tenant_with_key("upgrades-" + os.urandom(3).hex())[1]["key"]
    build = os.path.join(env.build, "mailproof-fcgi")
    stop = threading.Event()
    lock = threading.Lock()
    c = {"requests": 0, "failed": 0, "upgrades": 0, "statuses": {}}

    def load(n):
        i = 0
        while not stop.is_set():
            i += 1
            try:
                if i % 2:
                    st, _, body = env.request("GET", "/healthz", timeout=30)
                else:
                    st, _, body = env.request("POST", "/v1/verifications/email", key=key,
                                              timeout=30,
                                              body={"email": env.new_address("up%d" % n)})
                # mailproof's own answer (201, or 429 past the key's limit), not the
                # web server's for a connection it lost
                ok = isinstance(body, dict) and st < 500
            except OSError:
                st, ok = 0, False
            with lock:
                c["requests"] += 1
                c["failed"] += not ok
                c["statuses"][st] = c["statuses"].get(st, 0) + 1

    threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for _ in range(max(1, seconds // 2)):
        time.sleep(2)
        shutil.copy(build, build + ".new")
        os.rename(build + ".new", build)
        os.kill(env.master_pid(), signal.SIGUSR2)
        c["upgrades"] += 1
    time.sleep(2)
    stop.set()
    for t in threads:
        t.join(60)
    c["master_still_the_same_process"] = os.path.exists("/proc/%d" % env.master_pid())
    return c


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    os.environ.setdefault("MPDEV_SRC", runner.SRC)
    var = os.environ["MPDEV_VAR"] = runner.own_stack()
    try:
        env = Env()
        env.service("notifier", "stop")
        a = sync_faults(env, seconds)
        b = upgrades(env, seconds)
    finally:
        subprocess.run([os.path.join(runner.SRC, "dev.sh"), "stack", "down", var])
    print(json.dumps({"sync_mode_under_faults": a, "upgrades_under_load": b}, indent=2))
    bad = a["left_queued_without_job"] or a["answers_unlike_the_database"] or \
        a["gave_up"] or a["more_than_one_per_key"] or b["failed"]
    if not bad:
        shutil.rmtree(var, ignore_errors=True)
    else:
        print("logs: %s/log/" % var)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
