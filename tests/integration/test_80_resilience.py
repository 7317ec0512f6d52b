"""The prefork master and the database connection under failure: workers
killed, PostgreSQL stopped and started, SIGHUP reload, SIGTERM with a
request in flight.  These tests disturb the stack, so they run last and
leave it running again."""
import os
import signal
import subprocess
import threading
import time

from harness import Master, check, expect_error

def tenant(env):
    return env.shared_tenant("resilience")


def test_killed_worker_is_respawned(env):
    tid, key = tenant(env)
    before = env.worker_pids()
    check(len(before) == 2, "two workers: %r" % before)
    os.kill(before[0], signal.SIGKILL)
    after = env.wait("a new worker", lambda: (lambda p: p if len(p) == 2 and before[0] not in p
                                              else None)(env.worker_pids()))
    check(before[1] in after, "the other worker is untouched")
    vid = env.insert_verification(tid)
    for _ in range(20):
        st, _, _ = env.request("GET", "/v1/verifications/email/" + vid, key=key)
        check(st == 200, "requests keep succeeding: %d" % st)
    check("killed by signal 9" in env.log("fcgi.log"), "the master logged the death")


def test_worker_dying_young_is_respawned_with_back_off(env):
    tid, key = tenant(env)
    for round_ in range(2):
        pids = env.worker_pids()
        os.kill(pids[0], signal.SIGKILL)
        fresh = env.wait("a replacement", lambda: [p for p in env.worker_pids() if p not in pids])
        if round_ == 0:
            os.kill(fresh[0], signal.SIGKILL)  # dies well within a second of starting
    log = env.wait("the back-off", lambda: "respawning in" in env.log("fcgi.log")
                   and env.log("fcgi.log"))
    check("respawning in 500 ms" in log, "first back-off is 500 ms")
    env.wait("two workers again", lambda: len(env.worker_pids()) == 2, timeout=15)
    vid = env.insert_verification(tid)
    for _ in range(10):
        check(env.request("GET", "/v1/verifications/email/" + vid, key=key)[0] == 200)


def test_database_down_is_fast_503_and_recovers(env):
    tid, key = tenant(env)
    vid = env.insert_verification(tid)
    path = "/v1/verifications/email/" + vid
    master = env.master_pid()
    env.service("pg", "stop")
    try:
        for _ in range(6):
            # the client gives up after 2 s: a hang fails the test
            st, h, body = env.request("GET", "/healthz", timeout=2)
            check(st == 503 and body == {"status": "unavailable"}, "healthz: %d %r" % (st, body))
            expect_error(env.request("GET", path, key=key, timeout=2), 503, "UNAVAILABLE")
    finally:
        env.service("pg", "start")
    env.wait("healthz after restart", lambda: env.request("GET", "/healthz")[0] == 200,
             timeout=15)
    for _ in range(10):
        st, _, _ = env.request("GET", path, key=key)
        check(st == 200, "requests succeed after the restart: %d" % st)
    check(env.master_pid() == master, "mailproof was not restarted")


def test_a_worker_uses_the_database_as_soon_as_it_is_back(env):
    # one worker, asked all the time while PostgreSQL is down: each refused
    # connect used to hold it off the database for 500 ms
    m = Master(env)
    stop = threading.Event()

    def ask():
        while not stop.is_set():
            m.ready()
            time.sleep(0.02)
    env.service("pg", "stop")
    t = threading.Thread(target=ask)
    t.start()
    try:
        time.sleep(1)
    finally:
        env.service("pg", "start")
        stop.set()
        t.join()
    try:
        for i in range(5):
            check(m.ready(), "healthz %d right after PostgreSQL came back" % i)
        with open(m.log.name) as f:
            log = f.read()
        check(log.count("could not connect to database") == 1,
              "one line for the outage, not one per try: %s" % log)
    finally:
        m.stop()


def test_sighup_reloads_config_and_refuses_a_bad_one(env):
    tid, key = tenant(env)
    vid = env.insert_verification(tid)
    path = "/v1/verifications/email/%s/verify" % vid
    body = b'{"code":"' + b"9" * 60 + b'"}' + b" " * 1000
    check(env.request("POST", path, raw_body=body, key=key,
                      headers={"Content-Type": "application/json"})[0] == 422, "1 KiB ok")
    original = open(env.config_file).read()
    old_workers = env.worker_pids()
    try:
        with open(env.config_file, "w") as f:
            f.write(original + "max_body_bytes = 512\n")
        os.kill(env.master_pid(), signal.SIGHUP)
        env.wait("new workers", lambda: not set(env.worker_pids()) & set(old_workers))
        expect_error(env.request("POST", path, raw_body=body, key=key,
                                 headers={"Content-Type": "application/json"}),
                     413, "PAYLOAD_TOO_LARGE")
        with open(env.config_file, "w") as f:
            f.write(original + "max_body_bytes = twelve\n")
        workers = env.worker_pids()
        os.kill(env.master_pid(), signal.SIGHUP)
        env.wait("refusal logged", lambda: "reload refused" in env.log("fcgi.log"))
        check(env.worker_pids() == workers, "workers kept after a bad reload")
        check(env.request("GET", "/healthz")[0] == 200, "still serving")
    finally:
        with open(env.config_file, "w") as f:
            f.write(original)
        os.kill(env.master_pid(), signal.SIGHUP)
    env.wait("limit restored", lambda: env.request(
        "POST", path, raw_body=body, key=key, headers={"Content-Type": "application/json"}
    )[0] != 413)


