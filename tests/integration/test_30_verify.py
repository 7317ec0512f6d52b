"""Every row of the verify table (SPEC section 2), on both verify routes,
and the attempt counting under concurrency.  Verifications are stored with
SQL and a known code, hashed as the service hashes them."""
import re
import threading

from harness import Notifier, check, expect_error

def tenant(env):
    return env.shared_tenant("verify")


def by_path(env, vid, code, key):
    return env.request("POST", "/v1/verifications/email/%s/verify" % vid, body={"code": code},
                       key=key)


def by_body(env, vid, code, key):
    return env.request("POST", "/v1/verifications/email/verify",
                       body={"verificationId": vid, "code": code}, key=key)


ROUTES = (by_path, by_body)


def events(env, vid):
    """The events of vid after the verification.initiated of its insert."""
    return [r[0] for r in env.psql(
        "SELECT type FROM outbox WHERE verification_id = :'p1'"
        " AND type <> 'verification.initiated' ORDER BY id", vid)]


def test_right_code_verifies(env):
    tid, key = tenant(env)
    for route in ROUTES:
        vid = env.insert_verification(tid, code="739201", user_id="u-42")
        st, _, body = route(env, vid, "739201", key)
        check(st == 200, "%s: %d %r" % (route.__name__, st, body))
        d = body["data"]
        check(d["id"] == vid and d["status"] == "VERIFIED" and d["email"] == "person@example.com"
              and d["userId"] == "u-42" and d["verifiedAt"].endswith("Z"), "answer: %r" % d)
        check(events(env, vid) == ["email.verified"], "one email.verified event")
        st, _, body = env.request("GET", "/v1/verifications/email/" + vid, key=key)
        check(body["data"]["status"] == "VERIFIED", "GET shows VERIFIED")


def test_wrong_codes_count_then_fail(env):
    tid, key = tenant(env)
    for route in ROUTES:
        vid = env.insert_verification(tid, code="739201", max_attempts=3)
        r = expect_error(route(env, vid, "000000", key), 422, "INVALID_CODE")
        check(r["error"]["details"] == {"attemptsRemaining": 2}, "2 left: %r" % r)
        r = expect_error(route(env, vid, "111111", key), 422, "INVALID_CODE")
        check(r["error"]["details"] == {"attemptsRemaining": 1}, "1 left")
        expect_error(route(env, vid, "222222", key), 422, "MAX_ATTEMPTS_EXCEEDED")
        rows = env.psql("SELECT status, attempts FROM verifications WHERE id = :'p1'", vid)
        check(rows == [["FAILED", "3"]], "FAILED after the last attempt: %r" % rows)
        check(events(env, vid) == ["email.failed"], "one email.failed event")
        # FAILED: even the right code is refused, and nothing changes
        expect_error(route(env, vid, "739201", key), 409, "VERIFICATION_FAILED")
        check(env.psql("SELECT attempts FROM verifications WHERE id = :'p1'", vid) == [["3"]])


def test_expired_is_410(env):
    tid, key = tenant(env)
    for route in ROUTES:
        vid = env.insert_verification(tid, code="739201", expires_in="-1 second")
        expect_error(route(env, vid, "739201", key), 410, "VERIFICATION_EXPIRED")
        st, _, body = env.request("GET", "/v1/verifications/email/" + vid, key=key)
        check(body["data"]["status"] == "EXPIRED", "row-level expiry on GET")
        check(events(env, vid) == [], "no event")


def test_verified_and_canceled_are_409(env):
    tid, key = tenant(env)
    for route in ROUTES:
        vid = env.insert_verification(tid, code="739201")
        check(route(env, vid, "739201", key)[0] == 200)
        expect_error(route(env, vid, "739201", key), 409, "ALREADY_VERIFIED")
        expect_error(route(env, vid, "000000", key), 409, "ALREADY_VERIFIED")
        vid = env.insert_verification(tid, code="739201", status="CANCELED")
        expect_error(route(env, vid, "739201", key), 409, "VERIFICATION_CANCELED")


def test_unknown_ids_are_404(env):
    _, key = tenant(env)
    for route in ROUTES:
        for vid in ("ev_00000000000000000000000000", "ev_short", "xx_00000000000000000000000000",
                    "ev_0000000000000000000000000I"):
            expect_error(route(env, vid, "123456", key), 404, "VERIFICATION_NOT_FOUND")
    expect_error(env.request("GET", "/v1/verifications/email/ev_nope", key=key), 404,
                 "VERIFICATION_NOT_FOUND")


def test_codes_are_checked_case_insensitively(env):
    tid, key = tenant(env)
    vid = env.insert_verification(tid, code="AB3CD7")
    st, _, body = by_path(env, vid, "ab3-cd7", key)
    check(st == 200, "lower case with a hyphen accepted: %d %r" % (st, body))


