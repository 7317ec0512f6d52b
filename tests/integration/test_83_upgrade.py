"""Upgrading mailproof-fcgi under load (issue 12), the documented way: a
new binary installed over the old one, then SIGUSR2 to the master.  The
same PID runs the new binary, every worker is replaced, and not one
request through lighttpd fails.  A new binary that refuses the config or
the schema is not started: the old one goes on."""
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from harness import check, config_env
from test_53_lighttpd import Lighttpd


def children(pid):
    p = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return {int(x) for x in p.stdout.split()}


def install(src, dst):
    """As install(1) does: a new file renamed over the old, which runs on."""
    shutil.copy(src, dst + ".new")
    os.chmod(dst + ".new", 0o755)
    os.rename(dst + ".new", dst)


def test_sigusr2_upgrades_under_load_without_a_failed_request(env):
    d = tempfile.mkdtemp(prefix="mailproof-upgrade-")
    exe = os.path.join(d, "mailproof-fcgi")
    build = os.path.join(env.build, "mailproof-fcgi")
    install(build, exe)
    sock = os.path.join(env.var, "run", "upgrade-%d.sock" % os.getpid())
    log_path = os.path.join(env.var, "log", "fcgi-upgrade.log")
    log = open(log_path, "w")
    master = subprocess.Popen([exe, "--listen", "unix:" + sock, "--workers", "2",
                               "--socket-mode", "0666"], stdout=log, stderr=log,
                              env=config_env(env, {}))
    lh = None
    stop = threading.Event()
    statuses = []

    def load():
        while not stop.is_set():
            statuses.append(lh.get("/healthz")[0])

    threads = []
    try:
        env.wait("the master's socket", lambda: os.path.exists(sock))
        lh = Lighttpd(env, "50-mailproof-prefork.conf", {"/run/mailproof/fcgi.sock": sock})
        env.wait("two workers", lambda: len(children(master.pid)) == 2)
        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        for _ in range(2):
            time.sleep(1)
            old = children(master.pid)
            install(build, exe)
            master.send_signal(signal.SIGUSR2)
            env.wait("the old workers replaced", lambda: (lambda now: len(now) == 2 and
                                                          not now & old)(children(master.pid)),
                     timeout=20)
        time.sleep(1)
        stop.set()
        for t in threads:
            t.join(30)
        failed = [s for s in statuses if s != 200]
        check(len(statuses) > 100 and not failed,
              "%d requests, %d failed: %r" % (len(statuses), len(failed), failed[:10]))
        check(master.poll() is None and
              not os.readlink("/proc/%d/exe" % master.pid).endswith("(deleted)"),
              "the same process runs the new binary")
        with open(log_path) as f:
            text = f.read()
        check(text.count("upgraded, listening on unix:") == 2, "two upgrades: %s" % text)

        # a new binary that refuses (here: any check) is not started
        with open(exe + ".new", "w") as f:
            f.write("#!/bin/sh\necho 'mailproof-fcgi: a binary that will not do' >&2\nexit 1\n")
        os.chmod(exe + ".new", 0o755)
        os.rename(exe + ".new", exe)
        before = children(master.pid)
        master.send_signal(signal.SIGUSR2)
        env.wait("the refusal logged", lambda: "upgrade refused" in open(log_path).read())
        check(master.poll() is None and lh.get("/healthz")[0] == 200 and
              children(master.pid) == before, "the old binary goes on")
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        if lh:
            lh.stop()
        master.send_signal(signal.SIGTERM)
        master.wait(30)
        log.close()
        shutil.rmtree(d, ignore_errors=True)