def test_secret_key_rotation_keeps_old_codes_and_keys_working(env):
    _, key = tenant(env)
    addr = env.new_address()
    vid = env.start(key, addr)[2]["data"]["id"]
    code = env.code_from_mail(addr)
    original = open(env.config_file).read()
    old_secret = env.conf["SECRET_KEY"]
    new_secret = os.urandom(32).hex()
    old_workers = env.worker_pids()
    try:
        with open(env.config_file, "w") as f:
            f.write(original.replace(old_secret, new_secret) +
                    "secret_key_previous = %s\n" % old_secret)
        os.kill(env.master_pid(), signal.SIGHUP)
        env.wait("new workers", lambda: not set(env.worker_pids()) & set(old_workers))
        st, _, body = env.request("GET", "/v1/verifications/email/" + vid, key=key)
        check(st == 200, "a key made under the old secret still works: %d" % st)
        st, _, body = env.request("POST", "/v1/verifications/email/%s/verify" % vid,
                                  body={"code": code}, key=key)
        check(st == 200, "a code made under the old secret still verifies: %d %r" % (st, body))
        new_key = env.ctl_json("key", "create", "--tenant",
                               env.psql("SELECT name FROM tenants t JOIN api_keys k ON"
                                        " k.tenant_id = t.id WHERE k.key_prefix = :'p1'",
                                        key[:12])[0][0])["key"]
        check(env.request("GET", "/v1/verifications/email", key=new_key)[0] == 200,
              "a key made under the new secret works")
        with open(env.config_file, "w") as f:
            f.write(original.replace(old_secret, new_secret))
        workers = env.worker_pids()
        os.kill(env.master_pid(), signal.SIGHUP)
        env.wait("newer workers", lambda: not set(env.worker_pids()) & set(workers))
        st, _, _ = env.request("GET", "/v1/verifications/email", key=key)
        check(st == 401, "without secret_key_previous the old key is unknown: %d" % st)
    finally:
        with open(env.config_file, "w") as f:
            f.write(original)
        workers = env.worker_pids()
        os.kill(env.master_pid(), signal.SIGHUP)
        env.wait("restored", lambda: not set(env.worker_pids()) & set(workers))


def test_sigterm_lets_the_in_flight_request_finish(env):
    tid, key = tenant(env)
    vid = env.insert_verification(tid, code="739201")
    # Hold the row lock so the verify request is in flight inside a worker.
    locker = subprocess.Popen(
        ["psql", "-h", "127.0.0.1", "-p", str(env.pg_port), "-U", "mailproof", "-d",
         "mailproof", "-qAtX"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        locker.stdin.write("BEGIN; SELECT 'locked' FROM verifications WHERE id = '%s' FOR UPDATE;\n"
                           % vid)
        locker.stdin.flush()
        check(locker.stdout.readline().strip() == "locked", "lock taken")
        result = {}
        t = threading.Thread(target=lambda: result.update(r=env.request(
            "POST", "/v1/verifications/email/%s/verify" % vid, body={"code": "739201"},
            key=key, timeout=30)))
        t.start()
        env.wait("the request to wait on the lock", lambda: env.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mailproof-fcgi'"
            " AND wait_event_type = 'Lock'") == [["1"]])
        master = env.master_pid()
        os.kill(master, signal.SIGTERM)
        time.sleep(1.0)
        check(t.is_alive(), "the request is still in flight")
        os.kill(master, 0)  # the master waits for it
        locker.stdin.write("COMMIT;\n")
        locker.stdin.flush()
        t.join(20)
        st, _, body = result["r"]
        check(st == 200 and body["data"]["status"] == "VERIFIED",
              "the in-flight request finished: %d %r" % (st, body))
        env.wait("the master to exit", lambda: not _alive(master))
        check(not os.path.exists(os.path.join(env.var, "run", "fcgi.sock")), "socket removed")
    finally:
        locker.stdin.close()
        locker.wait(10)
        env.service("fcgi", "start")
    env.wait("serving again", lambda: env.request("GET", "/healthz")[0] == 200)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    with open("/proc/%d/stat" % pid) as f:
        return f.read().split(") ")[1][0] != "Z"
