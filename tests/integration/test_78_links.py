"""Magic links and hosted pages over plain HTTP (issue 5): scanners' GET
and HEAD change nothing, the button's POST verifies once, redirects and
their tricks, the hosted OTP page, headers, and the per-address limit."""
import http.client
import os
import re
import subprocess

from harness import Master, check, expect_error, fcgi_request

REDIRECT = "https://shop.example.com/done"


def tenant(env):
    cache = env.__dict__.setdefault("_links", {})
    if not cache:
        t, k = env.tenant_with_key("links-" + os.urandom(4).hex())
        env.ctl("tenant", "update", t["name"], "--redirect-allow", REDIRECT,
                "--redirect-allow", "http://localhost:3000/")
        cache.update(id=t["id"], name=t["name"], key=k["key"])
    return cache


def start_link(env, **fields):
    key = tenant(env)["key"]
    addr = env.new_address()
    st, _, body = env.start(key, addr, method="MAGIC_LINK", **fields)
    check(st == 201, "start: %d %r" % (st, body))
    msgs = env.wait("the link mail", lambda: env.mails_to(addr))
    text = msgs[-1].get_body(("plain",)).get_content()
    link = re.search(r"(http://\S+/v1/link/[A-Za-z0-9_-]{43})\r?$", text, re.M).group(1)
    return body["data"], link, msgs[-1]


def page_req(env, method, url, body=None, headers=None):
    path = url.split("127.0.0.1:%d" % env.http_port, 1)[1]
    c = http.client.HTTPConnection("127.0.0.1", env.http_port, timeout=10)
    h = dict(headers or {})
    if body is not None:
        h.setdefault("Content-Type", "application/x-www-form-urlencoded")
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode())
    c.close()
    return out


def status_of(env, vid):
    return env.request("GET", "/v1/verifications/email/" + vid,
                       key=tenant(env)["key"])[2]["data"]


