"""Bounces through a real MTA (issue 17): a private Postfix instance of
Debian's postfix package, with its own configuration, queue and port on
127.0.0.1, started and stopped here.  mailproof sends through it; Postfix
itself bounces a mail to a local domain without such a mailbox, and
defers one to a relay that answers 451 until the mail expires, and pipes
what it sends back to the VERP address to `mailproofctl bounce`
(docs/bounces.md's transport and pipe service)."""
import os
import shutil
import subprocess
import tempfile
import time

from harness import Master, Notifier, Receiver, Skip, check, expect_error, free_port, \
    verify_signatures

BOUNCE = "bounces@bounces.mailproof.test"
API = "/v1/verifications/email"
POSTFIX = "/usr/sbin/postfix"


class Postfix:
    """A Postfix of its own in a temporary directory: main.cf, master.cf and
    a transport map; mail for bounces.mailproof.test goes to the pipe, mail
    for slow.mailproof.test to relay_port, local.mailproof.test is local."""

    def __init__(self, env, relay_port):
        self.dir = tempfile.mkdtemp(prefix="mailproof-postfix.")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.etc, self.log = os.path.join(self.dir, "etc"), os.path.join(self.dir, "log")
        data = os.path.join(self.dir, "data")
        for d in (self.etc, self.log, data, os.path.join(self.dir, "queue")):
            os.makedirs(d)
        shutil.chown(data, "postfix")
        # what the pipe runs as (nobody) reads its own copy of the config
        conf = os.path.join(self.dir, "mailproof.conf")
        with open(env.config_file) as src, open(conf, "w") as dst:
            dst.write(src.read() + "\nbounce_address = %s\n" % BOUNCE)
        os.chmod(conf, 0o644)
        self.maillog = os.path.join(self.log, "postfix.log")
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write("""compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.mailproof.test
mydomain = mailproof.test
mydestination = local.mailproof.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
# every local address is taken, and local(8) then bounces the unknown user
local_recipient_maps =
alias_maps =
alias_database =
relay_domains = bounces.mailproof.test, slow.mailproof.test
transport_maps = texthash:{d}/etc/transport
recipient_delimiter = +
smtputf8_enable = no
disable_dns_lookups = yes
smtp_host_lookup = native
maillog_file = {d}/log/postfix.log
maillog_file_prefixes = {d}/log
# a deferred mail: a delay notice at once, expired (bounced) soon after
delay_warning_time = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
queue_run_delay = 1s
maximal_queue_lifetime = 10s
bounce_queue_lifetime = 10s
""".format(d=self.dir))
        with open(os.path.join(self.etc, "transport"), "w") as f:
            f.write("bounces.mailproof.test mailproof-bounce:\n"
                    "slow.mailproof.test smtp:[127.0.0.1]:%d\n" % relay_port)
        services = [("pickup", "n", "n", "60", "1", "pickup"),
                    ("cleanup", "n", "n", "-", "0", "cleanup"),
                    ("qmgr", "n", "n", "300", "1", "qmgr"),
                    ("rewrite", "-", "n", "-", "-", "trivial-rewrite"),
                    ("bounce", "-", "n", "-", "0", "bounce"),
                    ("defer", "-", "n", "-", "0", "bounce"),
                    ("trace", "-", "n", "-", "0", "bounce"),
                    ("verify", "-", "n", "-", "1", "verify"),
                    ("flush", "n", "n", "1000", "0", "flush"),
                    ("proxymap", "-", "n", "-", "-", "proxymap"),
                    ("smtp", "-", "n", "-", "-", "smtp"),
                    ("relay", "-", "n", "-", "-", "smtp"),
                    ("showq", "n", "n", "-", "-", "showq"),
                    ("error", "-", "n", "-", "-", "error"),
                    ("retry", "-", "n", "-", "-", "error"),
                    ("discard", "-", "n", "-", "-", "discard"),
                    ("local", "-", "n", "-", "-", "local"),
                    ("anvil", "-", "n", "-", "1", "anvil"),
                    ("scache", "-", "n", "-", "1", "scache")]
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write("127.0.0.1:%d inet n - n - - smtpd\n" % self.port)
            for name, private, chroot, wake, limit, cmd in services:
                # local(8) delivers as the recipient: it must stay privileged
                unpriv = "n" if name == "local" else "-"
                f.write("%s unix %s %s %s %s %s %s\n" % (name, private, unpriv, chroot, wake,
                                                          limit, cmd))
            f.write("postlog unix-dgram n - n - 1 postlogd\n")
            # docs/bounces.md's pipe service
            f.write("mailproof-bounce unix - n n - 2 pipe\n"
                    "  flags=R user=nobody argv=%s --config %s bounce --recipient "
                    "${original_recipient}\n" % (os.path.join(env.build, "mailproofctl"), conf))
        self.pidfile = os.path.join(self.dir, "queue", "pid", "master.pid")
        try:
            self.postfix("start")
            env.wait("Postfix's master", lambda: os.path.exists(self.pidfile), timeout=20)
        except AssertionError:
            subprocess.run([POSTFIX, "-c", self.etc, "stop"], capture_output=True, timeout=60)
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def postfix(self, what):
        # postfix(1) says why it failed only on a terminal, or in its log
        p = subprocess.run([POSTFIX, "-c", self.etc, what], capture_output=True, text=True,
                           timeout=60)
        check(p.returncode == 0, "postfix %s: %s %s" % (what, p.stderr.strip(), self.log_text()))

    def log_text(self):
        try:
            with open(self.maillog) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        with open(self.pidfile) as f:
            pid = int(f.read().split()[0])
        self.postfix("stop")
        end = time.monotonic() + 20
        while time.monotonic() < end and os.path.exists("/proc/%d" % pid):
            time.sleep(0.1)
        check(not os.path.exists("/proc/%d" % pid), "Postfix's master %d is still there" % pid)
        shutil.rmtree(self.dir)


