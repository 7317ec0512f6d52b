"""The shipped lighttpd snippets, for real: a private lighttpd (Debian's)
whose configuration is lighttpd/50-mailproof*.conf with only paths and
ports put in: lighttpd spawning the workers (bin-path), and lighttpd in
front of a prefork master.  /metrics answers this host only."""
import http.client
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile

from harness import Master, SocketMaster, check, free_port
from test_52_apache import host_address


class Lighttpd:
    def __init__(self, env, snippet, replace):
        self.port = free_port()
        self.outside = host_address()
        self.dir = os.path.join(env.var, "lighttpd-%d" % self.port)
        os.makedirs(self.dir)
        if os.geteuid() == 0:  # lighttpd started as root serves as www-data
            pw = pwd.getpwnam("www-data")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        with open(os.path.join(env.src, "lighttpd", snippet)) as f:
            text = f.read()
        for old, new in replace.items():
            check(old in text, "the snippet has %s" % old)
            text = text.replace(old, new)
        conf = os.path.join(self.dir, "lighttpd.conf")
        with open(conf, "w") as f:
            f.write('server.document-root = "%s"\nserver.port = %d\nserver.bind = "0.0.0.0"\n'
                    'server.errorlog = "%s/error.log"\nserver.pid-file = "%s/pid"\n'
                    % (self.dir, self.port, self.dir, self.dir))
            if os.geteuid() == 0:
                f.write('server.username = "www-data"\nserver.groupname = "www-data"\n')
            f.write(text)
        p = subprocess.run(["lighttpd", "-tt", "-f", conf], capture_output=True, text=True)
        check(p.returncode == 0, "lighttpd -tt: %s" % (p.stdout + p.stderr))
        self.proc = subprocess.Popen(["lighttpd", "-D", "-f", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env.wait("lighttpd", lambda: self.get("/healthz")[0] == 200, timeout=20)

    def get(self, path, host="127.0.0.1", timeout=10):
        try:
            c = http.client.HTTPConnection(host, self.port, timeout=timeout)
            c.request("GET", path)
            r = c.getresponse()
            out = (r.status, r.read())
            c.close()
            return out
        except OSError:
            return (0, b"")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(15)


def exercise(env, lh):
    check(lh.get("/healthz")[0] == 200, "healthz")
    st, body = lh.get("/metrics")
    check(st == 200 and b"mailproof_http_requests_total" in body, "/metrics from here: %d" % st)
    if lh.outside:
        check(lh.get("/metrics", host=lh.outside)[0] == 403, "/metrics from another address")
        check(lh.get("/healthz", host=lh.outside)[0] == 200, "the rest from anywhere")
    st, body = lh.get("/v1/nothing")
    check(st == 404 and b'"NOT_FOUND"' in body, "the API answers: %d %r" % (st, body))


def test_lighttpd_spawns_the_workers(env):
    # in a directory lighttpd's user may write: it makes the socket
    sock = os.path.join(tempfile.mkdtemp(prefix="mailproof-lighttpd-"), "fcgi.sock")
    os.chmod(os.path.dirname(sock), 0o777)
    lh = Lighttpd(env, "50-mailproof.conf", {
        "/usr/local/bin/mailproof-fcgi": os.path.join(env.build, "mailproof-fcgi"),
        "/run/lighttpd/mailproof.sock": sock,
        '"max-procs"   => 4': '"max-procs"   => 1',
        "/etc/mailproof/mailproof.conf": env.config_file})
    try:
        exercise(env, lh)
    finally:
        lh.stop()
        shutil.rmtree(os.path.dirname(sock), ignore_errors=True)


def test_lighttpd_in_front_of_the_prefork_master(env):
    master = SocketMaster(env, "lighttpd")
    lh = None
    try:
        lh = Lighttpd(env, "50-mailproof-prefork.conf", {"/run/mailproof/fcgi.sock": master.sock})
        exercise(env, lh)
    finally:
        if lh:
            lh.stop()
        master.stop()


def test_idle_connections_hold_no_worker_past_fcgi_timeout(env):
    # as many connections as workers, each sending nothing or half a record,
    # straight to the master's socket: any local user can make them on TCP
    timeout_ms = 1500
    masters = [(Master(env, workers=2, fcgi_timeout_ms=timeout_ms), ("half a record", b"\x01")),
               (SocketMaster(env, "idle", workers=2, fcgi_timeout_ms=timeout_ms), ("nothing", b""))]
    try:
        for m, (what, sent) in masters:
            tcp = isinstance(m, Master)
            target = '"host" => "127.0.0.1", "port" => %d' % m.port if tcp else \
                '"socket" => "%s"' % m.sock
            lh = Lighttpd(env, "50-mailproof-prefork.conf",
                          {'"socket"      => "/run/mailproof/fcgi.sock"': target})
            idle = []
            try:
                for _ in range(2):
                    s = socket.socket(socket.AF_INET if tcp else socket.AF_UNIX)
                    s.connect(("127.0.0.1", m.port) if tcp else m.sock)
                    s.sendall(sent)
                    idle.append(s)
                # the client's own bound: well past fcgi_timeout_ms, far short of never
                st, _ = lh.get("/healthz", timeout=timeout_ms / 1000 + 8)
                check(st == 200, "%s: healthz through lighttpd while 2 connections sent %s: %d"
                      % ("tcp" if tcp else "unix", what, st))
            finally:
                for s in idle:
                    s.close()
                lh.stop()
    finally:
        for m, _ in masters:
            m.stop()
