"""API keys with real keys of two tenants: isolation, scopes, revocation."""
import os
import subprocess

from harness import check, expect_error


def _two_tenants(env):
    tag = os.urandom(4).hex()
    ta, ka = env.tenant_with_key("alpha-" + tag)
    tb, kb = env.tenant_with_key("beta-" + tag)
    return ta, ka["key"], tb, kb["key"]


def test_bearer_and_x_api_key_both_authenticate(env):
    ta, ka, _, _ = _two_tenants(env)
    vid = env.insert_verification(ta["id"])
    path = "/v1/verifications/email/" + vid
    for h in ({"Authorization": "Bearer " + ka}, {"Authorization": "bearer " + ka},
              {"X-API-Key": ka}):
        st, _, body = env.request("GET", path, headers=h)
        check(st == 200 and body["success"] and body["data"]["id"] == vid, "%r: %d" % (h, st))


def test_other_tenants_verification_is_404(env):
    ta, ka, tb, kb = _two_tenants(env)
    vid = env.insert_verification(ta["id"], code="424242")
    path = "/v1/verifications/email/" + vid
    expect_error(env.request("GET", path, key=kb), 404, "VERIFICATION_NOT_FOUND")
    expect_error(env.request("POST", path + "/verify", body={"code": "424242"}, key=kb),
                 404, "VERIFICATION_NOT_FOUND")
    expect_error(env.request("POST", "/v1/verifications/email/verify",
                             body={"verificationId": vid, "code": "424242"}, key=kb),
                 404, "VERIFICATION_NOT_FOUND")
    rows = env.psql("SELECT status, attempts FROM verifications WHERE id = :'p1'", vid)
    check(rows == [["PENDING", "0"]], "untouched by the other tenant: %r" % rows)
    st, _, body = env.request("GET", path, key=ka)
    check(st == 200 and body["data"]["status"] == "PENDING", "owner sees it")


def test_scopes_are_enforced(env):
    tag = os.urandom(4).hex()
    t, kr = env.tenant_with_key("scoped-" + tag, scopes="verifications:read")
    kc = env.ctl_json("key", "create", "--tenant", "scoped-" + tag, "--scopes",
                      "verifications:check")
    check(kr["scopes"] == ["verifications:read"], "scopes echoed: %r" % kr["scopes"])
    vid = env.insert_verification(t["id"], code="111111")
    path = "/v1/verifications/email/" + vid
    r = expect_error(env.request("POST", path + "/verify", body={"code": "111111"},
                                 key=kr["key"]), 403, "SCOPE_REQUIRED")
    check(r["error"]["details"].get("scope") == "verifications:check", "names the scope")
    check(env.request("GET", path, key=kr["key"])[0] == 200, "read key reads")
    expect_error(env.request("GET", path, key=kc["key"]), 403, "SCOPE_REQUIRED")
    st, _, body = env.request("POST", path + "/verify", body={"code": "111111"}, key=kc["key"])
    check(st == 200 and body["data"]["status"] == "VERIFIED", "check key checks: %d" % st)


def test_revoked_key_is_401_from_the_next_request(env):
    t, k = env.tenant_with_key("revoke-" + os.urandom(4).hex())
    path = "/v1/verifications/email/" + env.insert_verification(t["id"])
    for _ in range(4):  # every worker has authenticated this key
        check(env.request("GET", path, key=k["key"])[0] == 200)
    out = env.ctl_json("key", "revoke", str(k["id"]))
    check(out["revoked"] is True and out["alreadyRevoked"] is False, "revoke: %r" % out)
    for _ in range(4):
        r = expect_error(env.request("GET", path, key=k["key"]), 401, "UNAUTHORIZED")
        check("revoked" in r["error"]["message"], "says revoked")
    again = env.ctl_json("key", "revoke", str(k["id"]))
    check(again["alreadyRevoked"] is True, "second revoke reports it")


def test_keys_are_stored_only_as_hashes(env):
    _, ka, _, kb = _two_tenants(env)
    dump = subprocess.run(["pg_dump", "-h", "127.0.0.1", "-p", str(env.pg_port),
                           "-U", "mailproof", "-d", "mailproof", "--data-only"],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    check("api_keys" in dump, "dump has the keys table")
    for k in (ka, kb):
        check(k not in dump and k[4:] not in dump, "plaintext key found in the database")
        check(k[4:24] not in dump, "a long piece of the key is in the database")


def test_request_log_has_one_line_per_request_and_no_secret(env):
    import re
    t, k = env.tenant_with_key("logging-" + os.urandom(4).hex())
    vid = env.insert_verification(t["id"], code="864209")
    rid = "trace-" + os.urandom(6).hex()
    env.request("POST", "/v1/verifications/email/%s/verify" % vid, body={"code": "864209"},
                key=k["key"], headers={"X-Request-Id": rid})
    env.request("POST", "/v1/verifications/email/%s/verify" % vid, body={"code": "975310"},
                headers={"X-API-Key": k["key"], "X-Request-Id": rid + "b"})
    log = env.wait("the log line", lambda: rid + "b" in env.log("fcgi.log") and env.log("fcgi.log"))
    lines = [l for l in log.splitlines() if "request_id=%s " % rid in l and "answered" in l]
    check(len(lines) == 1, "one line per request: %r" % lines)
    check(re.match(r'^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=info app=mailproof-fcgi '
                   r'pid=\d+ msg="request answered" request_id=%s method=POST '
                   r'route=/v1/verifications/email/\{id\}/verify status=200 duration_ms=\d+$' % rid,
                   lines[0]), "logfmt: %r" % lines[0])
    # the verification's own line names the same request
    check(any("request_id=%s verification=ev_" % rid in l for l in log.splitlines()),
          "the transition carries the request")
    for secret in (k["key"], k["key"][4:], "864209", "975310"):
        check(secret not in log, "a secret reached the log")
