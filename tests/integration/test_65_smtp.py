"""Mail server failures, each against its own prefork master pointed at a
bad SMTP address: refused connections and a server that never answers a
connect both give 502 EMAIL_SEND_FAILED within smtp_timeout_ms, and the
verification is FAILED."""
import json
import socket
import time

from harness import Master, check, fcgi_request, free_port


def _check_failed(env, key, st, body, started, bound):
    elapsed = time.monotonic() - started
    check(st == 502 and body["error"]["code"] == "EMAIL_SEND_FAILED", "%d %r" % (st, body))
    check(elapsed < bound, "answered in %.1f s, over the %.1f s bound" % (elapsed, bound))
    vid = body["error"]["details"]["verificationId"]
    st, _, got = env.request("GET", "/v1/verifications/email/" + vid, key=key)
    check(got["data"]["status"] == "FAILED" and got["data"]["delivery"]["status"] == "FAILED",
          "FAILED: %r" % got["data"])
    return got["data"]["delivery"]


def test_smtp_connection_refused_is_502(env):
    _, key = env.shared_tenant("smtp")
    port = free_port()
    m = Master(env, smtp_port=port, smtp_timeout_ms=2000)
    try:
        t0 = time.monotonic()
        st, _, out = fcgi_request(("127.0.0.1", m.port), {
            "REQUEST_METHOD": "POST", "REQUEST_URI": "/v1/verifications/email",
            "CONTENT_TYPE": "application/json", "HTTP_AUTHORIZATION": "Bearer " + key,
            "HTTP_X_REQUEST_ID": "smtp-refused-1"},
            json.dumps({"email": env.new_address()}).encode())
        body = json.loads(out)
        d = _check_failed(env, key, st, body, t0, 2.0 + 3)
        check(d["smtpCode"] is None and d["smtpReply"], "reply says why: %r" % d)
        m.log.flush()
        with open(m.log.name) as f:
            lines = [l for l in f if "mail failed" in l]
        check(len(lines) == 1 and "level=warning " in lines[0] and
              "request_id=smtp-refused-1 verification=ev_" in lines[0] and " tenant=" in lines[0]
              and ": mail failed at 127.0.0.1:%d" % port in lines[0],
              "one warning naming the request and the host: %r" % lines)
    finally:
        m.stop()


def test_smtp_host_that_never_answers_is_502_within_the_bound(env):
    _, key = env.shared_tenant("smtp")
    # A listener whose accept queue is full: the kernel drops further SYNs,
    # so connect() hangs as it would against a dead host.
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    port = hole.getsockname()[1]
    fillers = []
    for _ in range(2):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        fillers.append(c)
    time.sleep(0.2)
    m = Master(env, smtp_port=port, smtp_timeout_ms=1500)
    try:
        t0 = time.monotonic()
        st, body = m.start(key, {"email": env.new_address()})
        d = _check_failed(env, key, st, body, t0, 1.5 + 3)
        check("1500 ms" in d["smtpReply"], "reply names the timeout: %r" % d)
        check(fcgi_request(("127.0.0.1", m.port), {"REQUEST_URI": "/healthz"})[0] == 200,
              "the worker serves on")
    finally:
        m.stop()
        for c in fillers:
            c.close()
        hole.close()


def test_smtp_server_that_accepts_but_never_speaks_is_502(env):
    _, key = env.shared_tenant("smtp")
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(8)
    m = Master(env, smtp_port=mute.getsockname()[1], smtp_timeout_ms=1500)
    try:
        t0 = time.monotonic()
        st, body = m.start(key, {"email": env.new_address()})
        _check_failed(env, key, st, body, t0, 1.5 + 3)
    finally:
        m.stop()
        mute.close()