def test_get_shows_the_verification(env):
    tid, key = tenant(env)
    vid = env.insert_verification(tid, user_id="user-1")
    st, h, body = env.request("GET", "/v1/verifications/email/" + vid, key=key)
    check(st == 200 and body["success"] is True, "GET: %d" % st)
    d = body["data"]
    for field in ("id", "userId", "email", "method", "status", "attempts", "attemptsRemaining",
                  "maxAttempts", "expiresAt", "createdAt", "verifiedAt", "delivery",
                  "deliverability", "disposable", "linkViews", "metadata"):
        check(field in d, "GET lacks %s" % field)
    check(d["status"] == "PENDING" and d["attemptsRemaining"] == 3 and d["verifiedAt"] is None,
          "values: %r" % d)
    import re
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", d["expiresAt"]),
          "RFC 3339 with milliseconds: %s" % d["expiresAt"])
    st, h, body = env.request("HEAD", "/v1/verifications/email/" + vid, key=key)
    check(st == 200 and body is None, "HEAD: no body")


def _concurrently(n, fn):
    results = [None] * n
    go = threading.Barrier(n)

    def run(i):
        go.wait()
        results[i] = fn()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_wrong_guesses_never_pass_max_attempts(env):
    tid, key = tenant(env)
    vid = env.insert_verification(tid, code="739201", max_attempts=10)
    res = _concurrently(40, lambda: by_path(env, vid, "000000", key))
    codes = [r[2]["error"]["code"] for r in res]
    check(codes.count("INVALID_CODE") == 9, "9 INVALID_CODE: %r" % codes)
    check(codes.count("MAX_ATTEMPTS_EXCEEDED") == 1, "exactly one MAX_ATTEMPTS_EXCEEDED")
    check(codes.count("VERIFICATION_FAILED") == 30, "the rest VERIFICATION_FAILED")
    rows = env.psql("SELECT status, attempts FROM verifications WHERE id = :'p1'", vid)
    check(rows == [["FAILED", "10"]], "attempts capped: %r" % rows)
    check(events(env, vid) == ["email.failed"], "one email.failed")


def test_concurrent_right_codes_verify_once(env):
    tid, key = tenant(env)
    vid = env.insert_verification(tid, code="739201")
    res = _concurrently(20, lambda: by_body(env, vid, "739201", key))
    sts = sorted(r[0] for r in res)
    check(sts.count(200) == 1, "exactly one 200: %r" % sts)
    check(sts.count(409) == 19 and all(r[2]["error"]["code"] == "ALREADY_VERIFIED"
                                       for r in res if r[0] == 409), "others ALREADY_VERIFIED")
    check(events(env, vid) == ["email.verified"], "exactly one email.verified event")


def test_each_transition_is_one_log_line(env):
    """The lifecycle trigger reports every change of status, and the process
    that made it writes one "verification ID: OLD -> NEW" line: starts,
    supersedes, codes, cancels and expiry alike; a refused change, none."""
    tid, key = tenant(env)
    address = env.new_address("transitions")
    st, _, first = env.start(key, email=address)
    check(st == 201, "start: %d %r" % (st, first))
    st, _, second = env.start(key, email=address)
    check(st == 201, "second start: %d %r" % (st, second))
    old, new = first["data"]["id"], second["data"]["id"]
    code = env.code_from_mail(address)
    check(by_body(env, new, code, key)[0] == 200, "right code")
    check(by_body(env, new, code, key)[0] == 409, "again: refused")
    canceled = env.insert_verification(tid)
    check(env.request("POST", "/v1/verifications/email/%s/cancel" % canceled, key=key)[0] == 200,
          "cancel")
    log = env.log("fcgi.log")
    for vid, move in ((old, "started"), (new, "started"),
                      (old, "PENDING -> CANCELED"), (new, "PENDING -> VERIFIED"),
                      (canceled, "PENDING -> CANCELED")):
        n = log.count("verification %s: %s" % (vid, move))
        check(n == 1, "%s %s logged %d times" % (vid, move, n))
    check(log.count("verification %s: PENDING -> VERIFIED" % new) == 1, "the refused one: none")
    # each names its tenant and the request it came from
    for vid, move in ((new, "PENDING -> VERIFIED"), (old, "started")):
        line = [l for l in log.splitlines() if "verification %s: %s" % (vid, move) in l][0]
        check(re.search(r"request_id=[A-Za-z0-9._-]+ verification=%s tenant=%s$" % (vid, tid),
                        line), "tenant and request in %r" % line)
    # expiry: a notifier's sweep (this one's, or the stack's if it came first)
    late = env.insert_verification(tid, expires_in="-1 second")
    # (--once is quiet for cron unless told otherwise)
    once = Notifier(env, args=("--once",), log_level="debug")
    check(once.wait() == 0, "notifier --once")
    line = "verification %s: PENDING -> EXPIRED" % late
    n = once.text().count(line) + env.log("notifier.log").count(line)
    check(n == 1, "the expiry logged %d times" % n)
