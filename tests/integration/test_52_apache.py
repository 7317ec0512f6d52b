"""The shipped Apache snippets, for real: a private Apache (Debian's) whose
configuration is apache/*.conf with only paths and ports put in, serving
mailproof through mod_fcgid (Apache spawns the processes) and through
mod_proxy_fcgi to a prefork master."""
import http.client
import json
import os
import pwd
import signal
import subprocess

from harness import SocketMaster, check, free_port

MODULES = ("mpm_event", "authz_core", "authz_host", "alias", "proxy", "proxy_fcgi", "fcgid")


def host_address():
    """This host's first address that is not loopback, or None."""
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    return next((a for a in out if "." in a and not a.startswith("127.")), None)


class Apache:
    def __init__(self, env, snippet, replace):
        self.port = free_port()
        self.outside = host_address()
        self.dir = os.path.join(env.var, "apache-%d" % self.port)
        os.makedirs(os.path.join(self.dir, "fcgid"))
        with open(os.path.join(env.src, "apache", snippet)) as f:
            text = f.read()
        for old, new in replace.items():
            check(old in text, "the snippet has %s" % old)
            text = text.replace(old, new)
        user = ""
        if os.geteuid() == 0:  # Apache started as root serves as www-data
            user = "User www-data\nGroup www-data\n"
            pw = pwd.getpwnam("www-data")
            os.chown(os.path.join(self.dir, "fcgid"), pw.pw_uid, pw.pw_gid)
        conf = os.path.join(self.dir, "apache.conf")
        with open(conf, "w") as f:
            f.write("".join("LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n" % (m, m)
                            for m in MODULES))
            if self.outside:
                f.write("Listen %s:%d\n" % (self.outside, self.port))
            f.write('ServerName localhost\nListen 127.0.0.1:%d\n%s'
                    'PidFile %s/apache.pid\nErrorLog %s/error.log\nLogLevel warn\n'
                    'DocumentRoot %s\nFcgidIPCDir %s/fcgid\nFcgidProcessTableFile %s/fcgid/table\n'
                    % (self.port, user, self.dir, self.dir, self.dir, self.dir, self.dir))
            f.write(text)
        p = subprocess.run(["apache2", "-f", conf, "-t"], capture_output=True, text=True)
        check(p.returncode == 0, "apache2 -t: %s" % p.stderr)
        self.proc = subprocess.Popen(["apache2", "-f", conf, "-DFOREGROUND"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env.wait("Apache", lambda: self._try("GET", "/healthz")[0] == 200, timeout=20)

    def _try(self, *a, **kw):
        try:
            return self.request(*a, **kw)
        except OSError:
            return (0, None)

    def request(self, method, path, body=None, key=None, host="127.0.0.1"):
        c = http.client.HTTPConnection(host, self.port, timeout=10)
        h = {"Authorization": "Bearer " + key} if key else {}
        if body is not None:
            h["Content-Type"] = "application/json"
        c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        r = c.getresponse()
        text = r.read()
        c.close()
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, text

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def errors(self):
        with open(os.path.join(self.dir, "error.log"), errors="replace") as f:
            return f.read()


def exercise(env, apache):
    _, key = env.shared_tenant("apache")
    check(apache.request("GET", "/healthz") == (200, {"status": "ok"}), "healthz")
    st, body = apache.request("POST", "/v1/verifications/email", body={"email": env.new_address()},
                              key=key)
    check(st == 201 and body["data"]["sent"] is True, "start through Apache: %d %r" % (st, body))
    vid = body["data"]["id"]
    st, body = apache.request("GET", "/v1/verifications/email/" + vid, key=key)
    check(st == 200 and body["data"]["id"] == vid, "the Authorization header arrives: %d" % st)
    st, body = apache.request("GET", "/v1/verifications/email/" + vid)
    check(st == 401 and body["error"]["code"] == "UNAUTHORIZED", "no key: %d" % st)
    st, body = apache.request("GET", "/v1/nothing", key=key)
    check(st == 404 and body["error"]["code"] == "NOT_FOUND", "404 envelope: %d" % st)
    st, body = apache.request("GET", "/metrics")
    check(st == 200 and b"mailproof_http_requests_total" in body, "/metrics from here: %d" % st)
    if apache.outside:
        st, _ = apache.request("GET", "/metrics", host=apache.outside)
        check(st == 403, "/metrics from another address: %d" % st)
        st, _ = apache.request("GET", "/healthz", host=apache.outside)
        check(st == 200, "the rest from anywhere: %d" % st)


def test_apache_mod_fcgid_snippet(env):
    apache = Apache(env, "mailproof-fcgid.conf", {
        "/usr/local/bin/mailproof-fcgi": os.path.join(env.build, "mailproof-fcgi"),
        "/etc/mailproof/mailproof.conf": env.config_file,
        "MaxProcesses 16 MinProcesses 2": "MaxProcesses 2 MinProcesses 1"})
    try:
        exercise(env, apache)
        spawned = subprocess.run(["pgrep", "-f", os.path.join(env.build, "mailproof-fcgi") + "$"],
                                 capture_output=True, text=True).stdout.split()
        check(spawned, "Apache spawned mailproof-fcgi itself")
    finally:
        apache.stop()
    log = apache.errors()
    check("app=mailproof-fcgi " in log, "the spawned processes log into Apache's error log")
    bad = [l for l in log.splitlines() if "app=mailproof-fcgi " in l and
           ("level=error " in l or "level=fatal " in l)]
    check(bad == [], "no mailproof errors: %r" % bad)


def test_apache_mod_proxy_fcgi_snippet(env):
    master = SocketMaster(env, "apache", workers=2)
    apache = None
    try:
        apache = Apache(env, "mailproof-proxy-fcgi.conf", {"/run/mailproof/fcgi.sock":
                                                          master.sock})
        exercise(env, apache)
    finally:
        if apache:
            apache.stop()
        master.stop()
