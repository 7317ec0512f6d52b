"""Mail and pages in the person's language, under the tenant's brand:
every shipped locale's mail and pages, the fallback chain, Accept-Language,
and the brand's options, escaping and logo (issue 10)."""
import base64
import os
import re
import struct
import subprocess
import zlib

from harness import Master, Notifier, check, expect_error, fcgi_request

LOCALES = ["en", "de", "fr", "es", "it", "pt", "pt-BR", "nl", "pl", "sv", "tr", "ru", "uk",
           "ja", "zh-Hans", "ar", "he"]
RTL = {"ar", "he"}
BRAND = 'Café <Shop> & "Co"'
# tidy 5.6 predates two attributes the HTML standard has (see test_78_links)
TIDY_KNOWN = re.compile(r'proprietary attribute "(inputmode|autocapitalize)"')


def png(width=2, height=2):
    """A real, tiny PNG."""
    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\0" + b"\x1f\x5f\xc7" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                                0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def branded(env):
    """A tenant with every part of a brand, and its key."""
    cache = env.__dict__.setdefault("_branded", {})
    if not cache:
        t, k = env.tenant_with_key("brand-" + os.urandom(4).hex())
        logo = os.path.join(env.var, "logo-%s.png" % os.urandom(3).hex())
        with open(logo, "wb") as f:
            f.write(png())
        env.ctl("tenant", "update", t["name"], "--display-name", BRAND, "--support-url",
                "https://shop.example/help", "--accent-color", "#0A7", "--logo", logo)
        cache.update(name=t["name"], key=k["key"], logo=png())
    return cache


def pages(env):
    """A master of our own without the per-address page limit: these tests
    ask for more pages in a minute than a person does."""
    cache = env.__dict__.setdefault("_pages85", {})
    if not cache:
        cache["m"] = Master(env, rate_per_ip_per_minute=0)
    return cache["m"]


def teardown(env):
    m = env.__dict__.get("_pages85", {}).get("m")
    if m:
        m.stop()