def test_magic_link_start_and_mail(env):
    d, link, msg = start_link(env, redirectUrl=REDIRECT + "?lang=de")
    check(d["method"] == "MAGIC_LINK" and d["status"] == "PENDING" and d["sent"] is True,
          "answer: %r" % d)
    check(d["hostedVerifyUrl"] is None, "no hosted code page for a link")
    check(msg["Subject"] == "Confirm your email address for " + tenant(env)["name"],
          "default subject, naming the tenant: %r" % msg["Subject"])
    check(link in msg.get_body(("html",)).get_content(), "the link in the HTML part too")
    token = link.rsplit("/", 1)[1]
    dump = subprocess.run(["pg_dump", "-h", "127.0.0.1", "-p", str(env.pg_port), "-U",
                           "mailproof", "-d", "mailproof", "--data-only"],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    check(token not in dump, "the token is stored only as a hash")


def test_get_and_head_change_nothing_but_count_views(env):
    d, link, _ = start_link(env, redirectUrl=REDIRECT)
    for method in ("GET", "HEAD", "GET"):
        st, h, body = page_req(env, method, link)
        check(st == 200, "%s: %d" % (method, st))
    check("<form method=\"post\"" in body and "<button" in body and "<script" not in body,
          "a page with a button and no script")
    got = status_of(env, d["id"])
    check(got["status"] == "PENDING" and got["linkViews"] == 3, "unchanged, 3 views: %r" % got)


def test_confirming_post_redirects_once(env):
    d, link, _ = start_link(env, redirectUrl=REDIRECT + "?lang=de#top")
    st, h, _ = page_req(env, "POST", link, body="")
    check(st == 303, "303: %d" % st)
    check(h["location"] == REDIRECT + "?lang=de&verified=true&verificationId=%s#top" % d["id"],
          "location keeps the query: %s" % h["location"])
    got = status_of(env, d["id"])
    check(got["status"] == "VERIFIED" and got["verifiedAt"], "verified")
    types = [r[0] for r in env.psql("SELECT type FROM outbox WHERE verification_id = :'p1'"
                                    " ORDER BY id", d["id"])]
    check(types == ["verification.initiated", "email.verified"], "events: %r" % types)
    st, h, _ = page_req(env, "POST", link, body="")
    check(st == 303 and h["location"] == REDIRECT +
          "?lang=de&verified=false&error=invalid-or-expired-token#top", "reuse: %r" % h)
    st, _, body = page_req(env, "GET", link)
    check(st == 200 and "This email address is confirmed" in body and "cannot be used" not in body,
          "reopened after it worked, the page says the address is confirmed: %d" % st)


def test_expired_canceled_and_unknown_tokens(env):
    key = tenant(env)["key"]
    d, link, _ = start_link(env, redirectUrl=REDIRECT)
    env.psql("UPDATE verifications SET expires_at = now() - interval '1 second' WHERE id = :'p1'",
             d["id"])
    st, h, _ = page_req(env, "POST", link, body="")
    check(st == 303 and "verified=false&error=invalid-or-expired-token" in h["location"],
          "expired: %d %r" % (st, h.get("location")))
    d, link, _ = start_link(env, redirectUrl=REDIRECT)
    env.request("POST", "/v1/verifications/email/%s/cancel" % d["id"], key=key)
    st, h, _ = page_req(env, "POST", link, body="")
    check(st == 303 and "verified=false" in h["location"], "canceled")
    for bad in ("A" * 43, "short", "A" * 42 + "!"):
        st, h, body = page_req(env, "POST", "http://127.0.0.1:%d/v1/link/%s" % (env.http_port, bad),
                           body="")
        check(st == 410 and "location" not in h, "unknown %s: %d" % (bad, st))


def test_without_redirect_a_hosted_result_page(env):
    d, link, _ = start_link(env)
    st, h, body = page_req(env, "POST", link, body="")
    check(st == 200 and "confirmed" in body, "result page: %d" % st)
    check(status_of(env, d["id"])["status"] == "VERIFIED", "verified")
    st, h, body = page_req(env, "POST", link, body="")
    check(st == 200 and "<title>Email address confirmed</title>" in body and
          "cannot be used" not in body, "pressed again: already confirmed: %d" % st)


def test_open_redirect_tricks_are_refused(env):
    key = tenant(env)["key"]
    for url in ("https://evil.example/done", "https://shop.example.com.evil.example/done",
                "https://shop.example.com@evil.example/done", "//evil.example/done",
                "https:\\\\evil.example/done", "https://shop.example.com\\@evil.example/done",
                "javascript:alert(1)", "https://shop.example.com/doneevil",
                "http://shop.example.com/done", "https://shop.example.com:8443/done",
                "https://user:pw@shop.example.com/done", "/done", "data:text/html,x"):
        expect_error(env.start(key, method="MAGIC_LINK", redirectUrl=url), 400,
                     "REDIRECT_NOT_ALLOWED")
    expect_error(env.start(key, redirectUrl=REDIRECT), 400, "INVALID_REQUEST")
    expect_error(env.start(key, method="MAGIC_LINK", tokenFormat="alpha"), 400, "INVALID_REQUEST")
    t, k = env.tenant_with_key("noredirect-" + os.urandom(4).hex())
    expect_error(env.start(k["key"], method="MAGIC_LINK", redirectUrl=REDIRECT), 400,
                 "REDIRECT_NOT_ALLOWED")


def test_resend_of_a_link_kills_the_old_one(env):
    key = tenant(env)["key"]
    d, old, _ = start_link(env, redirectUrl=REDIRECT)
    env.past_cooldown(d["id"])
    st, _, body = env.request("POST", "/v1/verifications/email/%s/resend" % d["id"], key=key)
    check(st == 200, "resend: %d %r" % (st, body))
    msgs = env.wait("second mail", lambda: len(env.mails_to(d["email"])) == 2 and
                    env.mails_to(d["email"]))
    new = re.search(r"(http://\S+/v1/link/[A-Za-z0-9_-]{43})\r?$",
                    msgs[1].get_body(("plain",)).get_content(), re.M).group(1)
    check(new != old, "a new link")
    st, h, _ = page_req(env, "POST", old, body="")
    check(st == 410 and "location" not in h, "the old token is unknown now: %d" % st)
    check("verified=true" in page_req(env, "POST", new, body="")[1]["location"], "new link works")


def test_link_confirm_page_off_verifies_on_get(env):
    d, link, _ = start_link(env)
    m = Master(env, link_confirm_page="false")
    try:
        path = "/v1/link/" + link.rsplit("/", 1)[1]
        st, _, body = fcgi_request(("127.0.0.1", m.port), {"REQUEST_URI": path,
                                                           "REMOTE_ADDR": "192.0.2.7"})
        check(st == 200 and b"confirmed" in body, "GET verified at once: %d" % st)
        check(status_of(env, d["id"])["status"] == "VERIFIED", "VERIFIED")
    finally:
        m.stop()


def test_hosted_pages_carry_every_header(env):
    d, link, _ = start_link(env, redirectUrl=REDIRECT)
    key = tenant(env)["key"]
    st, _, body = env.start(key)
    otp_url = body["data"]["hostedVerifyUrl"]
    for url in (link, otp_url):
        st, h, page = page_req(env, "GET", url)
        check(st == 200, "%s: %d" % (url, st))
        csp = h.get("content-security-policy", "")
        check("default-src 'none'" in csp and "frame-ancestors 'none'" in csp and
              "unsafe-inline" not in csp and "style-src 'sha256-" in csp, "CSP: %s" % csp)
        check(h.get("cache-control") == "no-store" and h.get("referrer-policy") == "no-referrer"
              and h.get("x-frame-options") == "DENY" and h.get("x-content-type-options") ==
              "nosniff", "headers: %r" % h)
        check(h["content-type"].startswith("text/html"), "html")
        check(page.startswith("<!DOCTYPE html>") and '<html lang="en" dir="ltr">' in page and
              'name="viewport"' in page, "HTML5 with lang and viewport")
        check(not re.search(r'(src|href)="(https?:)?//', page) and "<script" not in page
              and "<link" not in page, "no external assets, no script")
    check("form-action 'self' https://shop.example.com:443" in
          page_req(env, "GET", link)[1]["content-security-policy"], "the redirect may follow the POST")
    page = page_req(env, "GET", otp_url)[2]
    check('<label for="code">' in page and 'id="code"' in page and
          'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page,
          "labelled code input with one-time-code: %s" % page)


def test_hosted_pages_are_valid_html(env):
    """Every kind of page through HTML Tidy; tidy 5.6 predates two attributes
    the HTML standard has (inputmode, autocapitalize), which are allowed."""
    known = re.compile(r'proprietary attribute "(inputmode|autocapitalize)"')
    key = tenant(env)["key"]
    d, link, _ = start_link(env)
    otp = env.start(key)[2]["data"]["hostedVerifyUrl"]
    pages = [page_req(env, "GET", link), page_req(env, "GET", otp),
             page_req(env, "POST", otp, body="code=1"), page_req(env, "POST", link, body=""),
             page_req(env, "GET", link)]
    for st, _, html in pages:
        p = subprocess.run(["tidy", "-errors", "-quiet"], input=html, capture_output=True,
                           text=True, timeout=30)
        problems = [l for l in p.stderr.splitlines() if l.strip() and not known.search(l)]
        check(problems == [], "tidy on a %d page: %r" % (st, problems))


def test_hosted_otp_page_counts_attempts_like_the_api(env):
    key = tenant(env)["key"]
    addr = env.new_address()
    d = env.start(key, addr)[2]["data"]
    code = env.code_from_mail(addr)
    url = d["hostedVerifyUrl"]
    st, _, page = page_req(env, "POST", url, body="code=000000" if code != "000000" else "code=1")
    check(st == 422 and "2 attempts left" in page, "wrong code: %d" % st)
    check(status_of(env, d["id"])["attempts"] == 1, "counted like the API")
    st, _, page = page_req(env, "POST", url, body="code=" + code)
    check(st == 200 and "confirmed" in page, "right code: %d" % st)
    check(status_of(env, d["id"])["status"] == "VERIFIED", "VERIFIED")
    st, _, page = page_req(env, "GET", url)
    check("confirmed" in page, "the page says so afterwards")
    st, _, page = page_req(env, "POST", url, body='{"code":"1"}',
                       headers={"Content-Type": "application/json"})
    check(st == 415, "only the form: %d" % st)
    st, _, page = page_req(env, "GET", "http://127.0.0.1:%d/v1/hosted/ev_00000000000000000000000000"
                       % env.http_port)
    check(st == 404, "unknown id: %d" % st)


def test_hosted_pages_are_limited_per_client_address(env):
    d, link, _ = start_link(env)
    m = Master(env, rate_per_ip_per_minute=3, trusted_proxies="10.9.9.9")
    path = "/v1/link/" + link.rsplit("/", 1)[1]
    try:
        import time
        if time.gmtime().tm_sec > 50:
            time.sleep(61 - time.gmtime().tm_sec)
        ip = "198.51.100.%d" % (os.getpid() % 200 + 1)

        def get(remote, xff=None):
            p = {"REQUEST_URI": path, "REMOTE_ADDR": remote}
            if xff:
                p["HTTP_X_FORWARDED_FOR"] = xff
            return fcgi_request(("127.0.0.1", m.port), p)

        check([get(ip)[0] for _ in range(3)] == [200, 200, 200], "three allowed")
        st, h, _ = get(ip)
        check(st == 429 and 1 <= int(h["retry-after"]) <= 60, "the fourth: %d %r" % (st, h))
        # an untrusted sender cannot pick its address with X-Forwarded-For
        check(get(ip, xff="203.0.113.5")[0] == 429, "X-Forwarded-For ignored from a client")
        # behind the trusted proxy the forwarded address counts
        check(get("10.9.9.9", xff=ip)[0] == 429, "the forwarded client is the same client")
        check(get("10.9.9.9", xff="203.0.113.%d" % (os.getpid() % 200 + 1))[0] == 200,
              "another client behind the proxy is not")
    finally:
        m.stop()


def test_pages_are_templates_a_designer_can_change(env):
    """The pages come from template_dir (page.html, page.css, page-*.html):
    a restyle needs no compiler, the CSP follows the new style, values stay
    text, and a missing template is a plain 500, not a crash."""
    import base64
    import hashlib
    import shutil
    import tempfile

    tid = tenant(env)["id"]
    vid = env.insert_verification(tid)
    d = tempfile.mkdtemp(prefix="mailproof-templates-")
    try:
        shutil.copytree(os.path.join(env.src, "templates"), d, dirs_exist_ok=True)
        css = "body{background:#fde}/* designer */\n"
        with open(os.path.join(d, "page.css"), "w") as f:
            f.write(css)
        with open(os.path.join(d, "page.html")) as f:
            layout = f.read()
        with open(os.path.join(d, "page.html"), "w") as f:
            f.write(layout.replace("<main>", '<main><p class="brand">Shop {{title}}</p>'))
        m = Master(env, template_dir=d, rate_per_ip_per_minute=0)
        try:
            st, h, page = fcgi_request(("127.0.0.1", m.port),
                                       {"REQUEST_URI": "/v1/hosted/" + vid})
            page = page.decode()
            check(st == 200, "status %d" % st)
            check('<p class="brand">Shop Enter your verification code</p>' in page and
                  '<input id="code"' in page, page)
            check("<style>%s</style>" % css in page, "the designer's style")
            want = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
            check("style-src 'sha256-%s'" % want in h.get("content-security-policy", ""),
                  "CSP of the new style: %r" % h)
            # a value is never markup: the title is text even in the layout
            check("<title>Enter your verification code</title>" in page, "title")
            os.remove(os.path.join(d, "page-otp.html"))
            st, h, page = fcgi_request(("127.0.0.1", m.port),
                                       {"REQUEST_URI": "/v1/hosted/" + vid})
            check(st == 500 and h.get("content-type", "").startswith("text/plain"),
                  "missing template: %d %r" % (st, h))
            st = fcgi_request(("127.0.0.1", m.port), {"REQUEST_URI": "/healthz"})[0]
            check(st == 200, "still serving after a missing template: %d" % st)
        finally:
            m.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_the_dev_stack_redirect_target_shows_the_query(env):
    """The README's magic link lands on a page of the dev stack, not a 404."""
    base = "http://127.0.0.1:%d" % env.http_port
    t, k = env.tenant_with_key("done-" + os.urandom(4).hex())
    env.ctl("tenant", "update", t["name"], "--redirect-allow", base + "/done")
    addr = env.new_address()
    st, _, body = env.start(k["key"], addr, method="MAGIC_LINK", redirectUrl=base + "/done")
    check(st == 201, "start: %d" % st)
    text = env.wait("the mail", lambda: env.mails_to(addr))[-1].get_body(("plain",)).get_content()
    link = re.search(r"(http://\S+/v1/link/[A-Za-z0-9_-]{43})\r?$", text, re.M).group(1)
    st, h, _ = page_req(env, "POST", link, body="")
    check(st == 303, "303: %d" % st)
    st, _, page = page_req(env, "GET", h["location"])
    check(st == 200 and "verified=true&verificationId=" + body["data"]["id"] in page,
          "the page shows the query: %d %r" % (st, page))
