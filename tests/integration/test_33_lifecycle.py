"""The transition functions of sql/lifecycle.sql, called directly in a
throw-away database that `mailproofctl migrate` builds from nothing: what
each returns, the one event it leaves, and what it refuses.  The HTTP
tests see these through the API; these see the functions alone."""
import os
import subprocess

from harness import check

DB = "lifecycle_%d" % os.getpid()


def url(env):
    """The throw-away database, as a database_url."""
    return "host=127.0.0.1 port=%d dbname=%s user=mailproof" % (env.pg_port, DB)


def migrate(env, *args):
    """mailproofctl migrate on the throw-away database; its output."""
    return env.ctl("migrate", "--sql-dir", os.path.join(env.src, "sql"), *args,
                   environ={"MAILPROOF_DATABASE_URL": url(env)})[1]


def sql(env, text, *params):
    return env.psql(text, *params, db=DB)


def setup(env):
    env.psql("DROP DATABASE IF EXISTS %s" % DB, db="postgres", user="postgres")
    env.psql("CREATE DATABASE %s OWNER mailproof" % DB, db="postgres", user="postgres")
    migrate(env)


def teardown(env):
    env.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % DB, db="postgres", user="postgres")


def tenant(env):
    return sql(env, "INSERT INTO tenants (name, webhook_secret) VALUES (:'p1', 'whsec_x')"
               " RETURNING id", "t" + os.urandom(4).hex())[0][0]


def pending(env, tid, **kw):
    return env.insert_verification(tid, db=DB, **kw)


def events(env, vid):
    return [r[0] for r in sql(env, "SELECT type FROM outbox WHERE verification_id = :'p1'"
                              " ORDER BY id", vid)]


def status(env, vid):
    return sql(env, "SELECT status, attempts FROM verifications WHERE id = :'p1'", vid)[0]


def check_code(env, tid, vid, code):
    """mp_check_code's (stored, eff, result, remaining)."""
    return sql(env, "SELECT stored, eff, result, remaining FROM mp_check_code(:'p1', :'p2',"
               " decode(:'p3', 'hex'), NULL)", tid, vid, env.code_hash(vid, code))[0]


def test_migrate_builds_the_schema_from_nothing(env):
    version = sql(env, "SELECT max(version) FROM schema_migrations")[0][0]
    check(int(version) >= 4, "schema version %s" % version)
    fns = sql(env, "SELECT count(*) FROM pg_proc WHERE proname LIKE 'mp\\_%'")[0][0]
    check(int(fns) > 30, "%s mp_ functions" % fns)
    # a second run applies nothing and changes nothing
    out = migrate(env, "--json")
    check('"applied": []' in out, "second migrate: " + out)


def test_a_start_leaves_one_initiated_event(env):
    tid = tenant(env)
    vid = pending(env, tid)
    check(events(env, vid) == ["verification.initiated"], events(env, vid))


def test_wrong_codes_count_down_then_fail_once(env):
    tid = tenant(env)
    vid = pending(env, tid, code="111111", max_attempts=3)
    check(check_code(env, tid, vid, "222222") == ["PENDING", "PENDING", "PENDING", "2"],
          "first wrong code")
    check(check_code(env, tid, vid, "333333")[2:] == ["PENDING", "1"], "second wrong code")
    check(check_code(env, tid, vid, "444444")[2:] == ["FAILED", "0"], "third wrong code")
    check(status(env, vid) == ["FAILED", "3"], status(env, vid))
    # finished: even the right code changes nothing, and no attempt is counted
    check(check_code(env, tid, vid, "111111") == ["FAILED", "FAILED", "", ""],
          "right code after failing")
    check(status(env, vid) == ["FAILED", "3"], status(env, vid))
    check(events(env, vid) == ["verification.initiated", "email.failed"], events(env, vid))


def test_the_right_code_verifies_once(env):
    tid = tenant(env)
    vid = pending(env, tid, code="123456")
    check(check_code(env, tid, vid, "123456")[2] == "VERIFIED", "right code")
    check(check_code(env, tid, vid, "123456") == ["VERIFIED", "VERIFIED", "", ""],
          "second right code")
    check(events(env, vid) == ["verification.initiated", "email.verified"], events(env, vid))


def test_codes_of_another_tenant_or_an_expired_row_change_nothing(env):
    tid, other = tenant(env), tenant(env)
    vid = pending(env, tid, code="123456")
    check(sql(env, "SELECT count(*) FROM mp_check_code(:'p1', :'p2', '\\x00'::bytea, NULL)"
              " WHERE stored IS NOT NULL", other, vid)[0][0] == "0", "another tenant's row")
    old = pending(env, tid, code="123456", expires_in="-1 second")
    check(check_code(env, tid, old, "123456") == ["PENDING", "EXPIRED", "", ""],
          "right code after expiry")
    check(status(env, old) == ["PENDING", "0"], status(env, old))


