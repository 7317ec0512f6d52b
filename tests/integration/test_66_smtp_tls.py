"""STARTTLS and AUTH against a real SMTP server (the catcher with TLS and
AUTH on), with a private CA given by smtp_ca_file."""
import os
import subprocess

from harness import Master, check, free_port

PY = "/usr/bin/python3"


def _pki(env):
    """A CA and a server certificate for localhost, made with openssl."""
    d = os.path.join(env.var, "pki")
    if os.path.exists(os.path.join(d, "server.pem")):
        return d
    os.makedirs(d, exist_ok=True)

    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=mailproof test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=localhost")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    return d


class TlsCatcher:
    def __init__(self, env, auth="mailer:s3cret"):
        pki = _pki(env)
        self.port = free_port()
        self.dir = os.path.join(env.var, "mail-tls-%d" % self.port)
        self.log = open(os.path.join(env.var, "log", "smtp-tls-%d.log" % self.port), "w")
        self.proc = subprocess.Popen(
            [PY, os.path.join(env.src, "tests", "tools", "smtp_catcher.py"), "--port",
             str(self.port), "--dir", self.dir, "--tls-cert", os.path.join(pki, "server.pem"),
             "--tls-key", os.path.join(pki, "server.key"), "--require-starttls", "--auth", auth],
            stdout=self.log, stderr=self.log)
        import socket
        env.wait("the TLS catcher", lambda: _connects(socket, self.port))
        self.ca = os.path.join(pki, "ca.pem")

    def mails(self):
        return [f for f in os.listdir(self.dir) if f.endswith(".eml") and not f.startswith(".")]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


def _connects(socket, port):
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return True
    except OSError:
        return False


def test_starttls_required_with_auth_delivers_twice_from_one_worker(env):
    _, key = env.shared_tenant("tls")
    c = TlsCatcher(env)
    m = Master(env, smtp_host="localhost", smtp_port=c.port, smtp_starttls="required",
               smtp_ca_file=c.ca, smtp_user="mailer", smtp_password="s3cret")
    try:
        # two sessions in one worker: libESMTP 1.1.0 crashed on the second
        for _ in range(2):
            st, body = m.start(key, {"email": env.new_address()})
            check(st == 201 and body["data"]["delivery"]["status"] == "SENT",
                  "over STARTTLS with AUTH: %d %r" % (st, body))
        env.wait("two mails", lambda: len(c.mails()) == 2)
        st, body = m.start(key, {"email": env.new_address()})
        check(st == 201, "the worker is still alive: %d" % st)
    finally:
        m.stop()
        c.stop()


def test_tls_and_auth_failures_are_502(env):
    _, key = env.shared_tenant("tls")
    c = TlsCatcher(env)
    plain_port = int(env.conf["SMTP_PORT"])
    # each case: what it is, the reply it must fail with, the settings
    cases = [
        ("wrong password", "535", dict(smtp_host="localhost", smtp_port=c.port, smtp_starttls="required",
                                smtp_ca_file=c.ca, smtp_user="mailer", smtp_password="wrong")),
        ("untrusted certificate", "certificate", dict(smtp_host="localhost", smtp_port=c.port,
                                       smtp_starttls="required", smtp_user="mailer",
                                       smtp_password="s3cret")),
        ("server demands STARTTLS", "530", dict(smtp_host="localhost", smtp_port=c.port,
                                         smtp_starttls="no", smtp_user="mailer",
                                         smtp_password="s3cret")),
        ("required but not offered", "STARTTLS", dict(smtp_port=plain_port,
                                                      smtp_starttls="required")),
    ]
    try:
        for what, reason, overrides in cases:
            m = Master(env, smtp_timeout_ms=5000, **overrides)
            try:
                st, body = m.start(key, {"email": env.new_address()})
                check(st == 502 and body["error"]["code"] == "EMAIL_SEND_FAILED",
                      "%s: %d %r" % (what, st, body))
                d = body["error"]["details"]["delivery"]
                check(reason in "%s %s" % (d["smtpCode"], d["smtpReply"]),
                      "%s fails for its own reason: %r" % (what, d))
            finally:
                m.stop()
        check(c.mails() == [], "nothing was delivered")
        m = Master(env, smtp_port=plain_port, smtp_starttls="try")
        try:
            st, body = m.start(key, {"email": env.new_address()})
            check(st == 201, "try falls back to plain text when not offered: %d %r" % (st, body))
        finally:
            m.stop()
    finally:
        c.stop()