def setup(env):
    if os.geteuid() != 0:
        raise Skip("needs root: Postfix's master starts as root")
    if not os.path.exists(POSTFIX):
        raise Skip("postfix is not installed (./dev.sh installs it)")
    env.service("notifier", "stop")
    env.postfix = Postfix(env, int(env.conf["SMTP_PORT"]))
    env.bounce_master = Master(env, bounce_address=BOUNCE, smtp_host="127.0.0.1",
                               smtp_port=env.postfix.port, smtp_starttls="no")


def teardown(env):
    if getattr(env, "postfix", None):
        env.bounce_master.stop()
        env.postfix.stop()
        env.service("notifier", "start")


def delivery(env, key, vid):
    return env.request("GET", "%s/%s" % (API, vid), key=key)[2]["data"]


def until(env, key, vid, status, timeout=40):
    """The verification once its delivery reads status."""
    try:
        return env.wait("delivery %s" % status, lambda: (
            lambda v: v if v["delivery"]["status"] == status else None)(
                delivery(env, key, vid)), timeout=timeout, step=0.3)
    except AssertionError:
        raise AssertionError("delivery of %s is %r, not %s; Postfix's log:\n%s" % (
            vid, delivery(env, key, vid)["delivery"], status, env.postfix.log_text())) from None


def test_postfix_bounces_an_unknown_local_user(env):
    rx = Receiver()
    t, k = env.tenant_with_key("postfix-" + os.urandom(4).hex(), webhook_url=rx.url)
    key = k["key"]
    addr = "nosuchuser-%s@local.mailproof.test" % os.urandom(3).hex()
    st, body = env.bounce_master.start(key, {"email": addr})
    check(st == 201 and body["data"]["delivery"]["status"] == "SENT",
          "Postfix took it: %d %r" % (st, body))
    vid = body["data"]["id"]
    v = until(env, key, vid, "BOUNCED")
    d = v["delivery"]
    check(v["status"] == "FAILED" and d["bounceCode"] == "5.1.1" and d["bounceSource"] == "DSN"
          and "unknown user" in d["bounceReason"], "Postfix's own bounce: %r" % v)
    check("relay=mailproof-bounce" in env.postfix.log_text(), "through the pipe service")
    n = Notifier(env, args=["--once"])
    check(n.wait() == 0, "--once")
    bounced = [r for r in rx.requests if '"type":"email.bounced"' in r["body"]]
    check(len(bounced) == 1 and verify_signatures(env, t["webhookSecret"], bounced) == ["ok"],
          "email.bounced, signed: %r" % [r["body"][:60] for r in rx.requests])
    rx.stop()
    expect_error(env.start(key, addr), 422, "EMAIL_SUPPRESSED")


def test_postfix_defers_then_gives_up(env):
    t, k = env.tenant_with_key("postfix-slow-" + os.urandom(4).hex())
    key = k["key"]
    addr = "tempfail-%s@slow.mailproof.test" % os.urandom(3).hex()
    st, body = env.bounce_master.start(key, {"email": addr})
    check(st == 201, "start: %d %r" % (st, body))
    vid = body["data"]["id"]
    d = until(env, key, vid, "DELAYED")["delivery"]
    check(d["bounceCode"] == "4.3.0" and "try again later" in d["bounceReason"],
          "Postfix's delay notice: %r" % d)
    v = until(env, key, vid, "BOUNCED")
    check(v["status"] == "FAILED" and v["delivery"]["bounceCode"] == "4.3.0",
          "expired in the queue, returned: %r" % v)
