""""Didn't ask for this? Tell us." (issue 13): every mail carries the link;
its GET only asks, its POST cancels the verification, puts the address on
the tenant's suppression list, emits email.reported and counts the report;
the next start for the address is 422.  In every shipped language and
template, in a tenant's own template too, and in Chromium without
JavaScript."""
import os
import re

from harness import Notifier, Receiver, check, expect_error, verify_signatures
from test_79_browser import run_browser

REPORT = re.compile(r"(http://\S+/v1/report/[A-Za-z0-9_-]{43})")


def setup(env):
    env.service("notifier", "stop")


def teardown(env):
    env.service("notifier", "start")


def report_link(env, addr, index=-1):
    msg = env.wait("the mail", lambda: env.mails_to(addr))[index]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    m = REPORT.search(text)
    check(m and ('href="%s"' % m.group(1)) in html, "the link in both parts: %s" % text)
    return m.group(1), text, html


def catalogue(env, locale):
    out = {}
    with open(os.path.join(env.src, "templates", locale, "messages.txt"), encoding="utf-8") as f:
        for line in f:
            k, sep, v = line.partition(" = ")
            if sep and not line.startswith("#"):
                out[k.strip()] = v.strip()
    return out


def test_report_end_to_end(env):
    rx = Receiver()
    t, k = env.tenant_with_key("report-" + os.urandom(4).hex(), webhook_url=rx.url)
    key = k["key"]
    addr = env.new_address()
    other = env.start(key, addr, userId="another-account")[2]["data"]["id"]
    vid = env.start(key, addr)[2]["data"]["id"]
    link, text, _ = report_link(env, addr)
    check("Didn't ask for this? Tell us." in text, "the line: %s" % text)
    path = link.split("127.0.0.1:%d" % env.http_port, 1)[1]
    st, h, page = env.request("GET", path)
    check(st == 200 and ("I didn&#39;t ask for this" in page or "I didn't ask for this" in page),
          "the page asks: %d %s" % (st, page[:300]))
    got = env.request("GET", "/v1/verifications/email/" + vid, key=key)[2]["data"]
    check(got["status"] == "PENDING" and got["reportedAt"] is None, "a GET changes nothing")
    st, _, page = env.request("POST", path, raw_body=b"",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 200 and "Thank you for telling us" in page, "thanks: %d %s" % (st, page[:300]))
    got = env.request("GET", "/v1/verifications/email/" + vid, key=key)[2]["data"]
    check(got["status"] == "CANCELED" and got["reportedAt"], "canceled: %r" % got)
    got = env.request("GET", "/v1/verifications/email/" + other, key=key)[2]["data"]
    check(got["status"] == "CANCELED", "the address's other one too: %r" % got)
    listed = env.ctl_json("suppression", "list", "--tenant", t["name"])
    check([(x["email"], x["reason"]) for x in listed] == [(addr.lower(), "reported")],
          "on the list: %r" % listed)
    # again: still thanks, counted once
    check(env.request("POST", path, raw_body=b"")[0] == 200, "a second POST")
    n = Notifier(env, args=["--once"])
    check(n.wait() == 0, "--once")
    reported = [r for r in rx.requests if '"email.reported"' in r["body"]]
    check(len(reported) == 1 and verify_signatures(env, t["webhookSecret"], reported) == ["ok"],
          "email.reported delivered once, signed: %r" % [r["body"][:80] for r in rx.requests])
    expect_error(env.start(key, addr), 422, "EMAIL_SUPPRESSED")
    stats = env.ctl_json("stats", "--tenant", t["name"])
    check(stats["reports"] == {"reported": 1}, "stats: %r" % stats)
    st, _, metrics = env.request("GET", "/metrics")
    check('mailproof_reports_total{tenant="%s"} 1' % t["name"] in metrics, "in /metrics")
    rx.stop()
    for bad in ("/v1/report/" + "A" * 43, "/v1/report/short", "/v1/report/" + "%" * 43):
        st, _, page = env.request("GET", bad)
        check(st == 410 and "cannot be used" in page, "%s: %d" % (bad, st))


def test_every_language_and_template_carries_the_line(env):
    t, k = env.tenant_with_key("report-all-" + os.urandom(4).hex())
    env.ctl("tenant", "update", t["name"], "--redirect-allow",
            "http://127.0.0.1:%d/done" % env.http_port)
    locales = sorted(d for d in os.listdir(os.path.join(env.src, "templates"))
                     if os.path.isfile(os.path.join(env.src, "templates", d, "messages.txt")))
    check(len(locales) == 17, "17 languages: %r" % locales)
    for locale in locales:
        line = catalogue(env, locale)["report.line"]
        for method in ("OTP", "MAGIC_LINK"):
            addr = env.new_address()
            extra = {"redirectUrl": "http://127.0.0.1:%d/done" % env.http_port} \
                if method == "MAGIC_LINK" else {}
            st, _, body = env.start(k["key"], addr, locale=locale, method=method, **extra)
            check(st == 201, "%s %s: %d %r" % (locale, method, st, body))
            link, text, html = report_link(env, addr)
            check(line in text and (line.replace("'", "&#39;") in html or line in html),
                  "%s %s: the line %r" % (locale, method, line))
            path = link.split("127.0.0.1:%d" % env.http_port, 1)[1]
            check(env.request("GET", path)[0] == 200, "%s %s: the link works" % (locale, method))


def test_a_tenants_own_template_gets_the_line_too(env):
    t, k = env.tenant_with_key("report-own-" + os.urandom(4).hex())
    d = os.path.join(env.var, "own-%s" % t["name"])
    os.makedirs(d, exist_ok=True)
    for name, text in (("otp.txt", "Your code: {{code}}\n"),
                       ("otp.html", "<html><body><p>Your code: {{code}}</p></body></html>\n")):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
        env.ctl("template", "set", "--tenant", t["name"], "--name", name, "--file",
                os.path.join(d, name))
    addr = env.new_address()
    env.start(k["key"], addr)
    link, text, html = report_link(env, addr)
    check(text.startswith("Your code: ") and "Didn't ask for this? Tell us." in text,
          "appended to the text: %s" % text)
    check(html.index(link) < html.index("</body>"), "inside the body: %s" % html)


def test_report_in_chromium_without_javascript(env):
    t, k = env.tenant_with_key("report-browser-" + os.urandom(4).hex())
    addr = env.new_address()
    vid = env.start(k["key"], addr)[2]["data"]["id"]
    link, _, _ = report_link(env, addr)
    out, artifacts = run_browser(env, {"report": link})
    check(out["reportTitle"] == "Didn't ask for this email?" and
          out["reportedTitle"] == "Thank you for telling us", "the pages: %r" % out)
    check(out["cspViolations"] == [], "no CSP violation: %r" % out["cspViolations"])
    got = env.request("GET", "/v1/verifications/email/" + vid, key=k["key"])[2]["data"]
    check(got["status"] == "CANCELED", "canceled: %r" % got)
    check(os.path.getsize(os.path.join(artifacts, "report-done-360.png")) > 1000, "screenshot")
