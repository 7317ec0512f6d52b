#!/usr/bin/python3
"""What one verification costs the database, for the capacity plan in
docs/scaling.md.  Runs against the stack of `./dev.sh up` (durable
PostgreSQL, sync-mode mail, the notifier delivering webhooks).

    bench/capacity.py [--lifecycles N] [--purge N]

1. N lifecycles (200): a start through the API, the code from the caught
   mail, the verify, and the notifier's delivery of both events; the WAL
   they wrote (pg_current_wal_lsn(), the notifier's included), after a
   CHECKPOINT and a warm-up, and the size of their rows.
2. The purge: N verifications (200000) of 40 days ago, each with two
   delivered events, loaded in bulk; then mp_purge(30) removes them, timed,
   with the WAL it wrote; and the bytes per row of each table with its
   indexes, from the load.

Prints one "name value" line per figure, then the figures the plan uses.
Standard library only; psql and the dev stack's mailproofctl.
"""
import argparse
import email
import email.policy
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VAR = os.path.join(TOP, "var")
ENV = dict(line.strip().split("=", 1) for line in open(os.path.join(VAR, "dev.env")) if "=" in line)
BASE = "http://127.0.0.1:%s" % ENV["HTTP_PORT"]
API = "/v1/verifications/email"


def psql(sql):
    p = subprocess.run(["psql", "-h", "127.0.0.1", "-p", ENV["PG_PORT"], "-U", "postgres",
                        "-d", "mailproof", "-qAtX", "-v", "ON_ERROR_STOP=1", "-F", "\t",
                        "-c", sql], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("capacity: psql: " + p.stderr.strip())
    return p.stdout.strip()


def ctl(*args):
    p = subprocess.run([os.path.join(ENV["BUILD"], "mailproofctl")] + list(args),
                       env=dict(os.environ, MAILPROOF_CONFIG=os.path.join(VAR, "mailproof.conf")),
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("capacity: mailproofctl %s: %s" % (" ".join(args), p.stderr.strip()))
    return p.stdout


def request(path, body, key):
    req = urllib.request.Request(BASE + path, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("X-API-Key", key)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def code_for(address, timeout=10):
    maildir = os.path.join(VAR, "mail")
    end = time.monotonic() + timeout
    tag = ("X-Envelope-To: %s\r\n" % address).encode()
    while time.monotonic() < end:
        for name in sorted(os.listdir(maildir), reverse=True)[:50]:
            path = os.path.join(maildir, name)
            with open(path, "rb") as f:
                raw = f.read()
            if tag in raw:
                m = email.message_from_bytes(raw, policy=email.policy.default)
                c = re.search(r"^ {4}(\S+)\r?$", m.get_body(("plain",)).get_content(), re.M)
                if c:
                    return c.group(1)
        time.sleep(0.05)
    sys.exit("capacity: no mail to " + address)


def lifecycles(key, tenant_id, n, tag):
    for i in range(n):
        address = "cap-%s-%d@example.com" % (tag, i)
        st, body = request(API, {"email": address}, key)
        if st != 201:
            sys.exit("capacity: start: %d %r" % (st, body))
        vid = body["data"]["id"]
        st, body = request("%s/%s/verify" % (API, vid), {"code": code_for(address)}, key)
        if st != 200:
            sys.exit("capacity: verify: %d %r" % (st, body))
    end = time.monotonic() + 60
    while psql("SELECT count(*) FROM outbox WHERE tenant_id = %s AND state <> 'delivered'"
               % tenant_id) != "0":
        if time.monotonic() > end:
            sys.exit("capacity: events not delivered")
        time.sleep(0.2)


def wal_lsn():
    return psql("SELECT pg_current_wal_lsn()")


def wal_since(lsn):
    return int(psql("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '%s')" % lsn))


def measure_lifecycle(n):
    tag = os.urandom(3).hex()
    name = "capacity-" + tag
    hooks = "http://127.0.0.1:%s/hooks" % ENV["HOOKS_PORT"]
    ctl("tenant", "create", "--name", name, "--webhook-url", hooks)
    ctl("tenant", "update", name, "--rate-per-key-per-minute", "1000000")
    key = json.loads(ctl("key", "create", "--tenant", name, "--json"))["key"]
    tid = psql("SELECT id FROM tenants WHERE name = '%s'" % name)
    lifecycles(key, tid, 20, tag + "w")     # warm-up: the key, the tenant, the caches
    psql("CHECKPOINT")
    lsn = wal_lsn()
    t0 = time.monotonic()
    lifecycles(key, tid, n, tag)
    took = time.monotonic() - t0
    wal = wal_since(lsn)
    rows = psql("SELECT avg(pg_column_size(v.*))::int FROM verifications v"
                " WHERE tenant_id = %s" % tid)
    events = psql("SELECT avg(pg_column_size(o.*))::int, count(*) FROM outbox o"
                  " WHERE tenant_id = %s" % tid).split("\t")
    return {"lifecycle_wal_bytes": wal // n, "lifecycle_seconds": round(took / n, 4),
            "verification_row_bytes": int(rows), "event_row_bytes": int(events[0]),
            "events_per_verification": round(int(events[1]) / (n + 20), 2)}


SIZES = ("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
         " WHERE c.relname = '%s'")


def measure_purge(n):
    name = "capacity-purge-" + os.urandom(3).hex()
    ctl("tenant", "create", "--name", name)
    tid = psql("SELECT id FROM tenants WHERE name = '%s'" % name)
    before = {t: int(psql(SIZES % t)) for t in ("verifications", "outbox")}
    # history, as bench/large.sql loads it: no trigger runs
    psql("""
SET session_replication_role = replica;
INSERT INTO verifications (id, tenant_id, api_key_id, email, email_norm, user_id, method,
    status, token_format, code_length, secret_hash, attempts, max_attempts, expires_at,
    ttl_seconds, created_at, updated_at, verified_at, delivery_status, delivery_attempts,
    smtp_code, smtp_reply, sent_at)
SELECT 'ev_CAP' || upper(lpad(to_hex(k), 23, '0')), %(t)s, NULL,
       'user' || k || '@example.com', 'user' || k || '@example.com', 'u' || k, 'OTP',
       'VERIFIED', 'numeric', 6, sha256(('cap' || k)::bytea), 1, 3,
       c.t + interval '15 minutes', 900, c.t, c.t, c.t + interval '1 minute', 'SENT', 1, 250,
       '250 2.0.0 Ok: queued', c.t
FROM generate_series(1, %(n)s) AS k,
     LATERAL (SELECT now() - interval '40 days' - (k %% 86400) * interval '1 second' AS t) c;
-- the purge finds old events by id (ids grow with time): below every id in use
INSERT INTO outbox (id, event_id, tenant_id, verification_id, type, payload, state, attempts,
    created_at, delivered_at, last_status)
SELECT -2 * k - e.n - (SELECT coalesce(-min(id), 0) + 1 FROM outbox),
       'msg_CAP' || lpad(to_hex(k), 23, '0') || e.s, %(t)s,
       'ev_CAP' || upper(lpad(to_hex(k), 23, '0')), e.type,
       (SELECT mp_verification_json(v)::jsonb FROM verifications v
        WHERE v.id = 'ev_CAP' || upper(lpad(to_hex(k), 23, '0'))),
       'delivered', 1, now() - interval '40 days', now() - interval '40 days', 204
FROM generate_series(1, %(n)s) AS k,
     (VALUES (1, '_i', 'verification.initiated'), (0, '_v', 'email.verified')) AS e(n, s, type);
""" % {"t": tid, "n": n})
    psql("VACUUM ANALYZE verifications")
    psql("VACUUM ANALYZE outbox")
    per_row = {t: (int(psql(SIZES % t)) - before[t]) // (n if t == "verifications" else 2 * n)
               for t in before}
    psql("CHECKPOINT")
    lsn = wal_lsn()
    t0 = time.monotonic()
    purged = psql("SELECT events, verifications FROM mp_purge(30)").split("\t")
    took = time.monotonic() - t0
    wal = wal_since(lsn)
    if int(purged[1]) < n:
        sys.exit("capacity: the purge removed %s of %d" % (purged[1], n))
    return {"purge_verifications_per_second": int(int(purged[1]) / took),
            "purge_events_per_second": int(int(purged[0]) / took),
            "purge_wal_bytes_per_verification": wal // int(purged[1]),
            "verification_bytes_with_indexes": per_row["verifications"],
            "event_bytes_with_indexes": per_row["outbox"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lifecycles", type=int, default=200)
    ap.add_argument("--purge", type=int, default=200000)
    args = ap.parse_args()
    figures = {}
    # the dev stack runs with fsync off; the figures are for a durable one
    psql("ALTER SYSTEM SET fsync = on")
    psql("SELECT pg_reload_conf()")
    try:
        figures.update(measure_lifecycle(args.lifecycles))
        figures.update(measure_purge(args.purge))
    finally:
        psql("ALTER SYSTEM RESET fsync")
        psql("SELECT pg_reload_conf()")
    figures["postgresql"] = psql("SELECT setting FROM pg_settings WHERE name = 'server_version'")
    figures["settings"] = psql("SELECT string_agg(name || '=' || setting, ',' ORDER BY name)"
                              " FROM pg_settings WHERE name IN ('synchronous_commit',"
                              " 'full_page_writes', 'wal_compression')") + ",fsync=on"
    for k, v in figures.items():
        print("%s %s" % (k, v))


if __name__ == "__main__":
    main()
