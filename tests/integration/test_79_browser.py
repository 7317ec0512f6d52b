"""Magic link and hosted code page in a real browser: Debian's Chromium
driven by playwright-core at phone width (360 px), with JavaScript turned
off, as a person would use them from the mail.  Screenshots are kept in
$MPDEV_VAR/artifacts/."""
import json
import os
import re
import subprocess

from harness import check


def run_browser(env, job):
    artifacts = os.path.join(env.var, "artifacts")
    os.makedirs(artifacts, exist_ok=True)
    job = dict(job, artifacts=artifacts, javascript=False)
    p = subprocess.run(["node", os.path.join(env.src, "tests", "node", "browser.mjs")],
                       input=json.dumps(job), capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "browser: %s" % p.stderr[-2000:])
    out = json.loads(p.stdout.strip().splitlines()[-1])
    check("error" not in out, "browser error: %s" % out.get("error"))
    return out, artifacts


def test_magic_link_in_chromium(env):
    base = "http://127.0.0.1:%d" % env.http_port
    t, k = env.tenant_with_key("browser-" + os.urandom(4).hex())
    env.ctl("tenant", "update", t["name"], "--redirect-allow", base + "/done")
    addr = env.new_address()
    st, _, body = env.start(k["key"], addr, method="MAGIC_LINK", redirectUrl=base + "/done?from=mail")
    check(st == 201, "start: %d" % st)
    msg = env.wait("the mail", lambda: env.mails_to(addr))[-1]
    link = re.search(r"(http://\S+/v1/link/[A-Za-z0-9_-]{43})\r?$",
                     msg.get_body(("plain",)).get_content(), re.M).group(1)
    out, artifacts = run_browser(env, {"link": link, "redirectPrefix": base + "/done"})
    vid = body["data"]["id"]
    check(out["linkTitle"] == "Confirm your email address", "the confirmation page: %r" % out)
    check(out["buttonFits"], "the button fits a 360 px screen")
    check(out["linkLandedOn"] == base + "/done?from=mail&verified=true&verificationId=" + vid,
          "landed on the redirect: %s" % out["linkLandedOn"])
    check(out["cspViolations"] == [], "no CSP violation: %r" % out["cspViolations"])
    check(os.path.getsize(os.path.join(artifacts, "link-confirm-360.png")) > 1000, "screenshot")
    st, _, got = env.request("GET", "/v1/verifications/email/" + vid, key=k["key"])
    check(got["data"]["status"] == "VERIFIED", "VERIFIED")


def test_hosted_code_page_in_chromium(env):
    t, k = env.tenant_with_key("browser-otp-" + os.urandom(4).hex())
    addr = env.new_address()
    st, _, body = env.start(k["key"], addr)
    code = env.code_from_mail(addr)
    wrong = "000000" if code != "000000" else "111111"
    out, artifacts = run_browser(env, {"hosted": body["data"]["hostedVerifyUrl"], "code": code,
                                       "wrongCode": wrong})
    check(out["autocomplete"] == "one-time-code" and out["inputmode"] == "numeric",
          "code input: %r" % out)
    check("2 attempts left" in out["afterWrong"], "the wrong code counted: %r" % out["afterWrong"])
    check(out["hostedTitle"] == "Email address confirmed", "typed and confirmed: %r" % out)
    check(out["cspViolations"] == [], "no CSP violation: %r" % out["cspViolations"])
    for shot in ("hosted-otp-360.png", "hosted-done-360.png"):
        check(os.path.getsize(os.path.join(artifacts, shot)) > 1000, "screenshot " + shot)
    st, _, got = env.request("GET", "/v1/verifications/email/" + body["data"]["id"], key=k["key"])
    check(got["data"]["status"] == "VERIFIED" and got["data"]["attempts"] == 1, "%r" % got["data"])
