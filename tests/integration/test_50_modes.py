"""mailproof-fcgi in its other modes: spawned by lighttpd (bin-path, the
socket on fd 0, one process each), a prefork master on HOST:PORT with a
mount prefix and --max-requests, spoken to directly over FastCGI."""
import json
import os
import signal
import socket
import subprocess

from harness import check, fcgi_request, free_port


def _children(pid):
    p = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split()]


def _running(pid):
    """Alive and not a zombie (an exited child nobody has reaped yet)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def _comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


def test_spawned_by_lighttpd_bin_path_serves_fd0(env):
    t, k = env.tenant_with_key("binpath-" + os.urandom(4).hex())
    vid = env.insert_verification(t["id"])
    port = free_port()
    conf = os.path.join(env.var, "lighttpd-binpath.conf")
    with open(conf, "w") as f:
        f.write("""
server.modules = ( "mod_fastcgi" )
server.bind = "127.0.0.1"
server.port = %d
server.document-root = "%s/www"
fastcgi.server = ( "/" => ((
    "bin-path" => "%s/mailproof-fcgi",
    "socket" => "%s/run/binpath.sock",
    "max-procs" => 2,
    "check-local" => "disable",
    "bin-environment" => ( "MAILPROOF_CONFIG" => "%s",
                           "MAILPROOF_DATABASE_PREPARED" => "false" ),
    "bin-copy-environment" => ( "PATH" ),
)))
""" % (port, env.var, env.build, env.var, env.config_file))
    log = open(os.path.join(env.var, "log", "lighttpd-binpath.log"), "w")
    lt = subprocess.Popen(["lighttpd", "-D", "-f", conf], stdout=log, stderr=log)
    backends = []
    try:
        import http.client

        def get(path, key=None):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", path, headers={"Authorization": "Bearer " + key} if key else {})
            r = c.getresponse()
            return r.status, json.loads(r.read())

        env.wait("lighttpd with bin-path", lambda: _try(lambda: get("/healthz")[0] == 200))
        st, body = get("/v1/verifications/email/" + vid, k["key"])
        check(st == 200 and body["data"]["id"] == vid, "served with unnamed statements: %d" % st)
        backends = [p for p in _children(lt.pid) if _comm(p) == "mailproof-fcgi"]
        check(len(backends) == 2, "lighttpd spawned max-procs backends: %r" % backends)
        for b in backends:
            check(_children(b) == [], "a spawned backend never preforks")
    finally:
        lt.send_signal(signal.SIGTERM)
        lt.wait(15)
        log.close()
    env.wait("the backends to stop with lighttpd", lambda: not any(_running(b) for b in backends))


def _try(fn):
    try:
        return fn()
    except (OSError, ValueError):
        return False


def test_prefork_on_tcp_with_mount_prefix_and_max_requests(env):
    port = free_port()
    log_path = os.path.join(env.var, "log", "fcgi-tcp.log")
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [os.path.join(env.build, "mailproof-fcgi"), "--listen", "127.0.0.1:%d" % port,
         "--workers", "1", "--max-requests", "3"],
        stdout=log, stderr=log,
        env=dict(os.environ, MAILPROOF_CONFIG=env.config_file, MAILPROOF_MOUNT_PREFIX="/verify"))
    addr = ("127.0.0.1", port)
    # (not recorded for the OpenAPI check: its paths are under a mount prefix)
    try:
        env.wait("the TCP master", lambda: _try(lambda: fcgi_request(
            addr, {"REQUEST_URI": "/verify/healthz"}, record=False)[0] == 200))
        for uri, want in (("/verify/healthz", 200), ("/verify/healthz?probe=1", 200),
                          ("/healthz", 404), ("/verifyx/healthz", 404), ("/verify", 404),
                          ("/verify/", 404)):
            st, _, body = fcgi_request(addr, {"REQUEST_URI": uri}, record=False)
            check(st == want, "%s: %d %r" % (uri, st, body))
        # SCRIPT_NAME and PATH_INFO differ between servers; REQUEST_URI decides.
        st, _, _ = fcgi_request(addr, {"REQUEST_URI": "/verify/healthz",
                                       "SCRIPT_NAME": "/verify/healthz", "PATH_INFO": ""},
                              record=False)
        check(st == 200, "mod_proxy_fcgi style params")
        for _ in range(6):
            check(fcgi_request(addr, {"REQUEST_URI": "/verify/healthz"},
                               record=False)[0] == 200)
        started = open(log_path).read().count("started")
        check(started >= 4, "workers recycled after 3 requests each: %d started" % started)
        check("exited with status" not in open(log_path).read(), "recycling is a clean exit")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        log.close()
    check(proc.returncode == 0, "clean stop: %r" % proc.returncode)


def test_unix_socket_connection_is_closed_not_lingered(env):
    """On a Unix socket a worker closes the connection as soon as it has
    answered, instead of waiting for the web server to close first
    (libfcgi's lingering close), which would hold the worker."""
    path = os.path.join(env.var, "run", "fcgi-close.sock")
    log = open(os.path.join(env.var, "log", "fcgi-close.log"), "w")
    proc = subprocess.Popen(
        [os.path.join(env.build, "mailproof-fcgi"), "--listen", "unix:" + path,
         "--workers", "1"], stdout=log, stderr=log,
        env=dict(os.environ, MAILPROOF_CONFIG=env.config_file))
    try:
        env.wait("the unix-socket master", lambda: _try(
            lambda: fcgi_request(path, {"REQUEST_URI": "/healthz"})[0] == 200))
        for body in (b"", b'{"x": 1}'):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(path)
            try:
                st, _, _ = fcgi_request(path, {"REQUEST_URI": "/healthz"}, body, sock=s)
                check(st == 200, "answered: %d" % st)
                check(s.recv(1) == b"", "the answer is followed by the end of the stream")
                # a lingering worker would still be reading (and discarding)
                try:
                    s.sendall(b"\0" * 8)
                    closed = False
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                check(closed, "the worker closed its end at once (body %r)" % body)
            finally:
                s.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        log.close()
    check(proc.returncode == 0, "clean stop: %r" % proc.returncode)


def test_not_spawned_and_no_listen_is_a_usage_error(env):
    p = subprocess.run([os.path.join(env.build, "mailproof-fcgi")], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=10,
                       env=dict(os.environ, MAILPROOF_CONFIG=env.config_file))
    check(p.returncode == 2 and "--listen" in p.stderr, "%d %r" % (p.returncode, p.stderr))
    p = subprocess.run([os.path.join(env.build, "mailproof-fcgi"), "--listen", "nonsense"],
                       capture_output=True, text=True, timeout=10,
                       env=dict(os.environ, MAILPROOF_CONFIG=env.config_file))
    check(p.returncode == 1 and "nonsense" in p.stderr, "%d %r" % (p.returncode, p.stderr))
    p = subprocess.run([os.path.join(env.build, "mailproof-fcgi"), "--workers", "0"],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == 2 and "--workers" in p.stderr, "%d %r" % (p.returncode, p.stderr))
