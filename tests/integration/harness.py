"""Test harness for the integration suite: talks to the real stack in
$MPDEV_VAR (PostgreSQL, mailproof-fcgi behind lighttpd, the SMTP and
webhook catchers), which run.py started or was given, reads its ports and
paths from $MPDEV_VAR/dev.env, and controls services through
`dev.sh service NAME start|stop`.
Standard library only, so it runs under Debian's /usr/bin/python3."""
import hashlib
import http.client
import json
import os
import socket
import subprocess
import time


class Env:
    def __init__(self):
        self.var = os.environ["MPDEV_VAR"]
        self.src = os.environ["MPDEV_SRC"]
        self.conf = {}
        with open(os.path.join(self.var, "dev.env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                self.conf[k] = v
        self.http_port = int(self.conf["HTTP_PORT"])
        self.pg_port = int(self.conf["PG_PORT"])
        self.build = self.conf["BUILD"]
        self.secret_key = bytes.fromhex(self.conf["SECRET_KEY"])
        self.config_file = os.path.join(self.var, "mailproof.conf")

    # ------------------------------------------------------------ HTTP
    def request(self, method, path, body=None, headers=None, key=None, timeout=10,
                raw_body=None, record=True):
        """Returns (status, headers dict with lower-case names, parsed JSON or text).
        The answer is recorded for the OpenAPI check (record_answer) unless
        record is False."""
        h = dict(headers or {})
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if key:
            h.setdefault("Authorization", "Bearer " + key)
        c = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            text = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            if record:
                record_answer(method, path, r.status, hdrs, text)
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = text.decode(errors="replace")
            return r.status, hdrs, parsed
        finally:
            c.close()

    # ------------------------------------------------------------ processes
    def ctl(self, *args, check=True, environ=None):
        """Runs mailproofctl (with environ added to its environment);
        returns (exit status, stdout, stderr)."""
        p = subprocess.run([os.path.join(self.build, "mailproofctl"), *args],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, MAILPROOF_CONFIG=self.config_file,
                                    **(environ or {})))
        if check and p.returncode != 0:
            raise AssertionError("mailproofctl %s: exit %d: %s" % (
                " ".join(args), p.returncode, p.stderr.strip()))
        return p.returncode, p.stdout, p.stderr

    def ctl_json(self, *args):
        return json.loads(self.ctl(*args, "--json")[1])

    def service(self, name, action):
        subprocess.run([os.path.join(self.src, "dev.sh"), "service", name, action],
                       check=True, timeout=120,
                       env=dict(os.environ, MPDEV_VAR=self.var))

    def psql(self, sql, *params, db="mailproof", user="mailproof"):
        """Runs one statement through psql, as the app role in the app's
        database unless told otherwise; returns rows of text."""
        args = ["psql", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", user,
                "-d", db, "-qAtX", "-v", "ON_ERROR_STOP=1", "-F", "\t"]
        for i, p in enumerate(params):
            args += ["-v", "p%d=%s" % (i + 1, p)]
        p = subprocess.run(args, input=sql, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError("psql: " + p.stderr.strip())
        return [line.split("\t") for line in p.stdout.splitlines() if line]

    def master_pid(self):
        with open(os.path.join(self.var, "run", "fcgi.pid")) as f:
            return int(f.read())

    def worker_pids(self):
        p = subprocess.run(["pgrep", "-P", str(self.master_pid())],
                           capture_output=True, text=True)
        return sorted(int(x) for x in p.stdout.split())

    def log(self, name):
        with open(os.path.join(self.var, "log", name), errors="replace") as f:
            return f.read()

    # ------------------------------------------------------------ fixtures
    def shared_tenant(self, prefix):
        """One tenant and key per prefix for the whole run: (tenant id, key)."""
        cache = self.__dict__.setdefault("_shared", {})
        if prefix not in cache:
            t, k = self.tenant_with_key(prefix + "-" + os.urandom(4).hex())
            cache[prefix] = (t["id"], k["key"])
        return cache[prefix]

    def tenant_with_key(self, name, scopes=None, webhook_url=None):
        """Creates tenant name (unique per run) and a key; returns (tenant, key)."""
        t = self.ctl_json("tenant", "create", "--name", name,
                          *(["--webhook-url", webhook_url] if webhook_url else []))
        args = ["key", "create", "--tenant", name]
        if scopes:
            args += ["--scopes", scopes]
        k = self.ctl_json(*args)
        return t, k

    def past_cooldown(self, vid):
        """As if the last mail of vid went out an hour ago: a resend is allowed."""
        self.psql("UPDATE verifications SET last_mail_at = now() - interval '1 hour'"
                  " WHERE id = :'p1'", vid)

    def code_hash(self, vid, code):
        """The keyed BLAKE2b under which the service stores an OTP (token.c)."""
        h = hashlib.blake2b(b"otp\0" + vid.encode() + b"\0" + code.encode(),
                            key=self.secret_key, digest_size=32)
        return h.hexdigest()

    def insert_verification(self, tenant_id, code="123456", max_attempts=3,
                            expires_in="15 minutes", email="person@example.com",
                            status="PENDING", user_id=None, db="mailproof"):
        """Stores a verification as a start would (with its verification.initiated
        event), with a known code; then moves it to status, as the service would."""
        vid = "ev_" + os.urandom(13).hex().upper()  # hex digits are Crockford too
        self.psql(
            "INSERT INTO verifications (id, tenant_id, email, email_norm, user_id, method,"
            " token_format, code_length, secret_hash, max_attempts, expires_at, ttl_seconds)"
            " VALUES (:'p1', :'p2', :'p3', lower(:'p3'), NULLIF(:'p4', ''), 'OTP',"
            " 'numeric', 6, decode(:'p6', 'hex'), :'p7'::int, now() + :'p8'::interval, 900);"
            " UPDATE verifications SET status = :'p5',"
            "  verified_at = CASE WHEN :'p5' = 'VERIFIED' THEN now() END"
            " WHERE id = :'p1' AND :'p5' <> 'PENDING'",
            vid, tenant_id, email, user_id or "", status, self.code_hash(vid, code),
            max_attempts, expires_in, db=db)
        return vid

    def start(self, key, email=None, headers=None, **fields):
        """POST /v1/verifications/email; returns (status, headers, body)."""
        body = dict(fields)
        body["email"] = email or self.new_address()
        return self.request("POST", "/v1/verifications/email", body=body, key=key,
                            headers=headers)

    @staticmethod
    def new_address(local="person"):
        return "%s-%s@example.com" % (local, os.urandom(5).hex())

    def mails_to(self, address):
        """Every caught mail to address, parsed, oldest first."""
        import email
        import email.policy
        d = os.path.join(self.var, "mail")
        out = []
        for name in sorted(os.listdir(d)):
            if not name.endswith(".eml") or name.startswith("."):
                continue
            with open(os.path.join(d, name), "rb") as f:
                raw = f.read()
            if ("X-Envelope-To: %s\r\n" % address).encode() in raw:
                out.append(email.message_from_bytes(raw, policy=email.policy.default))
        return out

    def code_from_mail(self, address, index=-1):
        """The code of the index-th mail to address, read from its text part."""
        import re
        msgs = self.wait("a mail to " + address, lambda: self.mails_to(address))
        text = msgs[index].get_body(("plain",)).get_content()
        m = re.search(r"^ {4}(\S+)\r?$", text, re.M)
        check(m, "no code in the mail: %r" % text)
        return m.group(1)

    def wait(self, what, pred, timeout=10.0, step=0.1):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            v = pred()
            if v:
                return v
            time.sleep(step)
        raise AssertionError("timed out waiting for " + what)


class Skip(Exception):
    """Raised by a test that cannot run here (no root, say): run.py reports
    it as skipped, with the reason, never as passed."""


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def expect_error(resp, status, code):
    st, hdrs, body = resp
    check(st == status, "expected %d %s, got %d %r" % (status, code, st, body))
    check(isinstance(body, dict) and body.get("success") is False,
          "not an error envelope: %r" % (body,))
    err = body["error"]
    check(err.get("code") == code, "expected code %s, got %r" % (code, err))
    check(isinstance(err.get("message"), str) and err["message"], "empty message")
    check(isinstance(err.get("details"), dict), "details must be an object")
    check(hdrs.get("x-request-id"), "missing X-Request-Id")
    return body


def record_answer(method, path, status, headers, body):
    """Appends one answer, as a line of JSON, to the file $MPDEV_ANSWERS
    names (when set), for tests/node/openapi-check.mjs: method, path (with
    its query), status, content type, the header names and the body as
    text.  One write(2) of the whole line to a file opened O_APPEND, so
    that the lines of concurrent requests do not interleave."""
    name = os.environ.get("MPDEV_ANSWERS")
    if not name:
        return
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    line = json.dumps({"method": method, "path": path, "status": status,
                       "contentType": headers.get("content-type"),
                       "headers": sorted(headers), "body": body}) + "\n"
    fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def record_webhook(headers, body):
    """Appends a webhook delivery a Receiver got, {headers, body}, to the file
    $MPDEV_WEBHOOKS names (when set), for the OpenAPI check of its event."""
    name = os.environ.get("MPDEV_WEBHOOKS")
    if not name:
        return
    line = json.dumps({"headers": headers, "body": body}) + "\n"
    fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def fcgi_request(address, params, body=b"", timeout=10, sock=None, record=True):
    """Speaks FastCGI (responder role) to address, a unix socket path or a
    (host, port) pair; returns (status, headers dict, body bytes).  With
    sock, a connected socket, it uses that one and leaves it open.  The
    answer is recorded (record_answer) unless record is False."""
    import struct

    def packet(rtype, content):
        pad = (8 - len(content) % 8) % 8
        return struct.pack(">BBHHBB", 1, rtype, 1, len(content), pad, 0) + content + b"\0" * pad

    def nv(name, value):
        out = b""
        for part in (name, value):
            n = len(part)
            out += bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
        return out + name + value

    s = sock
    if s is None:
        fam = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(address)
    try:
        p = dict(params)
        p.setdefault("REQUEST_METHOD", "GET")
        p.setdefault("CONTENT_LENGTH", str(len(body)))
        blob = b"".join(nv(k.encode(), v.encode()) for k, v in p.items())
        msg = packet(1, struct.pack(">HB5x", 1, 0)) + packet(4, blob) + packet(4, b"")
        if body:
            msg += packet(5, body)
        msg += packet(5, b"")
        s.sendall(msg)
        out, buf = b"", b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 8:
                _, rtype, _, clen, plen, _ = struct.unpack(">BBHHBB", buf[:8])
                if len(buf) < 8 + clen + plen:
                    break
                content, buf = buf[8:8 + clen], buf[8 + clen + plen:]
                if rtype == 6:
                    out += content
                elif rtype == 3:
                    head, _, rest = out.partition(b"\r\n\r\n")
                    hdrs = {}
                    for line in head.decode().split("\r\n"):
                        k, _, v = line.partition(":")
                        hdrs[k.strip().lower()] = v.strip()
                    status = int(hdrs.get("status", "200").split()[0])
                    if record:
                        record_answer(p["REQUEST_METHOD"], p.get("REQUEST_URI", ""), status,
                                      {k: v for k, v in hdrs.items() if k != "status"}, rest)
                    return status, hdrs, rest
        raise AssertionError("FastCGI connection closed before END_REQUEST")
    finally:
        if sock is None:
            s.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config_env(env, overrides):
    """The environment of a program of ours: the stack's config file, with
    overrides as keyword arguments (smtp_port=... becomes MAILPROOF_SMTP_PORT)."""
    e = dict(os.environ, MAILPROOF_CONFIG=env.config_file)
    e.update({"MAILPROOF_" + k.upper(): str(v) for k, v in overrides.items()})
    return e


class Master:
    """A second mailproof-fcgi --listen on TCP, with config overrides given
    as keyword arguments (smtp_port=..., becomes MAILPROOF_SMTP_PORT)."""

    def __init__(self, env, workers=1, **overrides):
        self.env = env
        self.port = free_port()
        self.log = open(os.path.join(env.var, "log", "fcgi-extra-%d.log" % self.port), "w")
        self.proc = subprocess.Popen([os.path.join(env.build, "mailproof-fcgi"), "--listen",
                                      "127.0.0.1:%d" % self.port, "--workers", str(workers)],
                                     stdout=self.log, stderr=self.log,
                                     env=config_env(env, overrides))
        env.wait("the extra master", self.ready)

    def ready(self):
        try:
            return fcgi_request(("127.0.0.1", self.port), {"REQUEST_URI": "/healthz"})[0] == 200
        except OSError:
            return False

    def post(self, key, path, body, timeout=30):
        """POST body (JSON) to path; returns (status, parsed answer)."""
        st, _, out = fcgi_request(("127.0.0.1", self.port), {
            "REQUEST_METHOD": "POST", "REQUEST_URI": path,
            "CONTENT_TYPE": "application/json", "HTTP_AUTHORIZATION": "Bearer " + key},
            json.dumps(body).encode(), timeout=timeout)
        return st, json.loads(out)

    def start(self, key, body, timeout=30):
        """POST a start; returns (status, parsed answer)."""
        return self.post(key, "/v1/verifications/email", body, timeout)

    def start_and_resend(self, key):
        """A start for a new address, then (its cooldown passed) a resend,
        each checked; returns the verification's id."""
        st, body = self.start(key, {"email": self.env.new_address()})
        check(st == 201, "start: %d %r" % (st, body))
        vid = body["data"]["id"]
        self.env.past_cooldown(vid)
        st, body = self.post(key, "/v1/verifications/email/%s/resend" % vid, {})
        check(st == 200, "resend: %d %r" % (st, body))
        return vid

    def stop(self):
        import signal
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(15)
        self.log.close()


class SocketMaster:
    """A prefork mailproof-fcgi --listen on a unix socket any user may use
    (the web servers of the snippet tests connect to it), named for who."""

    def __init__(self, env, who, workers=1, **overrides):
        self.sock = os.path.join(env.var, "run", "%s-master-%d.sock" % (who, os.getpid()))
        self.log = open(os.path.join(env.var, "log", "fcgi-%s.log" % who), "w")
        self.proc = subprocess.Popen([os.path.join(env.build, "mailproof-fcgi"), "--listen",
                                      "unix:" + self.sock, "--workers", str(workers),
                                      "--socket-mode", "0666"],
                                     stdout=self.log, stderr=self.log,
                                     env=config_env(env, overrides))
        env.wait("the master's socket", lambda: os.path.exists(self.sock))

    def stop(self):
        import signal
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(15)
        self.log.close()


class Notifier:
    """A mailproof-notifier process with config overrides as keyword
    arguments (webhook_retry_base_ms=200 becomes MAILPROOF_WEBHOOK_RETRY_BASE_MS)."""

    def __init__(self, env, args=(), **overrides):
        self.log_path = os.path.join(env.var, "log", "notifier-%s.log" % os.urandom(3).hex())
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([os.path.join(env.build, "mailproof-notifier"), *args],
                                     stdout=self.log, stderr=self.log,
                                     env=config_env(env, overrides))

    def wait(self, timeout=60):
        """For --once: its exit status, without a signal."""
        rc = self.proc.wait(timeout)
        self.log.close()
        return rc

    def stop(self, sig=None):
        import signal
        if self.proc.poll() is None:
            self.proc.send_signal(sig or signal.SIGTERM)
        rc = self.proc.wait(30)
        self.log.close()
        return rc

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


class Receiver:
    """A webhook endpoint on loopback.  responses: the statuses to answer in
    turn (then 200); delay: seconds to wait before answering."""

    def __init__(self, responses=(), delay=0.0, port=None):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        self.requests = []
        self.responses = list(responses)
        self.delay = delay
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode()
                time.sleep(outer.delay)
                with outer.lock:
                    status = outer.responses.pop(0) if outer.responses else 200
                    outer.requests.append({"time": time.monotonic(), "body": body,
                                           "headers": {k.lower(): v for k, v in
                                                       self.headers.items()},
                                           "status": status})
                record_webhook(outer.requests[-1]["headers"], body)
                self.send_response(status)
                if status in (429, 503):
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port or 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d/hooks" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self):
        with self.lock:
            return [(r["headers"].get("webhook-id"), json.loads(r["body"]))
                    for r in self.requests if r["status"] < 300]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def verify_signatures(env, secret, requests):
    """Checks each request's signature with the standardwebhooks npm package."""
    lines = "".join(json.dumps({"secret": secret, "body": r["body"], "headers": {
        k: r["headers"][k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}})
        + "\n" for r in requests)
    p = subprocess.run(["node", os.path.join(env.src, "tests", "node", "verify.mjs")],
                       input=lines, capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "node: %s" % p.stderr)
    return p.stdout.split("\n")[:len(requests)]


def _pki(env):
    """A CA and a server certificate for localhost, made with openssl; kept in var/pki."""
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
    """The SMTP catcher with STARTTLS required and AUTH (user:password) on."""

    def __init__(self, env, auth="mailer:s3cret"):
        pki = _pki(env)
        self.port = free_port()
        self.dir = os.path.join(env.var, "mail-tls-%d" % self.port)
        self.log = open(os.path.join(env.var, "log", "smtp-tls-%d.log" % self.port), "w")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(env.src, "tests", "tools", "smtp_catcher.py"),
             "--port",
             str(self.port), "--dir", self.dir, "--tls-cert", os.path.join(pki, "server.pem"),
             "--tls-key", os.path.join(pki, "server.key"), "--require-starttls", "--auth", auth],
            stdout=self.log, stderr=self.log)
        env.wait("the TLS catcher", lambda: _connects(self.port))
        self.ca = os.path.join(pki, "ca.pem")

    def mails(self):
        return [f for f in os.listdir(self.dir) if f.endswith(".eml") and not f.startswith(".")]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


def _connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return True
    except OSError:
        return False
