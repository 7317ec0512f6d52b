"""A tenant's own templates, stored in the database (issue 10): mailproofctl
template set/list/show/delete/preview, the checks on upload, the order in
which they are found, and every app process serving them at once."""
import os
import re

from harness import Master, check, fcgi_request

OTP_DE = """<!DOCTYPE html>
<html lang="{{lang}}"><head><meta charset="utf-8"><title>{{subject}}</title></head>
<body><h1>TENANT-DE {{brand}}</h1><p>{{msg.otp.intro}}</p><p><b>{{code}}</b></p>
<p>{{msg.otp.expires}}</p>{{#logo}}<img src="{{logo}}" alt="">{{/logo}}</body></html>
"""


def tenant(env, display=None):
    t, k = env.tenant_with_key("tpl-" + os.urandom(4).hex())
    if display:
        env.ctl("tenant", "update", t["name"], "--display-name", display)
    return t["name"], k["key"]


def put(env, tenant_name, template, body, *extra, ok=True):
    path = os.path.join(env.var, "tpl-%s" % os.urandom(4).hex())
    with open(path, "wb") as f:
        f.write(body.encode() if isinstance(body, str) else body)
    return env.ctl("template", "set", "--tenant", tenant_name, "--name", template, "--file", path,
                   *extra, check=ok)


def mail(env, key, **fields):
    addr = env.new_address()
    st, _, body = env.start(key, addr, **fields)
    check(st == 201, "start: %d %r" % (st, body))
    return body["data"], env.wait("a mail", lambda: env.mails_to(addr))[-1]


def test_a_tenant_template_replaces_the_shipped_one_for_its_locale_only(env):
    name, key = tenant(env, display="<script>alert(1)</script> Shop")
    put(env, name, "otp.html", OTP_DE, "--locale", "de")
    d, m = mail(env, key, locale="de")
    html = m.get_body(("html",)).get_content()
    text = m.get_body(("plain",)).get_content()
    code = re.search(r"^ {4}(\S+)\r?$", text, re.M).group(1)
    check("TENANT-DE" in html and "<b>%s</b>" % code in html, "the tenant's HTML: %r" % html)
    check("&lt;script&gt;alert(1)&lt;/script&gt; Shop" in html and "<script>" not in html,
          "the display name stays text in the tenant's template")
    check("Ihr Bestätigungscode lautet:" in html and "15 Minuten" in html,
          "its {{msg...}} are German: %r" % html)
    check("TENANT-DE" not in text, "the text part is still the shipped one")
    _, m = mail(env, key, locale="fr")
    check("TENANT-DE" not in m.get_body(("html",)).get_content(), "French: the shipped HTML")
    # a template for every language serves the others; de keeps its own
    put(env, name, "otp.html", OTP_DE.replace("TENANT-DE", "TENANT-ALL"))
    _, m = mail(env, key, locale="fr")
    check("TENANT-ALL" in m.get_body(("html",)).get_content(), "every language's template")
    _, m = mail(env, key, locale="de")
    check("TENANT-DE" in m.get_body(("html",)).get_content(), "de's own comes first")
    put(env, name, "otp.subject", "{{brand}} – {{msg.otp.intro}} ({{expires}})")
    _, m = mail(env, key, locale="de")
    check(str(m["Subject"]) == "<script>alert(1)</script> Shop – Ihr Bestätigungscode lautet: "
          "(15 Minuten)", "the tenant's subject: %r" % str(m["Subject"]))
    _, m = mail(env, key, locale="de", subject="The request's own")
    check(str(m["Subject"]) == "The request's own", "the request's subject wins")


