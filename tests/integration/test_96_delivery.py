"""Delivery your way (issue 18): a code handed to the application
(delivery none) or to its webhook (delivery webhook, a signed
verification.deliver event carrying the rendered mail), a code the
application chose (customCode), a code and a link in one mail
(CODE_AND_LINK) and 64-digit hex codes.  The stack's own notifier is
stopped while these run, so each test owns the notifiers it starts."""
import glob
import os
import re
import subprocess
import urllib.parse

from harness import Notifier, Receiver, check, expect_error, verify_signatures
from test_79_browser import run_browser

API = "/v1/verifications/email"
DELIVER = "verifications:write,verifications:check,verifications:read,verifications:deliver"
FAST = dict(webhook_retry_base_ms=200, webhook_timeout_ms=2000)
LINK = re.compile(r"(http://\S+/v1/link/[A-Za-z0-9_-]{43})\r?$", re.M)


def setup(env):
    env.service("notifier", "stop")


def teardown(env):
    env.service("notifier", "start")


def tenant(env, name, scopes=DELIVER, webhook_url=None):
    """A new tenant and a key of it: (tenant, key)."""
    t, k = env.tenant_with_key("%s-%s" % (name, os.urandom(4).hex()), scopes=scopes,
                               webhook_url=webhook_url)
    return t, k["key"]


def verify(env, key, vid, code):
    return env.request("POST", "%s/%s/verify" % (API, vid), body={"code": code}, key=key)


def get(env, key, vid):
    st, _, body = env.request("GET", "%s/%s" % (API, vid), key=key)
    check(st == 200, "GET: %d %r" % (st, body))
    return body["data"]


def outbox(env, vid):
    """The verification's events: (type, state, attempts, sealed copy kept)."""
    return env.psql("SELECT type, state, attempts, sealed_secret IS NOT NULL FROM outbox"
                    " WHERE verification_id = :'p1' ORDER BY id", vid)


def no_mail_for(env, addr, seconds=1.5):
    """Nothing reaches the SMTP catcher for addr within seconds."""
    try:
        env.wait("a mail", lambda: env.mails_to(addr), timeout=seconds)
    except AssertionError:
        return True
    return False


