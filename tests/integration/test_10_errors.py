"""The errors common to all routes (SPEC section 2), through lighttpd."""

from harness import check, expect_error

def key(env):
    return env.shared_tenant("errors")[1]


VERIFY = "/v1/verifications/email/ev_00000000000000000000000000/verify"


def test_healthz_answers_ok(env):
    st, h, body = env.request("GET", "/healthz")
    check(st == 200 and body == {"status": "ok"}, "healthz: %d %r" % (st, body))
    check(h.get("x-request-id", "").startswith("req_"), "X-Request-Id generated")


def test_unknown_route_is_404_envelope(env):
    expect_error(env.request("GET", "/v1/nothing-here"), 404, "NOT_FOUND")
    expect_error(env.request("GET", "/"), 404, "NOT_FOUND")
    expect_error(env.request("GET", "/v1/verifications/email/ev_x/verify/more"), 404, "NOT_FOUND")


def test_wrong_method_is_405_with_allow(env):
    r = env.request("DELETE", "/healthz")
    expect_error(r, 405, "METHOD_NOT_ALLOWED")
    check(r[1].get("allow") == "GET, HEAD", "Allow: %r" % r[1].get("allow"))
    r = env.request("PUT", "/v1/verifications/email/ev_00000000000000000000000000")
    expect_error(r, 405, "METHOD_NOT_ALLOWED")
    check(r[1].get("allow") == "GET, HEAD", "Allow: %r" % r[1].get("allow"))
    r = env.request("GET", VERIFY)
    expect_error(r, 405, "METHOD_NOT_ALLOWED")
    check(r[1].get("allow") == "POST", "Allow: %r" % r[1].get("allow"))


def test_request_id_from_client_kept_only_when_safe(env):
    _, h, _ = env.request("GET", "/healthz", headers={"X-Request-Id": "abc-123.X_y"})
    check(h["x-request-id"] == "abc-123.X_y", "safe id echoed: %r" % h["x-request-id"])
    for bad in ("has space", "a" * 65, "semi;colon", "quote\"x"):
        _, h, _ = env.request("GET", "/healthz", headers={"X-Request-Id": bad})
        check(h["x-request-id"].startswith("req_"), "unsafe id %r replaced" % bad)


def test_missing_key_is_401(env):
    r = expect_error(env.request("GET", "/v1/verifications/email/ev_00000000000000000000000000"),
                     401, "UNAUTHORIZED")
    check(r is not None)


def test_malformed_and_unknown_keys_are_401(env):
    path = "/v1/verifications/email/ev_00000000000000000000000000"
    for k in ("nonsense", "mpk_short", "mpk_" + "A" * 43, "Bearer", "mpk_" + "!" * 43):
        expect_error(env.request("GET", path, headers={"Authorization": "Bearer " + k}),
                     401, "UNAUTHORIZED")
        expect_error(env.request("GET", path, headers={"X-API-Key": k}), 401, "UNAUTHORIZED")
    expect_error(env.request("GET", path, headers={"Authorization": "Basic Zm9vOmJhcg=="}),
                 401, "UNAUTHORIZED")


def test_unsupported_media_type_is_415(env):
    k = key(env)
    expect_error(env.request("POST", VERIFY, raw_body=b'{"code":"1"}', key=k), 415,
                 "UNSUPPORTED_MEDIA_TYPE")
    expect_error(env.request("POST", VERIFY, raw_body=b'{"code":"1"}', key=k,
                             headers={"Content-Type": "text/plain"}), 415,
                 "UNSUPPORTED_MEDIA_TYPE")
    expect_error(env.request("POST", VERIFY, raw_body=b'code=1', key=k,
                             headers={"Content-Type": "application/x-www-form-urlencoded"}),
                 415, "UNSUPPORTED_MEDIA_TYPE")
    # parameters of the media type are fine
    st, _, _ = env.request("POST", VERIFY, raw_body=b'{"code":"1"}', key=k,
                           headers={"Content-Type": "application/json; charset=utf-8"})
    check(st == 404, "json with charset accepted: %d" % st)


def test_body_over_max_body_bytes_is_413(env):
    big = b'{"code":"' + b"1" * 20000 + b'"}'
    r = expect_error(env.request("POST", VERIFY, raw_body=big, key=key(env),
                                 headers={"Content-Type": "application/json"}),
                     413, "PAYLOAD_TOO_LARGE")
    check(r["error"]["details"].get("maxBytes") == 16384, "details name the limit")


def test_bad_json_is_400(env):
    k = key(env)
    cases = {
        "syntax": b'{"code": ',
        "trailing data": b'{"code":"1"} x',
        "invalid utf-8": b'{"code":"\xff\xfe"}',
        "duplicate keys": b'{"code":"1","code":"2"}',
        "not an object": b'["code"]',
        "a bare string": b'"code"',
        "empty body": b'',
        "NUL escape": b'{"code":"1\\u0000"}',
    }
    for what, raw in cases.items():
        r = env.request("POST", VERIFY, raw_body=raw, key=k,
                        headers={"Content-Type": "application/json"})
        try:
            expect_error(r, 400, "INVALID_REQUEST")
        except AssertionError as e:
            raise AssertionError("%s: %s" % (what, e))


def test_wrong_types_and_fields_are_400(env):
    k = key(env)
    for body in ({"code": 123456}, {"code": None}, {"code": ["1"]}, {"code": {"a": 1}},
                 {"code": True}, {}, {"code": "1", "extra": 1}, {"code": ""},
                 {"code": "1" * 129}):
        expect_error(env.request("POST", VERIFY, body=body, key=k), 400, "INVALID_REQUEST")
    for body in ({"verificationId": 5, "code": "1"}, {"code": "1"},
                 {"verificationId": "ev_00000000000000000000000000"}):
        expect_error(env.request("POST", "/v1/verifications/email/verify", body=body, key=k),
                     400, "INVALID_REQUEST")


def test_internal_error_is_500_without_internals(env):
    k = key(env)
    path = "/v1/verifications/email/ev_00000000000000000000000000"
    env.psql("REVOKE SELECT ON verifications FROM mailproof")
    try:
        r = env.request("GET", path, key=k)
    finally:
        env.psql("GRANT SELECT ON verifications TO mailproof")
    body = expect_error(r, 500, "INTERNAL_ERROR")
    text = str(body).lower()
    for leak in ("select", "permission", "verifications", "sql", "postgres", "denied"):
        check(leak not in text, "500 answer leaks %r: %s" % (leak, body))
    check(env.request("GET", path, key=k)[0] == 404, "works again after the grant")
