"""What each request costs the database, and the rules it keeps there
(issue 8): a read writes nothing durable, and every change of a
verification passes the one trigger that checks it and writes its event."""
import os

from harness import check


def tenant(env):
    """A tenant whose key has no per-minute limit: these tests make many requests."""
    tid, key = env.shared_tenant("database")
    env.psql("UPDATE tenants SET rate_per_key_per_minute = 0 WHERE id = :'p1'", tid)
    return tid, key


def wal_bytes(env, requests):
    """WAL written while requests() runs, in bytes."""
    lsn = env.psql("SELECT pg_current_wal_lsn()")[0][0]
    requests()
    return int(env.psql("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), :'p1')", lsn)[0][0])


def test_reads_write_no_wal(env):
    tid, key = tenant(env)
    ids = [env.insert_verification(tid) for _ in range(5)]

    def reads():
        for i in range(450):
            st = env.request("GET", "/v1/verifications/email/" + ids[i % 5], key=key)[0]
            check(st == 200, "GET: %d" % st)
        for _ in range(50):
            st = env.request("GET", "/v1/verifications/email?limit=5", key=key)[0]
            check(st == 200, "list: %d" % st)

    # Each read counts against the key's per-minute limit, without a write
    # of ours: the key's sequence logs once per 32 values (16 records and
    # their commits here, about 2 KB).  The least of three rounds, so that a
    # checkpoint or autovacuum now and then cannot decide it; a write per
    # request was over 100 bytes each.
    least = min(wal_bytes(env, reads) for _ in range(3))
    check(least < 4096, "500 reads wrote %d bytes of WAL" % least)
    # and a write does write: the measure can see it
    st, _, body = env.start(key)
    check(st == 201, "start: %d %r" % (st, body))
    check(wal_bytes(env, lambda: env.start(key)) > 500, "a start writes WAL")


def test_a_read_is_one_statement_without_a_transaction_id(env):
    tid, key = tenant(env)
    vid = env.insert_verification(tid)
    # the key's check, its count and the read are one statement: the
    # request's only transaction, and it takes no transaction id (the
    # first statement may start a new minute of the key's count)
    # The key's sequence logs once per 32 values, and a read's commit does
    # not wait for that (synchronous_commit is off for its transaction).
    rows = env.psql("SELECT auth FROM mp_api_get(decode(:'p1', 'hex'), NULL, 600, :'p2');"
                    " SELECT auth, body IS NOT NULL, txid_current_if_assigned() IS NULL,"
                    " current_setting('synchronous_commit')"
                    " FROM mp_api_get(decode(:'p1', 'hex'), NULL, 600, :'p2')",
                    key_hash(env, key), vid)
    check(rows == [["ok"], ["ok", "t", "t", "off"]], "%r" % rows)


def key_hash(env, key):
    import hashlib
    return hashlib.blake2b(b"apikey\0" + key.encode() + b"\0", key=env.secret_key,
                           digest_size=32).hexdigest()


def refused(env, sql, *params, says):
    """Runs sql, which the database must refuse with a message containing says."""
    try:
        env.psql(sql, *params)
    except AssertionError as e:
        check(says in str(e), str(e))
    else:
        raise AssertionError("allowed: %s %r" % (sql, params))


def test_illegal_transitions_are_refused(env):
    tid, _ = tenant(env)
    for status in ("VERIFIED", "CANCELED", "FAILED", "EXPIRED"):
        vid = env.insert_verification(tid, status=status)
        for to in ("PENDING", "VERIFIED", "CANCELED"):
            if to != status:
                refused(env, "UPDATE verifications SET status = :'p2' WHERE id = :'p1'", vid, to,
                        says="illegal transition %s -> %s" % (status, to))
    vid = env.insert_verification(tid)
    refused(env, "UPDATE verifications SET status = 'SENT' WHERE id = :'p1'", vid,
            says="illegal transition PENDING -> SENT")
    refused(env, "UPDATE verifications SET attempts = max_attempts + 1 WHERE id = :'p1'", vid,
            says="out of range")


def test_each_change_writes_its_event_once(env):
    tid, _ = tenant(env)
    vid = env.insert_verification(tid)
    env.psql("UPDATE verifications SET status = 'CANCELED' WHERE id = :'p1'", vid)
    # a change that is no transition writes no event
    env.psql("UPDATE verifications SET updated_at = now(), attempts = 1 WHERE id = :'p1'", vid)
    events = env.psql("SELECT type, payload->>'status', event_id FROM outbox"
                      " WHERE verification_id = :'p1' ORDER BY id", vid)
    check(events == [["verification.initiated", "PENDING", "msg_%s_verification_initiated" % vid[3:]],
                     ["verification.canceled", "CANCELED", "msg_%s_verification_canceled" % vid[3:]]],
          "%r" % events)


def test_the_sweep_expires_every_overdue_row_once(env):
    tid, _ = tenant(env)
    tag = os.urandom(4).hex()
    # more than one batch of the notifier's sweep (1000), all overdue
    env.psql("INSERT INTO verifications (id, tenant_id, email, email_norm, method, token_format,"
             " code_length, secret_hash, max_attempts, expires_at, ttl_seconds)"
             " SELECT 'ev_' || upper(lpad(:'p2' || to_hex(g), 26, '0')), :'p1',"
             "  'sweep' || g || '@example.com', 'sweep' || g || '@example.com', 'OTP', 'numeric',"
             "  6, sha256(g::text::bytea), 3, now() - g * interval '10 ms', 900"
             " FROM generate_series(1, 2500) g", tid, tag)

    def left():
        env.psql("SELECT mp_expire(1000)")  # the stack's notifier may sweep them too
        return int(env.psql("SELECT count(*) FROM verifications WHERE id LIKE :'p1'"
                            " AND status = 'PENDING'", "ev_%" + tag.upper() + "%")[0][0]) == 0

    env.wait("all expired", left, timeout=60)
    events = env.psql("SELECT count(*), count(DISTINCT verification_id) FROM outbox"
                      " WHERE type = 'email.expired' AND verification_id LIKE :'p1'",
                      "ev_%" + tag.upper() + "%")
    check(events == [["2500", "2500"]], "one email.expired each: %r" % events)