def test_none_hands_the_code_over_and_mails_nothing(env):
    _, key = tenant(env, "none")
    addr = env.new_address()
    st, _, body = env.start(key, addr, delivery="none")
    check(st == 201, "start: %d %r" % (st, body))
    v = body["data"]
    check(v["delivery"]["status"] == "HANDED_OVER" and v["sent"] is False,
          "delivery HANDED_OVER, nothing sent: %r" % v)
    check(re.fullmatch(r"[0-9]{6}", v["code"] or "") and v["link"] is None,
          "the code in the answer: %r" % v)
    check(no_mail_for(env, addr), "no mail reached the catcher")
    st, _, got = verify(env, key, v["id"], v["code"])
    check(st == 200 and got["data"]["status"] == "VERIFIED", "the code verifies: %r" % got)
    g = get(env, key, v["id"])
    check("code" not in g and g["delivery"]["status"] == "HANDED_OVER", "GET shows no code")

    # a magic link handed over: its link confirms
    addr = env.new_address()
    st, _, body = env.start(key, addr, delivery="none", method="MAGIC_LINK")
    check(st == 201 and body["data"]["code"] is None, "start: %d %r" % (st, body))
    link = body["data"]["link"]
    check(LINK.match(link), "the link in the answer: %r" % link)
    path = urllib.parse.urlsplit(link).path
    st, _, _ = env.request("POST", path, raw_body=b"", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    check(st == 200, "the link confirms: %d" % st)
    check(get(env, key, body["data"]["id"])["status"] == "VERIFIED", "VERIFIED")
    check(no_mail_for(env, addr, 0.5), "no mail")

    # a resend of it hands over a new code, and the old one stops working
    addr = env.new_address()
    st, _, first = env.start(key, addr, delivery="none")
    vid = first["data"]["id"]
    env.past_cooldown(vid)
    st, _, again = env.request("POST", "%s/%s/resend" % (API, vid), key=key)
    check(st == 200 and again["data"]["delivery"]["status"] == "HANDED_OVER" and
          re.fullmatch(r"[0-9]{6}", again["data"]["code"] or ""), "resend: %d %r" % (st, again))
    if again["data"]["code"] != first["data"]["code"]:
        expect_error(verify(env, key, vid, first["data"]["code"]), 422, "INVALID_CODE")
    st, _, _ = verify(env, key, vid, again["data"]["code"])
    check(st == 200, "the resent code verifies")


def test_deliver_needs_its_own_scope(env):
    _, key = tenant(env, "noscope", scopes=None)
    rx = Receiver()
    _, hooked = tenant(env, "noscope-hook", scopes=None, webhook_url=rx.url)
    try:
        for k, fields in [(key, {"delivery": "none"}), (key, {"customCode": "4711"}),
                          (hooked, {"delivery": "webhook"}),
                          (key, {"delivery": "none", "method": "MAGIC_LINK"})]:
            st, _, body = env.start(k, **fields)
            expect_error((st, _, body), 403, "SCOPE_REQUIRED")
            check(body["error"]["details"]["scope"] == "verifications:deliver",
                  "names the scope: %r" % body)
        st, _, _ = env.start(key, delivery="smtp")
        check(st == 201, "smtp, as before, needs no more")
        for bad, says in [({"delivery": "pigeon"}, "delivery"), ({"delivery": 1}, "delivery"),
                          ({"customCode": 4711}, "customCode")]:
            st, _, body = env.start(key, **bad)
            expect_error((st, _, body), 400, "INVALID_REQUEST")
            check(says in body["error"]["message"], "%r" % body)
        # a resend of a code handed over needs it too; of a mailed one, not
        t, deliverer = tenant(env, "noscope-resend")
        plain = env.ctl_json("key", "create", "--tenant", t["name"])["key"]
        for delivery, want in [("none", 403), ("smtp", 200)]:
            st, _, body = env.start(deliverer, delivery=delivery)
            env.past_cooldown(body["data"]["id"])
            resent = env.request("POST", "%s/%s/resend" % (API, body["data"]["id"]), key=plain)
            if want == 403:
                expect_error(resent, 403, "SCOPE_REQUIRED")
                check(resent[2]["error"]["details"]["scope"] == "verifications:deliver",
                      "names the scope: %r" % (resent[2],))
            else:
                check(resent[0] == 200, "a mailed one: %r" % (resent,))
        rc, _, err = env.ctl("key", "create", "--tenant", "nobody", "--scopes",
                             "verifications:delivery", check=False)
        check(rc != 0 and "verifications:deliver" in err, "unknown scope: %r" % err)
    finally:
        rx.stop()


def test_a_handed_code_is_stored_and_logged_nowhere_and_shown_once(env):
    _, key = tenant(env, "secret")
    idem = {"Idempotency-Key": "handed-" + os.urandom(6).hex()}
    fields = dict(delivery="none", tokenFormat="alphanumeric", codeLength=12)
    addr = env.new_address()
    st, h, body = env.start(key, addr, headers=idem, **fields)
    check(st == 201, "start: %d %r" % (st, body))
    code, vid = body["data"]["code"], body["data"]["id"]
    check(re.fullmatch(r"[2-9A-Z]{12}", code or ""), "a 12-character code: %r" % code)
    st, h, replay = env.start(key, addr, headers=idem, **fields)
    check(st == 201 and h.get("idempotent-replayed") == "true", "a replay: %d %r" % (st, h))
    check(replay["data"]["id"] == vid and "code" not in replay["data"] and
          "link" not in replay["data"], "the replay does not show the code: %r" % replay)
    # the code, in clear, is nowhere: not in the database, not in a log
    dump = subprocess.run(["pg_dump", "-h", "127.0.0.1", "-p", str(env.pg_port), "-U",
                           "postgres", "mailproof"], capture_output=True, text=True,
                          timeout=120)
    check(dump.returncode == 0 and vid in dump.stdout, "pg_dump: %s" % dump.stderr[-500:])
    check(code not in dump.stdout and code.lower() not in dump.stdout, "the code is in the dump")
    logs = glob.glob(os.path.join(env.var, "log", "*"))
    check(logs, "logs to search")
    for name in logs:
        with open(name, errors="replace") as f:
            check(code not in f.read(), "the code is in %s" % name)
    st, _, _ = verify(env, key, vid, code)
    check(st == 200, "and it verifies")


def test_webhook_delivery_is_signed_rendered_and_wiped(env):
    rx = Receiver()
    t, key = tenant(env, "deliver-hook", webhook_url=rx.url)
    secret = t["webhookSecret"]
    n = Notifier(env, **FAST)
    try:
        addr = env.new_address()
        st, _, body = env.start(key, addr, delivery="webhook", locale="de")
        check(st == 201, "start: %d %r" % (st, body))
        v = body["data"]
        check(v["delivery"]["status"] == "QUEUED" and "code" not in v, "queued: %r" % v)
        events = env.wait("the deliver event", lambda: [
            e for e in rx.events() if e[1]["type"] == "verification.deliver"], timeout=15)
        event_id, ev = events[0]
        check(event_id.startswith("msg_" + v["id"][3:] + "_verification_deliver_"),
              "its webhook-id: %s" % event_id)
        msg = ev["data"]["message"]
        check(ev["data"]["id"] == v["id"] and msg["to"] == addr, "for the verification: %r" % ev)
        code = msg["code"]
        check(re.fullmatch(r"[0-9]{6}", code or "") and msg["link"] is None, "code: %r" % msg)
        check("Bestätigungscode" in msg["subject"], "German subject: %r" % msg["subject"])
        check(code in msg["text"] and "Ihr Bestätigungscode lautet" in msg["text"],
              "German text with the code: %r" % msg["text"])
        check(code in msg["html"] and 'lang="de"' in msg["html"], "HTML with the code")
        requests = [r for r in rx.requests if "verification.deliver" in r["body"]]
        check(verify_signatures(env, secret, requests) == ["ok"], "signed")
        check(no_mail_for(env, addr, 0.5), "no mail")
        env.wait("delivery SENT", lambda: get(env, key, v["id"])["delivery"]["status"] == "SENT")
        rows = outbox(env, v["id"])
        check(["verification.deliver", "delivered", "1", "f"] in rows,
              "delivered, its sealed copy wiped: %r" % rows)
        st, _, got = verify(env, key, v["id"], code)
        check(st == 200, "its code verifies: %r" % got)

        # a magic link, and a resend: a second event with the new link
        st, _, body = env.start(key, delivery="webhook", method="MAGIC_LINK")
        vid = body["data"]["id"]
        env.wait("the link", lambda: [e for e in rx.events() if e[1]["type"] ==
                                      "verification.deliver" and e[1]["data"]["id"] == vid])
        env.past_cooldown(vid)
        st, _, again = env.request("POST", "%s/%s/resend" % (API, vid), key=key)
        check(st == 200 and "link" not in again["data"], "resend: %d %r" % (st, again))
        links = env.wait("two links", lambda: [
            e[1]["data"]["message"]["link"] for e in rx.events()
            if e[1]["type"] == "verification.deliver" and e[1]["data"]["id"] == vid][1:])
        first = [e[1]["data"]["message"]["link"] for e in rx.events()
                 if e[1]["type"] == "verification.deliver" and e[1]["data"]["id"] == vid][0]
        check(LINK.match(links[0]) and links[0] != first, "a new link: %r" % links)
        st, _, _ = env.request("POST", urllib.parse.urlsplit(first).path, raw_body=b"",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        check(st == 410, "the first link no longer works: %d" % st)

        # no endpoint: refused at the start
        _, bare = tenant(env, "deliver-nohook")
        expect_error(env.start(bare, delivery="webhook"), 422, "WEBHOOK_NOT_CONFIGURED")
    finally:
        n.stop()
        rx.stop()


def test_webhook_delivery_that_never_arrives_is_dead_and_fails(env):
    rx = Receiver(responses=[500, 503, 500, 500])
    t, key = tenant(env, "deliver-dead", webhook_url=rx.url)
    n = Notifier(env, webhook_retry_base_ms=100, webhook_max_attempts=2)
    try:
        st, _, body = env.start(key, delivery="webhook")
        vid = body["data"]["id"]
        env.wait("dead", lambda: ["verification.deliver", "dead", "2", "f"] in outbox(env, vid),
                 timeout=20)
        tries = [r for r in rx.requests if "verification.deliver" in r["body"]]
        check(len(tries) == 2 and tries[0]["headers"]["webhook-id"] ==
              tries[1]["headers"]["webhook-id"], "retried once, same id")
        v = get(env, key, vid)
        check(v["delivery"]["status"] == "FAILED" and v["status"] == "FAILED",
              "its code never reached the application: %r" % v)
        listed = env.ctl_json("outbox", "list", "--state", "dead", "--tenant", t["name"])
        dead = [e for e in listed if e["type"] == "verification.deliver"]
        check(len(dead) == 1, "listed dead: %r" % listed)
        env.ctl("outbox", "retry", str(dead[0]["id"]))
        env.wait("given up again", lambda: ["verification.deliver", "skipped", "1", "f"] in
                 outbox(env, vid), timeout=15)
        check(all("verification.deliver" not in r["body"] for r in rx.requests[len(tries) + 2:]),
              "a retried event whose code is gone sends nothing")
    finally:
        n.stop()
        rx.stop()


def test_custom_code(env):
    _, key = tenant(env, "custom")
    addr = env.new_address()
    st, _, body = env.start(key, addr, customCode="4711-93")
    check(st == 201 and "code" not in body["data"], "accepted: %d %r" % (st, body))
    vid = body["data"]["id"]
    check(env.code_from_mail(addr) == "471193", "mailed as given, normalized")
    expect_error(env.start(key, addr, customCode="471193", userId="other"), 409,
                 "CUSTOM_CODE_IN_USE")
    st, _, other = env.start(key, env.new_address(), customCode="471193")
    check(st == 201, "another address may use it")
    st, _, _ = verify(env, key, vid, "471193")
    check(st == 200, "it verifies")
    st, _, _ = env.start(key, addr, customCode="471193")
    check(st == 201, "once verified, the code is free again")
    st, _, body = env.start(key, delivery="none", customCode="k7m2", tokenFormat="alphanumeric")
    check(st == 201 and body["data"]["code"] == "K7M2", "upper-cased: %r" % body)
    for bad in [{"customCode": "123"}, {"customCode": "1234567890123"},
                {"customCode": "12a4"}, {"customCode": "ABCD", "tokenFormat": "numeric"},
                {"customCode": "ABC1", "tokenFormat": "alpha"},
                {"customCode": "ABC0", "tokenFormat": "alphanumeric"},
                {"customCode": "abcd", "tokenFormat": "hex"},
                {"customCode": "1234", "method": "MAGIC_LINK"}, {"customCode": ""}]:
        st, _, b = env.start(key, **bad)
        expect_error((st, _, b), 400, "INVALID_REQUEST")
        check("customCode" in b["error"]["message"], "%r: %r" % (bad, b))


def code_and_link(env, key, **fields):
    """A CODE_AND_LINK start and its mail: (id, code, link, the mail)."""
    addr = env.new_address()
    st, _, body = env.start(key, addr, method="CODE_AND_LINK", **fields)
    check(st == 201, "start: %d %r" % (st, body))
    check(body["data"]["method"] == "CODE_AND_LINK" and body["data"]["hostedVerifyUrl"],
          "%r" % body)
    msg = env.wait("the mail", lambda: env.mails_to(addr))[-1]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    code = env.code_from_mail(addr)
    link = LINK.search(text).group(1)
    check(code in html and link in html, "the HTML part has both too")
    return body["data"]["id"], code, link, msg


def test_code_and_link_link_first(env):
    _, key = tenant(env, "cal")
    vid, code, link, msg = code_and_link(env, key)
    check(msg["Subject"] == "Your verification code for %s" % msg["Subject"].split(" for ")[1],
          "its subject: %r" % msg["Subject"])
    text = msg.get_body(("plain",)).get_content()
    check("Or open this link to confirm your email address:" in text, "both, in words")
    path = urllib.parse.urlsplit(link).path
    st, _, page = env.request("GET", path)
    check(st == 200 and "Confirm my email address" in page, "the confirmation page")
    st, _, _ = env.request("POST", path, raw_body=b"",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 200, "confirmed")
    expect_error(verify(env, key, vid, code), 409, "ALREADY_VERIFIED")


def test_code_and_link_code_first(env):
    base = "http://127.0.0.1:%d" % env.http_port
    t, key = tenant(env, "cal-code")
    env.ctl("tenant", "update", t["name"], "--redirect-allow", base + "/done")
    vid, code, link, _ = code_and_link(env, key, redirectUrl=base + "/done")
    st, _, _ = verify(env, key, vid, code)
    check(st == 200, "the code verifies")
    st, h, _ = env.request("POST", urllib.parse.urlsplit(link).path, raw_body=b"",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 303 and "verified=false" in h["location"], "the link no longer works: %r" % h)


def test_code_and_link_code_on_the_hosted_page(env):
    _, key = tenant(env, "cal-hosted")
    vid, code, link, _ = code_and_link(env, key, customCode="2468-1357", delivery="smtp")
    check(code == "24681357", "a custom code in a code-and-link mail: %r" % code)
    form = urllib.parse.urlencode({"code": code}).encode()
    st, _, page = env.request("POST", "/v1/hosted/" + vid, raw_body=form,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 200 and "Email address confirmed" in page, "typed on the hosted page: %d" % st)
    st, _, page = env.request("GET", urllib.parse.urlsplit(link).path)
    check(st == 200 and "This email address is confirmed" in page,
          "the link now only says it is confirmed: %d" % st)


def test_code_and_link_share_the_attempts(env):
    _, key = tenant(env, "cal-tries")
    vid, code, link, _ = code_and_link(env, key, maxAttempts=2)
    wrong = "000000" if code != "000000" else "111111"
    expect_error(verify(env, key, vid, wrong), 422, "INVALID_CODE")
    expect_error(verify(env, key, vid, wrong), 422, "MAX_ATTEMPTS_EXCEEDED")
    st, _, _ = env.request("POST", urllib.parse.urlsplit(link).path, raw_body=b"",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 410, "the link of a failed verification does not confirm: %d" % st)
    check(get(env, key, vid)["status"] == "FAILED", "FAILED")


def test_code_and_link_in_every_shipped_language(env):
    _, key = tenant(env, "cal-lang")
    langs = sorted(os.path.basename(os.path.dirname(p)) for p in
                   glob.glob(os.path.join(env.src, "templates", "*", "messages.txt")))
    check(len(langs) >= 17, "the shipped languages: %r" % langs)
    for lang in langs:
        addr = env.new_address()
        st, _, body = env.start(key, addr, method="CODE_AND_LINK", locale=lang)
        check(st == 201 and body["data"]["locale"] == lang, "%s: %d %r" % (lang, st, body))
        msg = env.wait("the mail", lambda: env.mails_to(addr))[-1]
        text = msg.get_body(("plain",)).get_content()
        check(LINK.search(text) and re.search(r"^ {4}[0-9]{6}\r?$", text, re.M) and
              "{{" not in text and "code_and_link." not in text, "%s: %r" % (lang, text))


def test_code_and_link_clicked_in_chromium(env):
    base = "http://127.0.0.1:%d" % env.http_port
    t, key = tenant(env, "cal-browser")
    env.ctl("tenant", "update", t["name"], "--redirect-allow", base + "/done")
    vid, code, link, _ = code_and_link(env, key, redirectUrl=base + "/done?from=cal")
    out, _ = run_browser(env, {"link": link, "redirectPrefix": base + "/done"})
    check(out["linkLandedOn"] == base + "/done?from=cal&verified=true&verificationId=" + vid,
          "landed on the redirect: %s" % out["linkLandedOn"])
    expect_error(verify(env, key, vid, code), 409, "ALREADY_VERIFIED")


def test_hex_codes(env):
    _, key = tenant(env, "hex")
    addr = env.new_address()
    st, _, body = env.start(key, addr, tokenFormat="hex", codeLength=6, maxAttempts=3)
    check(st == 201, "start: %d %r" % (st, body))
    vid = body["data"]["id"]
    code = env.code_from_mail(addr)
    check(re.fullmatch(r"[0-9a-f]{64}", code), "64 lower-case hex digits, unbroken: %r" % code)
    html = env.mails_to(addr)[-1].get_body(("html",)).get_content()
    check(code in html, "unbroken in the HTML part too")
    st, _, b = verify(env, key, vid, code[:63])
    expect_error((st, _, b), 422, "INVALID_CODE")
    check(b["error"]["details"]["attemptsRemaining"] == 2, "counted: %r" % b)
    st, _, b = verify(env, key, vid, "g" + code[1:])
    expect_error((st, _, b), 422, "INVALID_CODE")
    check(b["error"]["details"]["attemptsRemaining"] == 1, "counted: %r" % b)
    # pasted into the hosted page, with the spaces a copy brings along
    form = urllib.parse.urlencode({"code": "  %s " % code.upper()}).encode()
    st, _, page = env.request("POST", "/v1/hosted/" + vid, raw_body=form,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 200 and "Email address confirmed" in page, "pasted: %d" % st)
    check(get(env, key, vid)["status"] == "VERIFIED", "VERIFIED")

    # handed over, and through the API
    st, _, body = env.start(key, tokenFormat="hex", delivery="none")
    check(re.fullmatch(r"[0-9a-f]{64}", body["data"]["code"] or ""), "%r" % body)
    st, _, _ = verify(env, key, body["data"]["id"], body["data"]["code"])
    check(st == 200, "verifies")
    st, _, b = env.start(key, tokenFormat="HEX")
    expect_error((st, _, b), 400, "INVALID_REQUEST")


def test_a_tenant_may_replace_the_code_and_link_templates(env):
    t, key = tenant(env, "cal-own")
    path = os.path.join(env.var, "tpl-%s" % os.urandom(4).hex())
    with open(path, "w") as f:
        f.write("Ours: {{code}} or {{link}}\n")
    env.ctl("template", "set", "--tenant", t["name"], "--name", "code_and_link.txt",
            "--file", path)
    with open(path, "w") as f:
        f.write("Ours: {{code}} only\n")
    rc, _, err = env.ctl("template", "set", "--tenant", t["name"], "--name",
                         "code_and_link.txt", "--file", path, check=False)
    check(rc != 0 and "{{link}}" in err, "one without the link is refused: %r" % err)
    out = env.ctl("template", "preview", "--tenant", t["name"], "--name",
                  "code_and_link.txt")[1]
    check(out.startswith("Ours: 123456 or http"), "preview: %r" % out)
    addr = env.new_address()
    st, _, body = env.start(key, addr, method="CODE_AND_LINK")
    text = env.wait("the mail", lambda: env.mails_to(addr))[-1].get_body(("plain",)).get_content()
    m = re.match(r"Ours: ([0-9]{6}) or (http://\S+/v1/link/[A-Za-z0-9_-]{43})\r?$", text, re.M)
    check(m, "its mail: %r" % text)
    st, _, _ = verify(env, key, body["data"]["id"], m.group(1))
    check(st == 200, "its code verifies")
    with open(path, "w") as f:
        f.write('<main><h1>{{title}}</h1><p>{{message}}</p><form method="post">'
                '<button>No</button></form></main>')
    env.ctl("template", "set", "--tenant", t["name"], "--name", "page-report.html",
            "--file", path)


def test_a_hex_code_pasted_in_chromium(env):
    _, key = tenant(env, "hex-browser")
    addr = env.new_address()
    st, _, body = env.start(key, addr, tokenFormat="hex")
    code = env.code_from_mail(addr)
    out, _ = run_browser(env, {"hosted": body["data"]["hostedVerifyUrl"], "code": code})
    check(out["inputmode"] == "text", "a text input for hex: %r" % out)
    check(out["hostedTitle"] == "Email address confirmed", "pasted and confirmed: %r" % out)


def deliver_rows(env, vid):
    """The verification's deliver events: (outbox id, state, attempts, sealed copy kept)."""
    return env.psql("SELECT id, state, attempts, sealed_secret IS NOT NULL FROM outbox"
                    " WHERE verification_id = :'p1' AND type = 'verification.deliver'"
                    " ORDER BY id", vid)


def test_a_resend_or_a_cancel_skips_the_waiting_deliver_events(env):
    rx = Receiver(responses=[500] * 100)
    t, key = tenant(env, "deliver-skip", webhook_url=rx.url)
    n = Notifier(env, webhook_retry_base_ms=3000, webhook_max_attempts=5)
    try:
        st, _, body = env.start(key, delivery="webhook")
        vid = body["data"]["id"]
        env.wait("a first failed try", lambda: deliver_rows(env, vid)[0][1:3] == ["pending", "1"],
                 timeout=15)
        env.past_cooldown(vid)
        st, _, _ = env.request("POST", "%s/%s/resend" % (API, vid), key=key)
        check(st == 200, "resend: %d" % st)
        rows = deliver_rows(env, vid)
        check(len(rows) == 2 and rows[0][1:] == ["skipped", "1", "f"] and rows[1][3] == "t",
              "the old code's event skipped and wiped, the new one waits: %r" % rows)
        with rx.lock:
            rx.responses.clear()
        env.wait("the new code delivered", lambda: deliver_rows(env, vid)[1][1] == "delivered",
                 timeout=15)
        codes = [e[1]["data"]["message"]["code"] for e in rx.events()
                 if e[1]["type"] == "verification.deliver"]
        check(len(codes) == 1, "only the new code went out: %r" % codes)
        check(get(env, key, vid)["delivery"]["status"] == "SENT", "SENT")
        # the skipped one, retried by hand, has nothing to send and changes nothing
        env.ctl("outbox", "retry", deliver_rows(env, vid)[0][0])
        env.wait("skipped again", lambda: deliver_rows(env, vid)[0][1:3] == ["skipped", "1"],
                 timeout=15)
        v = get(env, key, vid)
        check(v["status"] == "PENDING" and v["delivery"]["status"] == "SENT", "unchanged: %r" % v)
        st, _, _ = verify(env, key, vid, codes[0])
        check(st == 200, "the delivered code verifies")

        # canceled while its event waits: skipped, wiped, and the delivery says so
        with rx.lock:
            rx.responses.extend([500] * 100)
        st, _, body = env.start(key, delivery="webhook")
        vid = body["data"]["id"]
        env.wait("a failed try", lambda: deliver_rows(env, vid)[0][1:3] == ["pending", "1"],
                 timeout=15)
        st, _, _ = env.request("POST", "%s/%s/cancel" % (API, vid), key=key)
        check(st == 200, "canceled")
        check(deliver_rows(env, vid)[0][1:] == ["skipped", "1", "f"], "skipped, wiped")
        d = get(env, key, vid)["delivery"]
        check(d["status"] == "FAILED" and "CANCELED" in d["smtpReply"], "delivery: %r" % d)

        # a resend after the tenant lost its endpoint
        st, _, body = env.start(key, delivery="webhook")
        env.psql("UPDATE tenants SET webhook_url = NULL WHERE id = :'p1'", t["id"])
        env.past_cooldown(body["data"]["id"])
        expect_error(env.request("POST", "%s/%s/resend" % (API, body["data"]["id"]), key=key),
                     422, "WEBHOOK_NOT_CONFIGURED")
    finally:
        n.stop()
        rx.stop()


def test_a_handed_code_is_not_kept_for_a_same_code_resend(env):
    t, key = tenant(env, "none-same")
    env.ctl("tenant", "update", t["name"], "--resend-policy", "same_code")
    st, _, body = env.start(key, delivery="none", tokenFormat="alphanumeric", codeLength=12)
    vid, first = body["data"]["id"], body["data"]["code"]
    check(env.psql("SELECT sealed_code IS NULL FROM verifications WHERE id = :'p1'", vid) ==
          [["t"]], "nothing kept, not even sealed")
    env.past_cooldown(vid)
    st, _, again = env.request("POST", "%s/%s/resend" % (API, vid), key=key)
    check(st == 200 and again["data"]["code"] != first, "a new code: %r" % again)
    # a mailed code is kept for same_code, and wiped once it can no longer be used
    addr = env.new_address()
    st, _, body = env.start(key, addr)
    vid = body["data"]["id"]
    check(env.psql("SELECT sealed_code IS NOT NULL FROM verifications WHERE id = :'p1'", vid) ==
          [["t"]], "kept sealed for a resend")
    st, _, _ = verify(env, key, vid, env.code_from_mail(addr))
    check(st == 200 and env.psql("SELECT sealed_code IS NULL FROM verifications WHERE id ="
                                 " :'p1'", vid) == [["t"]], "wiped once verified")