def page_req(env, method, url, body=None, headers=None):
    """A page of url (any host) from our master: (status, headers, text)."""
    path = "/" + url.split("/", 3)[3]
    params = {"REQUEST_METHOD": method, "REQUEST_URI": path}
    for k, v in (headers or {}).items():
        params["HTTP_" + k.upper().replace("-", "_")] = v
    if body is not None:
        params["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
    st, h, out = fcgi_request(("127.0.0.1", pages(env).port), params,
                              (body or "").encode())
    return st, h, out.decode()


def tidy(html):
    p = subprocess.run(["tidy", "-errors", "-quiet"], input=html, capture_output=True,
                       text=True, timeout=30)
    return [l for l in p.stderr.splitlines() if l.strip() and not TIDY_KNOWN.search(l)]


def mail_of(env, addr):
    return env.wait("a mail to " + addr, lambda: env.mails_to(addr))[-1]


def test_every_locale_mails_and_pages_in_its_language(env):
    b = branded(env)
    english = None
    for loc in LOCALES:
        addr = env.new_address()
        st, _, body = env.start(b["key"], addr, locale=loc)
        check(st == 201, "%s: start %d %r" % (loc, st, body))
        d = body["data"]
        check(d["locale"] == loc, "%s: the answer says %r" % (loc, d["locale"]))
        m = mail_of(env, addr)
        subject = str(m["Subject"])
        check(BRAND in subject, "%s: the subject names the brand: %r" % (loc, subject))
        check("\n" not in subject and "\r" not in subject, "%s: one subject line" % loc)
        text = m.get_body(("plain",)).get_content()
        html = m.get_body(("html",)).get_content()
        code = re.search(r"^ {4}(\S+)\r?$", text, re.M).group(1)
        check(code in html, "%s: the code unbroken in the HTML part" % loc)
        check(re.search(r'<p dir="ltr"[^>]*>%s</p>' % code, html),
              "%s: the code reads left to right" % loc)
        want = '<html lang="%s" dir="%s">' % (loc, "rtl" if loc in RTL else "ltr")
        check(want in html, "%s: %s in %r" % (loc, want, html[:200]))
        check("Café &lt;Shop&gt; &amp; &quot;Co&quot;" in html, "%s: the brand, escaped" % loc)
        check("https://shop.example/help" in text, "%s: the support address" % loc)
        check(tidy(html) == [], "%s: tidy on the mail: %r" % (loc, tidy(html)))
        if loc == "en":
            english = text
        else:
            check(text.split(code)[0] != english.split("    ")[0],
                  "%s: the words are not English's: %r" % (loc, text))
        # its hosted page speaks the same language, whatever the browser says
        st, h, page = page_req(env, "GET", d["hostedVerifyUrl"],
                               headers={"Accept-Language": "fr"})
        check(st == 200 and want in page, "%s: the hosted page: %d %r" % (loc, st, page[:200]))
        check(tidy(page) == [], "%s: tidy on the page: %r" % (loc, tidy(page)))
        check("data:image/png;base64," in page and "img-src data:" in h["content-security-policy"],
              "%s: the logo as a data: URI under the CSP" % loc)


def test_magic_links_in_every_locale(env):
    b = branded(env)
    for loc in LOCALES:
        addr = env.new_address()
        st, _, body = env.start(b["key"], addr, locale=loc, method="MAGIC_LINK")
        check(st == 201, "%s: start %d" % (loc, st))
        m = mail_of(env, addr)
        text = m.get_body(("plain",)).get_content()
        html = m.get_body(("html",)).get_content()
        link = re.search(r"(http://\S+/v1/link/\S+)", text).group(1)
        check(link in html and BRAND in str(m["Subject"]), "%s: link and subject" % loc)
        check(tidy(html) == [], "%s: tidy on the link mail: %r" % (loc, tidy(html)))
        st, _, page = page_req(env, "GET", link)
        check(st == 200 and 'lang="%s"' % loc in page and tidy(page) == [],
              "%s: the confirmation page %d %r" % (loc, st, tidy(page)))
        st, _, page = page_req(env, "POST", link, body="")
        check(st == 200 and 'lang="%s"' % loc in page, "%s: confirmed %d" % (loc, st))


def test_the_logo_is_an_inline_part(env):
    b = branded(env)
    addr = env.new_address()
    env.start(b["key"], addr, locale="de")
    m = mail_of(env, addr)
    html = m.get_body(("html",)).get_content()
    check('src="cid:logo@mailproof"' in html and "data:" not in html, "cid: in the HTML")
    parts = [p for p in m.walk() if p.get_content_type() == "image/png"]
    check(len(parts) == 1 and parts[0]["Content-ID"] == "<logo@mailproof>" and
          parts[0].get_content() == b["logo"], "the PNG, inline: %r" % parts)
    related = [p for p in m.walk() if p.get_content_type() == "multipart/related"]
    check(len(related) == 1, "in multipart/related")


def test_locale_falls_back_along_the_chain(env):
    t, k = env.tenant_with_key("fallback-" + os.urandom(4).hex())
    cases = [("pt-BR", "pt-BR"), ("pt-PT", "pt"), ("pt", "pt"), ("DE-at", "de"),
             ("zh-CN", "zh-Hans"), ("zh", "zh-Hans"), ("ca", "en"), ("zh-TW", "en"), (None, "en")]
    for asked, used in cases:
        fields = {"locale": asked} if asked else {}
        st, _, body = env.start(k["key"], **fields)
        check(st == 201 and body["data"]["locale"] == used,
              "%r -> %r: %d %r" % (asked, used, st, body))
        st, _, got = env.request("GET", "/v1/verifications/email/" + body["data"]["id"],
                                 key=k["key"])
        check(got["data"]["locale"] == used, "GET says %r" % got["data"]["locale"])
    env.ctl("tenant", "update", t["name"], "--default-locale", "uk")
    for asked, used in (("ca", "uk"), (None, "uk"), ("fr-CA", "fr")):
        fields = {"locale": asked} if asked else {}
        body = env.start(k["key"], **fields)[2]
        check(body["data"]["locale"] == used, "%r with default uk: %r" % (asked, body))
    payload = env.psql("SELECT payload->>'locale' FROM outbox WHERE verification_id = :'p1'",
                       body["data"]["id"])
    check(payload == [["fr"]], "the webhook's payload says fr: %r" % payload)


def test_a_malformed_locale_is_refused(env):
    _, k = env.tenant_with_key("badlocale-" + os.urandom(4).hex())
    for bad in ("en_US", "e", "de-", "<script>", "x" * 70, "de--AT", 5, ["de"]):
        expect_error(env.start(k["key"], locale=bad), 400, "INVALID_REQUEST")


def test_pages_without_a_verification_follow_accept_language(env):
    url = "http://127.0.0.1:%d/v1/link/%s" % (env.http_port, "A" * 43)
    for header, lang in (("de-DE,de;q=0.9,en;q=0.8", "de"), ("xx, ja;q=0.7, fr;q=0.5", "ja"),
                         ("he", "he"), ("", "en"), ("ca, *", "en"), ("zh-TW, pt-BR;q=0.1", "pt-BR")):
        st, _, page = page_req(env, "GET", url, headers={"Accept-Language": header})
        check(st == 410 and '<html lang="%s"' % lang in page,
              "%r -> %s: %d %r" % (header, lang, st, page[:120]))
        check(tidy(page) == [], "tidy: %r" % tidy(page))
    st, _, page = page_req(env, "GET", url, headers={"Accept-Language": "de"})
    check("Dieser Link kann nicht verwendet werden" in page or "Link" in page, page)


def test_a_display_name_can_never_add_a_header(env):
    t, k = env.tenant_with_key("inject-" + os.urandom(4).hex())
    rc, _, err = env.ctl("tenant", "update", t["name"], "--display-name",
                         "Shop\r\nBcc: x@evil.example", check=False)
    check(rc == 1 and "--display-name" in err, "refused: %r" % err)
    # what the CLI refuses may still come by SQL: the mail keeps it in the subject
    env.psql("UPDATE tenants SET display_name = :'p1' WHERE name = :'p2'",
             "Shop\r\nBcc: x@evil.example <script>", t["name"])
    addr = env.new_address()
    env.start(k["key"], addr)
    m = mail_of(env, addr)
    check(m["Bcc"] is None, "no header added: %r" % m.items())
    check("Bcc: x@evil.example" in str(m["Subject"]), "kept inside the subject")
    html = m.get_body(("html",)).get_content()
    check("<script>" not in html and "&lt;script&gt;" in html, "escaped in the HTML part")


def test_brand_options_are_checked(env):
    t, _ = env.tenant_with_key("opts-" + os.urandom(4).hex())
    junk = os.path.join(env.var, "junk.bin")
    with open(junk, "wb") as f:
        f.write(b"\x00\x01not an image")
    big = os.path.join(env.var, "big.png")
    with open(big, "wb") as f:
        f.write(png() + b"\0" * 40000)
    svg_script = os.path.join(env.var, "evil.svg")
    with open(svg_script, "w") as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>')
    for opt, value in (("--accent-color", "red"), ("--accent-color", "#12345"),
                       ("--support-url", "javascript:alert(1)"), ("--support-url", "not an url"),
                       ("--default-locale", "xx"), ("--default-locale", "de_DE"),
                       ("--display-name", "x" * 101), ("--logo", junk), ("--logo", big),
                       ("--logo", svg_script), ("--logo", "/no/such/file.png")):
        rc, _, err = env.ctl("tenant", "update", t["name"], opt, value, check=False)
        check(rc == 1 and opt in err, "%s %r: %r" % (opt, value, err))
    svg = os.path.join(env.var, "ok.svg")
    with open(svg, "w") as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
                '<rect width="8" height="8" fill="#0a7"/></svg>')
    shown = env.ctl_json("tenant", "update", t["name"], "--logo", svg, "--accent-color", "#ABC",
                         "--default-locale", "pt-br", "--support-url", "help@shop.example")
    check(shown["logoType"] == "image/svg+xml" and shown["accentColor"] == "#aabbcc" and
          shown["defaultLocale"] == "pt-BR" and shown["supportUrl"] == "help@shop.example",
          "stored: %r" % shown)
    shown = env.ctl_json("tenant", "update", t["name"], "--logo", "", "--accent-color", "")
    check(shown["logoType"] is None and shown["logoBytes"] == 0 and shown["accentColor"] is None,
          "removed: %r" % shown)


def test_queued_mail_is_written_in_the_verification_language(env):
    b = branded(env)
    m = Master(env, mail_delivery="queue")
    try:
        addr = env.new_address()
        st, d = m.start(b["key"], {"email": addr, "locale": "ja"})
        check(st == 201 and d["data"]["locale"] == "ja", "queued: %d %r" % (st, d))
        n = Notifier(env, args=["--once"])
        n.wait()
        mail = mail_of(env, addr)
        html = mail.get_body(("html",)).get_content()
        check('<html lang="ja" dir="ltr">' in html and BRAND in str(mail["Subject"]) and
              any(p.get_content_type() == "image/png" for p in mail.walk()),
              "the notifier's mail: %r" % str(mail["Subject"]))
    finally:
        m.stop()
