"""Email OTP end to end (issue 3): start with every field, the real mail
parsed by Python's email package, idempotency, superseding, resend, cancel,
list, expiry, limits and quota, through lighttpd and the SMTP catcher."""
import re
import subprocess
import time

from harness import Master, check, expect_error

_shared = {}


def tenant(env):
    return env.shared_tenant("otp")


def fresh_tenant(env, name):
    t, k = env.tenant_with_key(name + "-" + __import__("os").urandom(4).hex())
    return t["id"], k["key"]


def verify(env, key, vid, code):
    return env.request("POST", "/v1/verifications/email/%s/verify" % vid, body={"code": code},
                       key=key)


def test_start_answers_201_and_mails_the_code(env):
    _, key = tenant(env)
    addr = env.new_address()
    st, h, body = env.start(key, addr, userId="user-7", metadata={"plan": "pro", "n": 1})
    check(st == 201 and body["success"], "start: %d %r" % (st, body))
    d = body["data"]
    check(re.fullmatch(r"ev_[0-9A-HJKMNP-TV-Z]{26}", d["id"]), "id shape: %s" % d["id"])
    for k in ("id", "userId", "email", "method", "status", "expiresAt", "createdAt",
              "maxAttempts", "attemptsRemaining", "sent", "delivery", "hostedVerifyUrl",
              "metadata"):
        check(k in d, "answer lacks %s" % k)
    check(d["status"] == "PENDING" and d["method"] == "OTP" and d["email"] == addr
          and d["userId"] == "user-7" and d["maxAttempts"] == 3 and d["attemptsRemaining"] == 3
          and d["metadata"] == {"plan": "pro", "n": 1}, "values: %r" % d)
    check(d["sent"] is True and d["delivery"]["status"] == "SENT"
          and d["delivery"]["smtpCode"] == 250 and d["delivery"]["attempts"] == 1
          and d["delivery"]["sentAt"], "delivery: %r" % d["delivery"])
    check(d["hostedVerifyUrl"].endswith("/v1/hosted/" + d["id"]), "hosted url")
    code = env.code_from_mail(addr)
    check(re.fullmatch(r"\d{6}", code), "six digits by default: %r" % code)
    st, _, body = verify(env, key, d["id"], code)
    check(st == 200 and body["data"]["status"] == "VERIFIED", "the mailed code verifies")


def test_mail_is_a_proper_mime_message(env):
    _, key = tenant(env)
    addr = env.new_address()
    st, _, body = env.start(key, addr, subject="Bestätigen Sie Ihre Adresse ✓",
                            verificationLine="Confirm <b>Shop</b> & \"friends\"")
    check(st == 201, "start: %d %r" % (st, body))
    msgs = env.wait("the mail", lambda: env.mails_to(addr))
    check(len(msgs) == 1, "exactly one mail")
    m = msgs[0]
    check(m["Subject"] == "Bestätigen Sie Ihre Adresse ✓", "subject round-trips: %r" % m["Subject"])
    check(m["To"].addresses[0].addr_spec == addr, "To")
    check(m["From"].addresses[0].addr_spec == "verify@mailproof.test", "From")
    for hname in ("Date", "Message-ID", "MIME-Version"):
        check(m[hname], "missing " + hname)
    check(m["Auto-Submitted"] == "auto-generated", "Auto-Submitted")
    check(m.get_content_type() == "multipart/alternative", "type %s" % m.get_content_type())
    parts = list(m.iter_parts())
    check([p.get_content_type() for p in parts] == ["text/plain", "text/html"], "parts")
    for p in parts:
        check(p.get_content_charset() == "utf-8", "charset")
    text = parts[0].get_content()
    html = parts[1].get_content()
    code = re.search(r"^ {4}(\d{6})\r?$", text, re.M).group(1)
    check(code in html, "the code is one unbroken string in the HTML part too")
    check("Confirm <b>Shop</b> & \"friends\"" in text, "plain part has the line as given")
    check("Confirm &lt;b&gt;Shop&lt;/b&gt; &amp; &quot;friends&quot;" in html,
          "values are HTML-escaped in the HTML part")
    raw = open(__import__("glob").glob(env.var + "/mail/*.eml")[0], "rb").read()
    check(b"\n" not in raw.replace(b"\r\n", b""), "CRLF line ends only")


def test_token_formats_and_lengths(env):
    _, key = tenant(env)
    cases = (("numeric", 4, r"[0-9]{4}"), ("alpha", 12, r"[A-Z]{12}"),
             ("alphanumeric", 8, r"[2-9A-HJKMNP-TV-Z]{8}"))
    for fmt, n, pattern in cases:
        addr = env.new_address()
        st, _, body = env.start(key, addr, tokenFormat=fmt, codeLength=n)
        check(st == 201, "%s: %d %r" % (fmt, st, body))
        code = env.code_from_mail(addr)
        check(re.fullmatch(pattern, code), "%s code %r" % (fmt, code))
        st, _, _ = verify(env, key, body["data"]["id"], code.lower())
        check(st == 200, "%s code checked case-insensitively" % fmt)