def test_uploads_are_checked(env):
    name, _ = tenant(env)
    cases = [
        ("otp.html", "<p>no code here</p>", "must have {{code}}"),
        ("otp.txt", "{{code}} {{secret_key}}", "unknown or unclosed placeholder {{secret_key}}"),
        ("otp.txt", "{{code}} {{msg.no.such.key}}", "{{msg.no.such.key}}"),
        ("otp.txt", "{{code}} {{#logo}}no end", "{{#logo}}"),
        ("link.html", "<p><b>{{link}}</p></b>", "not HTML that parses"),
        ("link.html", "<p>{{link}}<script>x()</script></p>", "<script>"),
        ("link.html", '<a href="{{link}}" onclick="x()">go</a>', "event handler"),
        ("link.html", "<a href={{link}}>go</a>", "without quotes"),
        ("otp.subject", "Your code\nBcc: x@evil.example", "one line"),
        ("page.css", "</style><h1>x</h1>", "page.css must not have"),
        ("page-otp.html", "<p>{{message}}</p>", 'name="code"'),
        ("otp.txt", b"{{code}} caf\xe9", "UTF-8"),
        ("otp.txt", "{{code}}" + "x" * 70000, "larger than 65536 bytes"),
        ("secrets.txt", "{{code}}", "--name must be one of"),
    ]
    for template, body, why in cases:
        rc, _, err = put(env, name, template, body, ok=False)
        check(rc == 1 and why in err, "%s %r: %d %r" % (template, body[:30], rc, err))
    rc, _, err = put(env, name, "otp.txt", "{{code}}", "--locale", "xx", ok=False)
    check(rc == 1 and "--locale must be a language" in err, "unknown locale: %r" % err)
    rc, _, err = put(env, "no-such-tenant", "otp.txt", "{{code}}", ok=False)
    check(rc == 1 and "no tenant named" in err, "unknown tenant: %r" % err)
    check(env.ctl_json("template", "list", "--tenant", name) == [], "nothing was stored")


def test_list_show_delete_and_preview(env):
    name, key = tenant(env, display="Shop Y")
    put(env, name, "otp.html", OTP_DE, "--locale", "de")
    put(env, name, "link.txt", "{{link}} / {{msg.link.expires}}\n")
    rows = env.ctl_json("template", "list", "--tenant", name)
    check([(r["name"], r["locale"]) for r in rows] == [("link.txt", None), ("otp.html", "de")],
          "list: %r" % rows)
    shown = env.ctl("template", "show", "--tenant", name, "--name", "otp.html", "--locale",
                    "de")[1]
    check(shown == OTP_DE, "show gives back the text")
    out = env.ctl("template", "preview", "--tenant", name, "--name", "link.txt", "--locale",
                  "ja")[1]
    check("/v1/link/SAMPLE" in out and "15分" in out, "preview of the stored one: %r" % out)
    path = os.path.join(env.var, "preview.html")
    new = os.path.join(env.var, "new-otp.html")
    with open(new, "w") as f:
        f.write(OTP_DE.replace("TENANT-DE", "NOT-YET-LIVE"))
    env.ctl("template", "preview", "--tenant", name, "--name", "otp.html", "--locale", "de",
            "--file", new, "--out", path)
    with open(path) as f:
        html = f.read()
    check("NOT-YET-LIVE Shop Y" in html and "<b>123456</b>" in html, "preview of a file: %r" % html)
    _, m = mail(env, key, locale="de")
    check("TENANT-DE" in m.get_body(("html",)).get_content(), "a preview changes nothing live")
    page = env.ctl("template", "preview", "--tenant", name, "--name", "page.html")[1]
    check("<h1>Enter your verification code</h1>" in page and 'name="code"' in page,
          "a page's preview: %r" % page)
    env.ctl("template", "delete", "--tenant", name, "--name", "otp.html", "--locale", "de")
    rc, _, err = env.ctl("template", "delete", "--tenant", name, "--name", "otp.html",
                         "--locale", "de", check=False)
    check(rc == 1 and "no template" in err, "deleted once: %r" % err)
    _, m = mail(env, key, locale="de")
    check("TENANT-DE" not in m.get_body(("html",)).get_content(), "the shipped one again")


def test_every_app_process_serves_a_new_template_at_once(env):
    name, key = tenant(env)
    other = Master(env, rate_per_ip_per_minute=0)
    try:
        url = env.start(key, locale="sv")[2]["data"]["hostedVerifyUrl"]
        path = "/" + url.split("/", 3)[3]

        def both():
            a = env.request("GET", path)
            b = fcgi_request(("127.0.0.1", other.port), {"REQUEST_URI": path})
            return a, b[2].decode()
        form = ('<p class="{{class}}">{{message}} MARK-%s</p><form method="post" action="">'
                '<input id="code" name="code" dir="ltr"><button>{{msg.page.otp.button}}</button>'
                '</form>')
        for mark in ("ONE", "TWO"):
            put(env, name, "page-otp.html", form % mark, "--locale", "sv")
            a, b = both()
            page_a = a[2] if isinstance(a[2], str) else a[2].decode()
            check("MARK-" + mark in page_a and "MARK-" + mark in b,
                  "%s: both processes, no restart: %r / %r" % (mark, page_a[:300], b[:300]))
            check('lang="sv"' in b, "still Swedish")
    finally:
        other.stop()
