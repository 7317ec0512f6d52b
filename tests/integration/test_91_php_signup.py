"""The PHP signup example (examples/php-signup) as the stack serves it:
Debian's Apache with mod_php and the shipped snippet, the PHP client, and
SQLite.  Chromium types an address and the code from the caught mail; the
notifier's signed email.verified webhook marks the user in SQLite."""
import json
import os
import sqlite3
import subprocess
import time
import urllib.request

from harness import check


def signup_url(env):
    return "http://127.0.0.1:%s/" % env.conf["SIGNUP_PORT"]


def user_row(env, email):
    db = sqlite3.connect(os.path.join(env.var, "signup", "signup.sqlite"), timeout=5)
    try:
        return db.execute("SELECT verification_id, verified_at FROM users WHERE email = ?",
                          (email,)).fetchone()
    finally:
        db.close()


class Browser:
    def __init__(self, env, job):
        artifacts = os.path.join(env.var, "artifacts")
        os.makedirs(artifacts, exist_ok=True)
        job = dict(job, artifacts=artifacts)
        self.proc = subprocess.Popen(
            ["node", os.path.join(env.src, "tests", "node", "signup.mjs")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.send(json.dumps(job))

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def page(self):
        line = self.proc.stdout.readline()
        check(line, "the browser ended early")
        out = json.loads(line)
        check("error" not in out, "browser error: %s" % out.get("error"))
        return out

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(30)


def test_signup_with_a_code_in_chromium_and_the_webhook_marks_the_user(env):
    email = env.new_address("signup")
    b = Browser(env, {"url": signup_url(env), "email": email})
    try:
        page = b.page()
        check(page["title"] == "Enter your code", "after the form: %r" % page)
        vid, verified_at = user_row(env, email)
        check(vid.startswith("ev_") and verified_at is None, "the new user: %r" % ((vid, verified_at),))
        b.send("000000" if env.code_from_mail(email) != "000000" else "111111")
        page = b.page()
        check(page["title"] == "Enter your code" and "2 tries left" in (page["alert"] or ""),
              "a wrong code: %r" % page)
        b.send(env.code_from_mail(email))
        page = b.page()
        check(page["title"] == "Your address is verified" and email in page["text"],
              "the right code: %r" % page)
    finally:
        b.close()
    # the notifier delivers email.verified to webhook.php, which marks the user
    row = env.wait("the webhook to mark the user", lambda: (user_row(env, email) or (0, None))[1],
                   timeout=30)
    check(row.startswith("20"), "verified_at: %r" % row)
    st, _, body = env.request("GET", "/v1/verifications/email/" + vid,
                              key=open(os.path.join(env.var, "signup", "key")).read().strip())
    check(st == 200 and body["data"]["status"] == "VERIFIED", "GET: %s %r" % (st, body))


def test_signup_with_a_link_says_it_is_on_its_way(env):
    email = env.new_address("signup-link")
    b = Browser(env, {"url": signup_url(env), "email": email, "method": "MAGIC_LINK"})
    try:
        page = b.page()
    finally:
        b.close()
    check(page["title"] == "Check your inbox" and email in page["text"], "%r" % page)
    mails = env.wait("the link mail", lambda: env.mails_to(email))
    check("/v1/link/" in mails[-1].get_body(("plain",)).get_content(), "a link in the mail")


def post_webhook(env, body, headers):
    req = urllib.request.Request(signup_url(env) + "webhook.php", data=body, method="POST",
                                 headers=dict(headers, **{"Content-Type": "application/json"}))
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_the_example_webhook_refuses_a_forged_or_stale_event(env):
    """A forged email.verified must not mark anyone: the user stays unverified."""
    import base64
    import hashlib
    import hmac
    email = env.new_address("signup-forged")
    b = Browser(env, {"url": signup_url(env), "email": email})
    try:
        check(b.page()["title"] == "Enter your code", "the code page")
    finally:
        b.close()
    vid = user_row(env, email)[0]
    body = json.dumps({"type": "email.verified", "timestamp": "2026-11-30T10:00:00.000Z",
                       "data": {"id": vid, "verifiedAt": "2026-11-30T10:00:00.000Z"}}).encode()
    secret = open(os.path.join(env.var, "signup", "whsec")).read().strip()
    key = base64.b64decode(secret[len("whsec_"):])

    def signed(ts, k):
        sig = base64.b64encode(hmac.new(k, b"msg_forged.%d.%s" % (ts, body),
                                        hashlib.sha256).digest()).decode()
        return {"webhook-id": "msg_forged", "webhook-timestamp": str(ts),
                "webhook-signature": "v1," + sig}
    now = int(time.time())
    check(post_webhook(env, body, signed(now, b"not the secret")) == 400, "a forged signature")
    check(post_webhook(env, body, signed(now - 3600, key)) == 400, "an hour-old timestamp")
    check(post_webhook(env, body, {}) == 400, "no signature at all")
    check(user_row(env, email)[1] is None, "a refused event marked the user")
    # the same event, rightly signed, is taken: the refusals above were the signature's
    check(post_webhook(env, body, signed(now, key)) == 204, "a good signature")
    check(user_row(env, email)[1] is not None, "the signed event marks the user")
