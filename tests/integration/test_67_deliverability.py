"""Deliverability and disposable addresses (SPEC section 7) against a real
DNS server on loopback (tests/tools/dns_server.py) and the shipped list."""
import os
import subprocess
import time

from harness import Master, check, free_port


class Dns:
    def __init__(self, env):
        self.port = free_port()
        self.proc = subprocess.Popen(["/usr/bin/python3",
                                      os.path.join(env.src, "tests", "tools", "dns_server.py"),
                                      "--port", str(self.port)])
        time.sleep(0.3)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def test_deliverability_from_mx_records(env):
    _, key = env.shared_tenant("deliver")
    dns = Dns(env)
    m = Master(env, mx_check="true", dns_server="127.0.0.1:%d" % dns.port, dns_timeout_ms=1000)
    try:
        cases = {"deliverable.test": "DELIVERABLE", "aonly.test": "DELIVERABLE",
                 "nullmx.test": "UNDELIVERABLE", "nomail.test": "UNDELIVERABLE",
                 "nosuchdomain.test": "UNDELIVERABLE", "broken.test": "UNKNOWN"}
        for domain, want in cases.items():
            st, body = m.start(key, {"email": "p-%s@%s" % (os.urandom(3).hex(), domain)})
            check(st == 201, "%s: %d %r" % (domain, st, body))
            check(body["data"]["deliverability"] == want,
                  "%s: %s, want %s" % (domain, body["data"]["deliverability"], want))
        t0 = time.monotonic()
        st, body = m.start(key, {"email": "p@slow.test"})
        check(st == 201 and body["data"]["deliverability"] == "UNKNOWN", "slow: %r" % body)
        check(time.monotonic() - t0 < 1.0 + 2, "a silent resolver costs at most dns_timeout_ms")
        vid = body["data"]["id"]
        st, _, got = env.request("GET", "/v1/verifications/email/" + vid, key=key)
        check(got["data"]["deliverability"] == "UNKNOWN", "stored")
    finally:
        m.stop()
        dns.stop()


def test_reject_undeliverable(env):
    _, key = env.shared_tenant("deliver")
    dns = Dns(env)
    m = Master(env, mx_check="true", dns_server="127.0.0.1:%d" % dns.port,
               reject_undeliverable="true")
    try:
        for domain in ("nullmx.test", "nomail.test", "nosuchdomain.test"):
            st, body = m.start(key, {"email": "p@" + domain})
            check(st == 422 and body["error"]["code"] == "UNDELIVERABLE_EMAIL",
                  "%s: %d %r" % (domain, st, body))
        for domain in ("deliverable.test", "broken.test"):
            st, body = m.start(key, {"email": "p-%s@%s" % (os.urandom(3).hex(), domain)})
            check(st == 201, "%s is not refused: %d %r" % (domain, st, body))
    finally:
        m.stop()
        dns.stop()


def test_disposable_addresses(env):
    _, key = env.shared_tenant("deliver")
    for email in ("p@mailinator.com", "p@Sub.Mailinator.COM", "p@yopmail.fr"):
        st, _, body = env.start(key, email)
        check(st == 201 and body["data"]["disposable"] is True, "%s: %r" % (email, body))
    st, _, body = env.start(key, "p@notmailinator.example.com")
    check(body["data"]["disposable"] is False, "a similar name is not listed")
    st, _, body = env.start(key, "p@example.com")
    check(body["data"]["disposable"] is False and body["data"]["deliverability"] == "UNKNOWN",
          "mx_check off: UNKNOWN")
    m = Master(env, reject_disposable="true")
    try:
        st, body = m.start(key, {"email": "p@guerrillamail.com"})
        check(st == 422 and body["error"]["code"] == "DISPOSABLE_EMAIL", "%d %r" % (st, body))
        st, body = m.start(key, {"email": env.new_address()})
        check(st == 201, "others still start")
    finally:
        m.stop()


def test_a_likely_typo_gets_did_you_mean_and_still_proceeds(env):
    _, key = env.shared_tenant("deliver")
    for typed, meant in [("gmial.com", "gmail.com"), ("gamil.com", "gmail.com"),
                         ("hotmial.com", "hotmail.com"), ("yaho.com", "yahoo.com")]:
        addr = "ada-%s@%s" % (os.urandom(3).hex(), typed)
        st, _, body = env.start(key, addr)
        check(st == 201 and body["data"]["didYouMean"] == addr.split("@")[0] + "@" + meant and
              body["data"]["email"] == addr, "%s: %d %r" % (typed, st, body))
        check(env.mails_to(addr) or env.wait("the mail, to the address as typed",
                                             lambda: env.mails_to(addr)), "mailed as typed")
    for domain in ("gmail.com", "yahoo.co.uk", "example.com"):
        st, _, body = env.start(key, "ada-%s@%s" % (os.urandom(3).hex(), domain))
        check(st == 201 and "didYouMean" not in body["data"], "%s: %r" % (domain, body))