def test_cancel_once_and_never_after_verified(env):
    tid = tenant(env)
    vid, done = pending(env, tid), pending(env, tid, status="VERIFIED")
    first = sql(env, "SELECT stored, eff, body IS NOT NULL FROM mp_cancel(:'p1', :'p2')",
                tid, vid)[0]
    check(first == ["PENDING", "PENDING", "t"], first)
    again = sql(env, "SELECT stored, eff, body IS NOT NULL FROM mp_cancel(:'p1', :'p2')",
                tid, vid)[0]
    check(again == ["CANCELED", "CANCELED", "f"], again)
    check(events(env, vid) == ["verification.initiated", "verification.canceled"],
          events(env, vid))
    refused = sql(env, "SELECT stored, body IS NOT NULL FROM mp_cancel(:'p1', :'p2')",
                  tid, done)[0]
    check(refused == ["VERIFIED", "f"], refused)


def test_a_final_mail_failure_fails_a_pending_verification(env):
    tid = tenant(env)
    vid, done = pending(env, tid), pending(env, tid, status="VERIFIED")
    sql(env, "SELECT mp_mail_result(:'p1', false, false, 451, '451 try later')", vid)
    check(status(env, vid)[0] == "PENDING", "a temporary failure fails nothing")
    sql(env, "SELECT mp_mail_result(:'p1', false, true, 550, '550 no such user')", vid)
    row = sql(env, "SELECT status, delivery_status, delivery_attempts, smtp_code"
              " FROM verifications WHERE id = :'p1'", vid)[0]
    check(row == ["FAILED", "FAILED", "2", "550"], row)
    check(events(env, vid)[-1] == "email.failed", events(env, vid))
    sql(env, "SELECT mp_mail_result(:'p1', false, true, 550, '550 no such user')", done)
    check(status(env, done)[0] == "VERIFIED", "a verified one stays verified")


def test_expiry_expires_each_overdue_row_once(env):
    tid = tenant(env)
    late = [pending(env, tid, expires_in="-1 second") for _ in range(3)]
    live = pending(env, tid)
    total = 0
    while True:
        n = int(sql(env, "SELECT mp_expire(2)")[0][0])
        total += n
        if n < 2:
            break
    # (rows the other tests left overdue expire here too)
    check(total >= 3, "expired %d" % total)
    check(int(sql(env, "SELECT mp_expire(100)")[0][0]) == 0, "a second sweep expires nothing")
    for vid in late:
        check(status(env, vid)[0] == "EXPIRED", status(env, vid))
        check(events(env, vid) == ["verification.initiated", "email.expired"], events(env, vid))
    check(status(env, live)[0] == "PENDING", "a live one stays pending")


def test_illegal_transitions_are_refused(env):
    tid = tenant(env)
    done = pending(env, tid, status="VERIFIED")
    for to in ("PENDING", "FAILED", "SUPERSEDED"):
        try:
            sql(env, "UPDATE verifications SET status = :'p2' WHERE id = :'p1'", done, to)
        except AssertionError:
            continue
        raise AssertionError("VERIFIED -> %s was allowed" % to)
    check(status(env, done)[0] == "VERIFIED", status(env, done))


def run_against_db(env, program, *args):
    """Runs a mailproof program on the throw-away database; (status, stderr)."""
    p = subprocess.run([os.path.join(env.build, program), *args], capture_output=True,
                       text=True, timeout=30,
                       env=dict(os.environ, MAILPROOF_CONFIG=env.config_file,
                                MAILPROOF_DATABASE_URL=url(env)))
    return p.returncode, p.stderr


def test_programs_refuse_a_schema_they_were_not_built_for(env):
    check(run_against_db(env, "mailproof-notifier", "--once")[0] == 0, "notifier on a good schema")
    sock = "unix:/tmp/mailproof-schema-%d.sock" % os.getpid()
    sql(env, "UPDATE schema_functions SET digest = md5('an older lifecycle.sql')")
    for program, args in (("mailproof-notifier", ("--once",)),
                          ("mailproof-fcgi", ("--listen", sock))):
        rc, err = run_against_db(env, program, *args)
        check(rc == 1, "%s on old functions: exit %d" % (program, rc))
        check("run mailproofctl migrate" in err and "lifecycle.sql" in err,
              "%s says: %s" % (program, err.strip()))
    # migrate puts the functions back: the programs start again
    migrate(env)
    check(run_against_db(env, "mailproof-notifier", "--once")[0] == 0, "after migrate")
    # a schema newer than the binary is refused too
    sql(env, "INSERT INTO schema_migrations (version, name) VALUES (999, '999_future.sql')")
    try:
        rc, err = run_against_db(env, "mailproof-notifier", "--once")
        check(rc == 1 and "version 999" in err, "newer schema: exit %d: %s" % (rc, err.strip()))
    finally:
        sql(env, "DELETE FROM schema_migrations WHERE version = 999")