def test_fields_and_defaults_are_honoured(env):
    _, key = tenant(env)
    st, _, body = env.start(key, expiresInSeconds=60, maxAttempts=10)
    d = body["data"]
    check(st == 201 and d["maxAttempts"] == 10 and d["attemptsRemaining"] == 10, "%r" % d)
    from datetime import datetime
    created = datetime.fromisoformat(d["createdAt"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(d["expiresAt"].replace("Z", "+00:00"))
    check(abs((expires - created).total_seconds() - 60) < 1, "expiresInSeconds")
    st, _, body = env.start(key)
    d = body["data"]
    created = datetime.fromisoformat(d["createdAt"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(d["expiresAt"].replace("Z", "+00:00"))
    check(abs((expires - created).total_seconds() - 900) < 1, "default 900 s")


def test_every_validation_error_of_the_start_body(env):
    _, key = tenant(env)
    bad_request = [
        {}, {"email": 5}, {"email": "a@example.com", "userId": 7},
        {"email": "a@example.com", "userId": "u" * 129},
        {"email": "a@example.com", "method": "SMS"},
        {"email": "a@example.com", "method": "OTP", "redirectUrl": "https://x.example/"},
        {"email": "a@example.com", "tokenFormat": "base64"},
        {"email": "a@example.com", "codeLength": 3}, {"email": "a@example.com", "codeLength": 13},
        {"email": "a@example.com", "codeLength": "6"}, {"email": "a@example.com", "codeLength": 6.5},
        {"email": "a@example.com", "expiresInSeconds": 59},
        {"email": "a@example.com", "expiresInSeconds": 2592001},
        {"email": "a@example.com", "maxAttempts": 0}, {"email": "a@example.com", "maxAttempts": 11},
        {"email": "a@example.com", "subject": "s" * 201},
        {"email": "a@example.com", "verificationLine": "v" * 501},
        {"email": "a@example.com", "metadata": "x"}, {"email": "a@example.com", "metadata": [1]},
        {"email": "a@example.com", "metadata": {"k": "v" * 2100}},
        {"email": "a@example.com", "emial": "typo"},
    ]
    for body in bad_request:
        r = env.request("POST", "/v1/verifications/email", body=body, key=key)
        try:
            expect_error(r, 400, "INVALID_REQUEST")
        except AssertionError as e:
            raise AssertionError("%r: %s" % (body, e))
    bad_email = ["", "plain", "a@b", "@example.com", "a@", "a b@example.com", "a@exa mple.com",
                 "a@@example.com", "a@b@example.com", "<a@example.com>", "a@example.com, b@example.com",
                 "\"q\"@example.com", "x" * 65 + "@example.com",
                 "a@" + "b" * 250 + ".com", "a..b@example.com", ".a@example.com",
                 "a@-example.com", "a@example-.com", "a@example..com", "ä@example.com"]
    for email in bad_email:
        r = env.request("POST", "/v1/verifications/email", body={"email": email}, key=key)
        try:
            expect_error(r, 400, "INVALID_EMAIL")
        except AssertionError as e:
            raise AssertionError("%r: %s" % (email, e))


def test_client_ip_and_user_agent_are_kept_shown_and_checked(env):
    _, key = tenant(env)
    ua = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0 \u00e9" + "x" * 440
    for given, shown in [("203.0.113.7", "203.0.113.7"), ("2001:DB8:0:0::1", "2001:db8::1"),
                         ("::ffff:198.51.100.9", "198.51.100.9")]:
        st, _, body = env.start(key, clientIp=given, userAgent=ua)
        d = body["data"]
        check(st == 201 and d["clientIp"] == shown and d["userAgent"] == ua,
              "%s: %d %r" % (given, st, {k: d.get(k) for k in ("clientIp", "userAgent")}))
        got = env.request("GET", "/v1/verifications/email/" + d["id"], key=key)[2]["data"]
        check(got["clientIp"] == shown and got["userAgent"] == ua, "GET shows them: %r" % got)
        held = env.psql("SELECT payload::text FROM outbox WHERE verification_id = :'p1'",
                        d["id"])[0][0]
        check(shown in held and "Firefox/128.0" in held, "the webhook carries them: %s" % held)
    st, _, body = env.start(key)
    check(body["data"]["clientIp"] is None and body["data"]["userAgent"] is None,
          "absent: null: %r" % body["data"])
    bad = [{"clientIp": "not an ip"}, {"clientIp": "999.1.1.1"}, {"clientIp": "1.2.3"},
           {"clientIp": "::g"}, {"clientIp": "[2001:db8::1]"}, {"clientIp": "10.0.0.1/8"},
           {"clientIp": "fe80::1%eth0"}, {"clientIp": "203.0.113.7:443"}, {"clientIp": 7},
           {"clientIp": ""}, {"userAgent": "u" * 513}, {"userAgent": "a\r\nX-Injected: 1"},
           {"userAgent": ["x"]}]
    for extra in bad:
        st, _, body = env.start(key, **extra)
        field = list(extra)[0]
        check(st == 400 and body["error"]["code"] == "INVALID_REQUEST" and
              field in body["error"]["message"], "%r: %d %r" % (extra, st, body))


def test_header_injection_is_refused(env):
    _, key = tenant(env)
    addr = env.new_address()
    injections = [
        {"email": addr + "\r\nBcc: victim@example.com"},
        {"email": addr + "\nBcc: victim@example.com"},
        {"email": addr, "subject": "Hi\r\nBcc: victim@example.com"},
        {"email": addr, "subject": "Hi\nX-Evil: 1"},
        {"email": addr, "verificationLine": "line\r\n--boundary\r\nContent-Type: text/html"},
        {"email": addr, "userId": "u\r\nX: y"},
        {"email": addr, "userId": "tab\there"},
    ]
    for body in injections:
        st, _, resp = env.request("POST", "/v1/verifications/email", body=body, key=key)
        check(st == 400 and resp["error"]["code"] in ("INVALID_REQUEST", "INVALID_EMAIL"),
              "%r: %d %r" % (body, st, resp))
    time.sleep(0.3)
    check(env.mails_to(addr) == [] and env.mails_to("victim@example.com") == [], "no mail sent")


def test_database_holds_no_plaintext_code(env):
    _, key = tenant(env)
    codes = []
    for fmt in ("numeric", "alpha", "alphanumeric"):
        addr = env.new_address()
        check(env.start(key, addr, tokenFormat=fmt, codeLength=12)[0] == 201)
        codes.append(env.code_from_mail(addr))
    dump = subprocess.run(["pg_dump", "-h", "127.0.0.1", "-p", str(env.pg_port), "-U",
                           "mailproof", "-d", "mailproof"], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    check("verifications" in dump, "dump covers the table")
    for c in codes:
        check(c not in dump and c.lower() not in dump, "plaintext code %s in the database" % c)
    log = env.log("fcgi.log")
    for c in codes:
        check(c not in log, "code in the log")


def test_smtp_refusal_is_502_and_failed(env):
    _, key = tenant(env)
    addr = env.new_address("reject")
    r = expect_error(env.start(key, addr), 502, "EMAIL_SEND_FAILED")
    d = r["error"]["details"]
    check(d["delivery"]["status"] == "FAILED" and d["delivery"]["smtpCode"] == 550
          and "mailbox unavailable" in d["delivery"]["smtpReply"], "delivery: %r" % d)
    vid = d["verificationId"]
    st, _, body = env.request("GET", "/v1/verifications/email/" + vid, key=key)
    check(body["data"]["status"] == "FAILED" and body["data"]["delivery"]["smtpCode"] == 550,
          "GET shows FAILED with the SMTP reply")
    types = [x[0] for x in env.psql(
        "SELECT type FROM outbox WHERE verification_id = :'p1' ORDER BY id", vid)]
    check(types == ["verification.initiated", "email.failed"], "events: %r" % types)
    expect_error(env.start(key, env.new_address("tempfail")), 502, "EMAIL_SEND_FAILED")


def test_idempotency_key_replays_and_conflicts(env):
    _, key = tenant(env)
    addr = env.new_address()
    ik = "order-" + __import__("os").urandom(4).hex()
    first = env.start(key, addr, headers={"Idempotency-Key": ik}, userId="u1")
    check(first[0] == 201, "first: %r" % (first,))
    # same JSON in another key order is the same body
    again = env.request("POST", "/v1/verifications/email", key=key,
                        headers={"Idempotency-Key": ik, "Content-Type": "application/json"},
                        raw_body=('{"userId":"u1","email":"%s"}' % addr).encode())
    check(again[0] == 201 and again[2] == first[2], "replayed answer")
    check(again[1].get("idempotent-replayed") == "true", "marked as a replay")
    time.sleep(0.3)
    check(len(env.mails_to(addr)) == 1, "no second mail")
    expect_error(env.start(key, addr, headers={"Idempotency-Key": ik}, userId="u2"), 409,
                 "IDEMPOTENCY_CONFLICT")
    expect_error(env.start(key, addr, headers={"Idempotency-Key": "bad key"}), 400,
                 "INVALID_REQUEST")
    expect_error(env.start(key, addr, headers={"Idempotency-Key": "k" * 256}), 400,
                 "INVALID_REQUEST")
    # another tenant may use the same key
    _, other = fresh_tenant(env, "idem")
    check(env.start(other, addr, headers={"Idempotency-Key": ik})[0] == 201, "keys are per tenant")


def test_new_start_supersedes_the_pending_one(env):
    _, key = tenant(env)
    addr = env.new_address()
    a = env.start(key, addr, userId="same")[2]["data"]["id"]
    code_a = env.code_from_mail(addr, 0)
    other_user = env.start(key, addr, userId="other")[2]["data"]["id"]
    b = env.start(key, addr, userId="same")[2]["data"]["id"]
    code_b = env.wait("second mail", lambda: len(env.mails_to(addr)) == 3) and \
        env.code_from_mail(addr, 2)
    expect_error(verify(env, key, a, code_a), 409, "VERIFICATION_CANCELED")
    st, _, body = env.request("GET", "/v1/verifications/email/" + other_user, key=key)
    check(body["data"]["status"] == "PENDING", "another userId is not superseded")
    check(verify(env, key, b, code_b)[0] == 200, "the new code works")
    types = [x[0] for x in env.psql(
        "SELECT type FROM outbox WHERE verification_id = :'p1' ORDER BY id", a)]
    check(types == ["verification.initiated", "verification.canceled"], "events: %r" % types)


def test_resend_gives_a_new_code_and_resets_attempts(env):
    _, key = tenant(env)
    addr = env.new_address()
    vid = env.start(key, addr)[2]["data"]["id"]
    old = env.code_from_mail(addr)
    wrong = "000000" if old != "000000" else "111111"
    expect_error(verify(env, key, vid, wrong), 422, "INVALID_CODE")
    env.past_cooldown(vid)
    st, _, body = env.request("POST", "/v1/verifications/email/%s/resend" % vid, key=key)
    check(st == 200 and body["data"]["attemptsRemaining"] == 3 and body["data"]["sent"] is True,
          "resend: %d %r" % (st, body))
    env.wait("the second mail", lambda: len(env.mails_to(addr)) == 2)
    new = env.code_from_mail(addr, 1)
    if new != old:
        r = expect_error(verify(env, key, vid, old), 422, "INVALID_CODE")
        check(r["error"]["details"]["attemptsRemaining"] == 2, "old code is dead")
    check(verify(env, key, vid, new)[0] == 200, "new code verifies")
    expect_error(env.request("POST", "/v1/verifications/email/%s/resend" % vid, key=key), 409,
                 "ALREADY_VERIFIED")
    expect_error(env.request("POST", "/v1/verifications/email/ev_00000000000000000000000000/resend",
                             key=key), 404, "VERIFICATION_NOT_FOUND")


def test_cancel(env):
    _, key = tenant(env)
    addr = env.new_address()
    vid = env.start(key, addr)[2]["data"]["id"]
    code = env.code_from_mail(addr)
    st, _, body = env.request("POST", "/v1/verifications/email/%s/cancel" % vid, key=key)
    check(st == 200 and body["data"]["status"] == "CANCELED" and body["data"]["id"] == vid
          and "linkViews" in body["data"], "cancel answers the verification: %r" % body)
    expect_error(env.request("POST", "/v1/verifications/email/%s/cancel" % vid, key=key), 409,
                 "VERIFICATION_CANCELED")
    expect_error(verify(env, key, vid, code), 409, "VERIFICATION_CANCELED")
    types = [x[0] for x in env.psql(
        "SELECT type FROM outbox WHERE verification_id = :'p1' ORDER BY id", vid)]
    check(types == ["verification.initiated", "verification.canceled"], "events: %r" % types)


def test_expiry_is_row_level(env):
    _, key = tenant(env)
    addr = env.new_address()
    vid = env.start(key, addr)[2]["data"]["id"]
    code = env.code_from_mail(addr)
    env.psql("UPDATE verifications SET expires_at = now() - interval '1 second' WHERE id = :'p1'",
             vid)
    st, _, body = env.request("GET", "/v1/verifications/email/" + vid, key=key)
    check(body["data"]["status"] == "EXPIRED", "reads EXPIRED before any sweep")
    expect_error(verify(env, key, vid, code), 410, "VERIFICATION_EXPIRED")
    expect_error(env.request("POST", "/v1/verifications/email/%s/resend" % vid, key=key), 410,
                 "VERIFICATION_EXPIRED")
    expect_error(env.request("POST", "/v1/verifications/email/%s/cancel" % vid, key=key), 410,
                 "VERIFICATION_EXPIRED")
    # an expired verification is not superseded into CANCELED either
    check(env.start(key, addr)[0] == 201)
    # left for the sweep (which the stack's notifier may run at any moment)
    check(env.psql("SELECT status FROM verifications WHERE id = :'p1'", vid) in
          ([["PENDING"]], [["EXPIRED"]]), "not canceled by the new start")


def test_list_filters_and_pages(env):
    tid, key = fresh_tenant(env, "list")
    addr = env.new_address()
    ids = [env.start(key, addr, userId="u%d" % (i % 2))[2]["data"]["id"] for i in range(5)]
    other = env.new_address()
    env.start(key, other)
    st, _, body = env.request("GET", "/v1/verifications/email?limit=100", key=key)
    check(st == 200 and len(body["data"]["items"]) == 6 and body["data"]["nextCursor"] is None,
          "all six: %r" % body)
    got, cursor, pages = [], None, 0
    while True:
        q = "/v1/verifications/email?limit=2&email=" + addr.replace("@", "%40")
        if cursor:
            q += "&cursor=" + cursor
        st, _, body = env.request("GET", q, key=key)
        check(st == 200, "page: %d %r" % (st, body))
        got += [x["id"] for x in body["data"]["items"]]
        pages += 1
        cursor = body["data"]["nextCursor"]
        if not cursor:
            break
    check(got == list(reversed(ids)) and pages == 3, "newest first, in pages: %r" % got)
    st, _, body = env.request("GET", "/v1/verifications/email?userId=u1", key=key)
    check(sorted(x["id"] for x in body["data"]["items"]) == sorted(ids[1::2]), "userId filter")
    # superseding left only the newest of each userId pending
    st, _, body = env.request("GET", "/v1/verifications/email?status=PENDING", key=key)
    check(sorted(x["id"] for x in body["data"]["items"]) == sorted([ids[3], ids[4]] + [
        x["id"] for x in env.request("GET", "/v1/verifications/email?email=" + other,
                                     key=key)[2]["data"]["items"]]), "status filter")
    st, _, body = env.request("GET", "/v1/verifications/email?status=CANCELED", key=key)
    check(len(body["data"]["items"]) == 3, "three superseded")
    _, okey = fresh_tenant(env, "list-other")
    st, _, body = env.request("GET", "/v1/verifications/email", key=okey)
    check(body["data"]["items"] == [], "another tenant sees none")
    for q in ("limit=0", "limit=101", "limit=x", "status=DONE", "cursor=zzz", "cursor=",
              "bogus=1", "email=" + "a" * 300):
        expect_error(env.request("GET", "/v1/verifications/email?" + q, key=key), 400,
                     "INVALID_REQUEST")
    # lighttpd refuses these itself; the app must too when a server passes them
    import json
    import os
    from harness import fcgi_request
    for q in ("email=%0d%0a", "userId=%00", "email=%zz", "email=%4"):
        st, _, raw = fcgi_request(os.path.join(env.var, "run", "fcgi.sock"), {
            "REQUEST_URI": "/v1/verifications/email?" + q, "QUERY_STRING": q,
            "HTTP_AUTHORIZATION": "Bearer " + key})
        check(st == 400 and json.loads(raw)["error"]["code"] == "INVALID_REQUEST",
              "%s: %d %r" % (q, st, raw))


def says_the_limit(r, limit, max_, window, worded=None):
    """A 429 that names its limit and number, and when it lets requests through."""
    import calendar
    st, h, body = r
    expect_error(r, 429, "RATE_LIMITED")
    d = body["error"]["details"]
    wait = int(h["retry-after"])
    at = calendar.timegm(time.strptime(d["retryAt"], "%Y-%m-%dT%H:%M:%S.000Z"))
    check(d["limit"] == limit and d["max"] == max_ and d["retryAfterSeconds"] == wait and
          1 <= wait <= window and abs(at - (time.time() + wait)) <= 2,
          "details: %r, Retry-After %d" % (d, wait))
    msg = body["error"]["message"]
    worded = worded or ": %d, the most allowed (%s). Try again in " % (max_, limit)
    check(worded in msg and "Try again in " in msg, "message: %r" % msg)


def test_rate_per_email_per_hour(env):
    tid, key = fresh_tenant(env, "rate-email")
    addr = env.new_address()
    for i in range(5):
        check(env.start(key, addr)[0] == 201, "start %d allowed" % i)
    says_the_limit(env.start(key, addr), "per_email_per_hour", 5, 3600)
    # a resend counts too, and says so the same way
    vid = env.psql("SELECT id FROM verifications WHERE email = :'p1' ORDER BY created_at DESC"
                   " LIMIT 1", addr)[0][0]
    env.past_cooldown(vid)
    says_the_limit(env.request("POST", "/v1/verifications/email/%s/resend" % vid, key=key,
                               raw_body=b""), "per_email_per_hour", 5, 3600)
    # the next hour lets it through again
    env.psql("UPDATE address_limits SET hour_start = hour_start - interval '1 hour'"
             " WHERE tenant_id = :'p1'", tid)
    check(env.start(key, addr)[0] == 201, "reset with the hour")
    check(env.start(key, env.new_address())[0] == 201, "another address is not limited")


def test_wrong_codes_per_address_per_day_block_new_starts(env):
    tid, key = fresh_tenant(env, "rate-fail")
    env.psql("UPDATE tenants SET rate_per_email_per_hour = 0 WHERE id = :'p1'", tid)
    addr = env.new_address()
    wrong = 0
    while wrong < 10:
        vid = env.start(key, addr, maxAttempts=3)[2]["data"]["id"]
        for _ in range(3):
            if wrong == 10:
                break
            st, _, _ = verify(env, key, vid, "00000")  # five digits: never a six-digit code
            check(st == 422, "wrong code answered %d" % st)
            wrong += 1
    says_the_limit(env.start(key, addr), "failed_attempts_per_email_per_day", 10, 86400)
    env.psql("UPDATE address_limits SET day_start = day_start - interval '1 day'"
             " WHERE tenant_id = :'p1'", tid)
    check(env.start(key, addr)[0] == 201, "reset with the day")
    check(env.start(key, env.new_address())[0] == 201, "other addresses still start")


def test_rate_per_key_per_minute(env):
    tid, key = fresh_tenant(env, "rate-key")
    env.psql("UPDATE tenants SET rate_per_key_per_minute = 5 WHERE id = :'p1'", tid)
    if time.gmtime().tm_sec > 50:  # keep all requests in one window
        time.sleep(61 - time.gmtime().tm_sec)
    statuses = [env.request("GET", "/v1/verifications/email", key=key)[0] for _ in range(7)]
    check(statuses[:5] == [200] * 5 and statuses[5:] == [429, 429], "statuses: %r" % statuses)
    says_the_limit(env.request("GET", "/v1/verifications/email", key=key), "per_key_per_minute",
                   5, 60)
    name = env.psql("SELECT name FROM tenants WHERE id = :'p1'", tid)[0][0]
    keys = env.ctl_json("key", "list", "--tenant", name)
    check(keys[0]["requests"] == 8 and keys[0]["lastUsedAt"], "usage counted: %r" % keys)
    # the notifier's purge folds what was counted into the durable total
    env.psql("SELECT mp_purge(30)")
    check(env.ctl_json("key", "list", "--tenant", name)[0]["requests"] == 8, "kept when folded")
    # the next minute lets the key through again
    env.psql("UPDATE key_windows SET window_start = window_start - interval '1 minute'"
             " WHERE key_id IN (SELECT id FROM api_keys WHERE tenant_id = :'p1')", tid)
    check(env.request("GET", "/v1/verifications/email", key=key)[0] == 200, "reset with the minute")
    check(env.psql("SELECT usage_count FROM api_keys WHERE tenant_id = :'p1'", tid) == [["8"]],
          "folded into usage_count")


def test_monthly_quota_is_402(env):
    tid, key = fresh_tenant(env, "quota")
    env.psql("UPDATE tenants SET monthly_quota = 2 WHERE id = :'p1'", tid)
    check(env.start(key)[0] == 201 and env.start(key)[0] == 201, "within the quota")
    expect_error(env.start(key), 402, "QUOTA_EXCEEDED")


def test_tenant_mail_from_override(env):
    tid, key = fresh_tenant(env, "sender")
    name = env.psql("SELECT name FROM tenants WHERE id = :'p1'", tid)[0][0]
    env.ctl("tenant", "update", name, "--mail-from", "hello@shop.example")
    check(env.ctl_json("tenant", "show", name)["mailFrom"] == "hello@shop.example", "shown")
    addr = env.new_address()
    check(env.start(key, addr)[0] == 201, "start")
    m = env.wait("the mail", lambda: env.mails_to(addr))[-1]
    check(m["From"].addresses[0].addr_spec == "hello@shop.example", "From: %s" % m["From"])
    check(m["X-Envelope-From"] == "hello@shop.example", "envelope sender too")
    rc, _, err = env.ctl("tenant", "update", name, "--mail-from", "not an address", check=False)
    check(rc == 1 and "--mail-from" in err, "validated: %r" % err)
    env.ctl("tenant", "update", name, "--mail-from", "")
    addr = env.new_address()
    env.start(key, addr)
    m = env.wait("the mail", lambda: env.mails_to(addr))[-1]
    check(m["From"].addresses[0].addr_spec == "verify@mailproof.test", "back to mail_from")


def client_tenant(env, **limits):
    """A tenant with its own limits per client; the others off (0)."""
    tid, key = fresh_tenant(env, "client")
    name = env.psql("SELECT name FROM tenants WHERE id = :'p1'", tid)[0][0]
    opts = {"rate-per-client-ip-per-hour": 0, "rate-per-client-network-per-hour": 0,
            "addresses-per-client-ip-per-day": 0}
    opts.update({k.replace("_", "-"): v for k, v in limits.items()})
    args = ["tenant", "update", name]
    for k, v in opts.items():
        args += ["--" + k, str(v)]
    env.ctl(*args)
    return tid, name, key


def test_starts_per_client_ip_per_hour(env):
    tid, _, key = client_tenant(env, rate_per_client_ip_per_hour=3)
    for i in range(3):
        check(env.start(key, clientIp="203.0.113.10")[0] == 201, "start %d" % i)
    says_the_limit(env.start(key, clientIp="203.0.113.10"), "per_client_ip_per_hour", 3, 3600)
    check(env.start(key, clientIp="203.0.113.11")[0] == 201, "another person")
    check(env.start(key)[0] == 201, "a start that does not say who asks is not counted")
    # the next hour: the window starts again
    env.psql("UPDATE client_windows SET window_start = window_start - interval '1 hour'"
             " WHERE tenant_id = :'p1'", tid)
    check(env.start(key, clientIp="203.0.113.10")[0] == 201, "reset with the hour")


def test_starts_per_client_network_per_hour(env):
    tid, _, key = client_tenant(env, rate_per_client_network_per_hour=3)
    for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.250"):
        check(env.start(key, clientIp=ip)[0] == 201, ip)
    says_the_limit(env.start(key, clientIp="198.51.100.9"), "per_client_network_per_hour", 3,
                   3600)
    check(env.start(key, clientIp="198.51.101.1")[0] == 201, "the next /24")
    for ip in ("2001:db8:0:1::1", "2001:db8:0:2::1", "2001:db8:0:ff::1"):
        check(env.start(key, clientIp=ip)[0] == 201, ip)
    says_the_limit(env.start(key, clientIp="2001:db8:0:3::7"), "per_client_network_per_hour", 3,
                   3600)
    check(env.start(key, clientIp="2001:db8:0:100::1")[0] == 201, "the next /56")
    env.psql("UPDATE client_windows SET window_start = window_start - interval '1 hour'"
             " WHERE tenant_id = :'p1'", tid)
    check(env.start(key, clientIp="198.51.100.9")[0] == 201, "reset with the hour")


def test_distinct_addresses_per_client_ip_per_day(env):
    tid, _, key = client_tenant(env, addresses_per_client_ip_per_day=2)
    a, b, c = env.new_address(), env.new_address(), env.new_address()
    for addr in (a, b, a):
        check(env.start(key, addr, clientIp="192.0.2.77")[0] == 201, addr)
    says_the_limit(env.start(key, c, clientIp="192.0.2.77"), "addresses_per_client_ip_per_day",
                   2, 86400)
    check(env.start(key, b, clientIp="192.0.2.77")[0] == 201, "one already asked for")
    check(env.start(key, c, clientIp="192.0.2.78")[0] == 201, "another person")
    env.psql("UPDATE client_addresses SET day = day - 1 WHERE tenant_id = :'p1'", tid)
    check(env.start(key, c, clientIp="192.0.2.77")[0] == 201, "reset with the day")
    # at once, from one person, for many addresses: still only the limit
    import threading
    tid, _, key = client_tenant(env, addresses_per_client_ip_per_day=3)
    got = []
    threads = [threading.Thread(target=lambda: got.append(
        env.start(key, env.new_address(), clientIp="192.0.2.99")[0])) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(sorted(got) == [201] * 3 + [429] * 7, "concurrent starts: %r" % sorted(got))


def test_a_tenant_may_require_client_ip(env):
    _, name, key = client_tenant(env, require_client_ip="true")
    st, _, body = env.start(key)
    check(st == 400 and body["error"]["code"] == "INVALID_REQUEST" and
          "clientIp" in body["error"]["message"], "%d %r" % (st, body))
    check(env.start(key, clientIp="203.0.113.5")[0] == 201, "with it")
    shown = env.ctl_json("tenant", "show", name)
    check(shown["requireClientIp"] is True and shown["ratePerClientIpPerHour"] == 0,
          "tenant show: %r" % shown)
    env.ctl("tenant", "update", name, "--require-client-ip", "")
    check(env.start(key)[0] == 201, "the default again: not required")
    rc, _, err = env.ctl("tenant", "update", name, "--require-client-ip", "maybe", check=False)
    check(rc == 1 and "require-client-ip" in err, "a bad value: %r" % err)
    rc, _, err = env.ctl("tenant", "update", name, "--rate-per-client-ip-per-hour", "-1",
                         check=False)
    check(rc == 1 and "whole numbers" in err, "a bad number: %r" % err)


def test_a_resend_waits_for_its_cooldown(env):
    import calendar
    _, key = tenant(env)
    st, _, body = env.start(key)
    vid, at = body["data"]["id"], body["data"]["resendAvailableAt"]
    check(abs(calendar.timegm(time.strptime(at, "%Y-%m-%dT%H:%M:%S.000Z")) - (time.time() + 30)) <= 2,
          "resendAvailableAt: 30 s on: %r" % at)
    r = env.request("POST", "/v1/verifications/email/%s/resend" % vid, key=key)
    says_the_limit(r, "resend_cooldown", 30, 30, "30 seconds after the last one (resend_cooldown)")
    env.psql("UPDATE verifications SET last_mail_at = now() - interval '31 seconds'"
             " WHERE id = :'p1'", vid)
    st, _, body = env.request("POST", "/v1/verifications/email/%s/resend" % vid, key=key)
    check(st == 200 and body["data"]["resendAvailableAt"] >= at, "after it: %d %r" % (st, body))
    says_the_limit(env.request("POST", "/v1/verifications/email/%s/resend" % vid, key=key),
                   "resend_cooldown", 30, 30, "(resend_cooldown)")


def test_resend_policies(env):
    for policy in ("new_code", "same_code"):
        tid, name, key = client_tenant(env)
        env.ctl("tenant", "update", name, "--resend-policy", policy)
        addr = env.new_address()
        vid = env.start(key, addr)[2]["data"]["id"]
        first = env.code_from_mail(addr)
        wrong = "000000" if first != "000000" else "111111"
        expect_error(verify(env, key, vid, wrong), 422, "INVALID_CODE")
        env.past_cooldown(vid)
        st, _, body = env.request("POST", "/v1/verifications/email/%s/resend" % vid, key=key)
        check(st == 200, "%s: resend %d %r" % (policy, st, body))
        env.wait("the second mail", lambda: len(env.mails_to(addr)) == 2)
        second = env.code_from_mail(addr, 1)
        kept = env.psql("SELECT sealed_code IS NOT NULL FROM verifications WHERE id = :'p1'",
                        vid)[0][0]
        if policy == "same_code":
            check(second == first and body["data"]["attemptsRemaining"] == 2 and kept == "t",
                  "the same code, its attempts kept: %r %r %r" % (first, second, body["data"]))
            st, _, _ = verify(env, key, vid, first)
            check(st == 200, "the first mail's code verifies after the resend: %d" % st)
        else:
            check(body["data"]["attemptsRemaining"] == 3 and kept == "f", "a new code: %r" %
                  body["data"])
            if second != first:
                expect_error(verify(env, key, vid, first), 422, "INVALID_CODE")
            check(verify(env, key, vid, second)[0] == 200, "the new code verifies")
        check(env.ctl_json("tenant", "show", name)["resendPolicy"] == policy, "tenant show")
    rc, _, err = env.ctl("tenant", "update", name, "--resend-policy", "sometimes", check=False)
    check(rc == 1 and "resend-policy" in err, "a bad policy: %r" % err)


def test_a_same_code_resend_in_queue_mode_leaves_one_mail_queued(env):
    """A resend that keeps the code replaces the mail still queued with it
    (one waiting for a retry, say): the person gets that code once."""
    tid, name, key = client_tenant(env)
    env.ctl("tenant", "update", name, "--resend-policy", "same_code")
    env.service("notifier", "stop")  # so that the first mail stays queued
    m = Master(env, mail_delivery="queue")
    vid = None
    try:
        vid = m.start_and_resend(key)
        queued = env.psql("SELECT count(*) FROM mail_jobs WHERE verification_id = :'p1'"
                          " AND state = 'pending'", vid)
        check(queued == [["1"]], "mails queued for the one code: %r" % queued)
    finally:
        m.stop()
        if vid:  # no mail of this test for the notifiers of later ones
            env.psql("DELETE FROM mail_jobs WHERE verification_id = :'p1'", vid)
        env.service("notifier", "start")


def test_a_suppressed_address_gets_no_mail(env):
    tid, name, key = client_tenant(env)
    addr = env.new_address()
    out = env.ctl_json("suppression", "add", "--tenant", name, "--email", addr.upper(),
                       "--note", "asked by phone")
    check(out["expiresAt"] is None, "for good: %r" % out)
    st, _, body = env.start(key, addr, headers={"Idempotency-Key": "supp-" + addr})
    check(st == 422 and body["error"]["code"] == "EMAIL_SUPPRESSED", "%d %r" % (st, body))
    check(not env.mails_to(addr), "nothing sent")
    listed = env.ctl_json("suppression", "list", "--tenant", name)
    check([(x["email"], x["reason"], x["note"]) for x in listed] ==
          [(addr.lower(), "manual", "asked by phone")], "listed: %r" % listed)
    other_tid, other, other_key = client_tenant(env)
    check(env.start(other_key, addr)[0] == 201, "another tenant's list is its own")
    # one started before the address went on the list gets no resend either
    other_addr = env.new_address()
    vid = env.start(other_key, other_addr)[2]["data"]["id"]
    env.ctl("suppression", "add", "--tenant", other, "--email", other_addr)
    env.past_cooldown(vid)
    expect_error(env.request("POST", "/v1/verifications/email/%s/resend" % vid, key=other_key),
                 422, "EMAIL_SUPPRESSED")
    out = env.ctl_json("suppression", "remove", "--tenant", name, "--email", addr)
    check(out["removed"] is True, "removed: %r" % out)
    st, _, body = env.start(key, addr, headers={"Idempotency-Key": "supp-" + addr})
    check(st == 201, "mail again, the refusal not remembered for the key: %d %r" % (st, body))
    # with an expiry: in force until then
    env.ctl("suppression", "add", "--tenant", name, "--email", addr, "--expires", "30d")
    check(env.start(key, addr)[0] == 422, "in force")
    env.psql("UPDATE suppressions SET expires_at = now() - interval '1 second'"
             " WHERE tenant_id = :'p1'", tid)
    check(env.start(key, addr)[0] == 201, "expired")
    check(env.ctl_json("suppression", "list", "--tenant", name) == [], "not listed once expired")
    for args, says in [(["--email", "not-an-address"], "--email"), ([], "--email"),
                       (["--email", addr, "--expires", "forever"], "--expires"),
                       (["--email", addr, "--expires", "0"], "--expires"),
                       (["--email", addr, "--note", "a\nb"], "--note")]:
        rc, _, err = env.ctl("suppression", "add", "--tenant", name, *args, check=False)
        check(rc == 1 and says in err, "%r: %d %r" % (args, rc, err))
    rc, _, err = env.ctl("suppression", "add", "--tenant", "no-such", "--email", addr, check=False)
    check(rc == 1 and "no tenant" in err, "an unknown tenant: %r" % err)
    env.ctl("suppression", "remove", "--tenant", name, "--email", addr)
    rc, out, _ = env.ctl("suppression", "remove", "--tenant", name, "--email", addr)
    check("was not on the list" in out, "removing what is not there: %r" % out)
