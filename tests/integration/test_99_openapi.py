"""docs/openapi.yaml against a real OpenAPI validator, and every answer and
webhook this run received against it (last, once the other files have
run): tests/node/openapi-check.mjs, with @seriousme/openapi-schema-validator
and ajv (JSON Schema 2020-12).  The answers are recorded by
harness.record_answer in $MPDEV_ANSWERS, the webhooks the tests' receivers
got by harness.record_webhook in $MPDEV_WEBHOOKS (run.py sets both)."""
import json
import os
import subprocess
import tempfile

from harness import check

ID = "ev_01JB7ZQ5V1R9M2C8X4T6W3N0KD"


def checker(env, *args):
    """Runs openapi-check.mjs; returns (exit status, stdout + stderr)."""
    node = os.path.join(env.src, "tests", "node")
    for pkg in ("@seriousme/openapi-schema-validator", "ajv", "ajv-formats", "yaml"):
        check(os.path.isdir(os.path.join(node, "node_modules", pkg)),
              "tests/node/node_modules lacks %s: run `npm ci` in tests/node" % pkg)
    p = subprocess.run(["node", os.path.join(node, "openapi-check.mjs"), *args],
                       capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr


def doc(env):
    return os.path.join(env.src, "docs", "openapi.yaml")


def recorded(name):
    path = os.environ.get(name)
    check(path and os.path.isfile(path), "$%s names no file: %r" % (name, path))
    with open(path) as f:
        return path, [json.loads(line) for line in f if line.strip()]


def test_document_is_valid_openapi(env):
    rc, out = checker(env, "validate", doc(env))
    check(rc == 0 and "0 problems" in out, "docs/openapi.yaml:\n" + out[-4000:])


def test_the_checker_is_not_vacuous(env):
    """A real start's answer passes; the same with a field the document
    lacks, an answer of a route it lacks and a status a route does not
    declare each fail."""
    _, k = env.tenant_with_key("openapi-" + os.urandom(4).hex())
    st, _, body = env.start(k["key"])
    check(st == 201, "start: %d %r" % (st, body))
    _, answers = recorded("MPDEV_ANSWERS")
    real = [a for a in answers if a["method"] == "POST" and a["status"] == 201
            and body["data"]["id"] in a["body"]]
    check(len(real) == 1, "the start's answer is recorded once: %d" % len(real))
    extra = json.loads(real[0]["body"])
    extra["data"]["bogus"] = 1
    nested = json.loads(real[0]["body"])
    nested["data"]["delivery"]["queuedAt"] = None
    cases = [
        ("the real start", dict(real[0]), True, None),
        ("a field added to data", dict(real[0], body=json.dumps(extra)), False, "'bogus'"),
        ("a field added to delivery", dict(real[0], body=json.dumps(nested)), False,
         "'queuedAt'"),
        ("a field missing", dict(real[0], body=real[0]["body"].replace('"linkViews"', '"x"')),
         False, "'linkViews'"),
        ("a route the document lacks",
         dict(real[0], method="GET", path="/v1/verifications/phone", status=200,
              body='{"success":true,"data":{}}'), False, "x-unrouted"),
        ("a status the route does not declare",
         dict(real[0], path="/v1/verifications/email/%s/cancel" % ID, status=418), False,
         "418"),
        ("a content type the status does not declare",
         dict(real[0], method="GET", path="/healthz", status=200, contentType="text/html",
              body="<p>ok</p>"), False, "text/html"),
        ("no X-Request-Id", dict(real[0], headers=["content-type"]), False, "X-Request-Id"),
    ]
    with tempfile.TemporaryDirectory() as d:
        for name, answer, passes, says in cases:
            path = os.path.join(d, "answers.jsonl")
            with open(path, "w") as f:
                f.write(json.dumps(answer) + "\n")
            rc, out = checker(env, "answers", doc(env), path)
            check((rc == 0) == passes and "1 answers checked, %d failed" % (not passes) in out,
                  "%s: exit %d\n%s" % (name, rc, out[-2000:]))
            check(says is None or says in out, "%s: the failure names %s:\n%s" % (name, says, out))


def test_every_answer_matches_its_schema(env):
    path, answers = recorded("MPDEV_ANSWERS")
    check(len(answers) > 0, "no answer recorded in %s" % path)
    rc, out = checker(env, "answers", doc(env), path)
    check(rc == 0, "answers that docs/openapi.yaml does not describe:\n" + out[-6000:])
    print("       " + out.strip().splitlines()[-1], flush=True)  # N answers checked, 0 failed


def test_every_webhook_matches_its_schema(env):
    """The events the tests' receivers got (none in a run of this file
    alone: then one of each kind that a start, a check and a cancel make,
    delivered to a receiver of this test)."""
    path, hooks = recorded("MPDEV_WEBHOOKS")
    if not hooks:
        from harness import Receiver
        rx = Receiver()
        try:
            t, k = env.tenant_with_key("openapi-hooks-" + os.urandom(4).hex(),
                                       webhook_url=rx.url)
            addr = env.new_address()
            st, _, body = env.start(k["key"], addr)
            check(st == 201, "start: %d %r" % (st, body))
            vid = body["data"]["id"]
            env.request("POST", "/v1/verifications/email/%s/verify" % vid, key=k["key"],
                        body={"code": env.code_from_mail(addr)})
            env.wait("two webhooks", lambda: len(rx.requests) >= 2, timeout=30)
        finally:
            rx.stop()
        path, hooks = recorded("MPDEV_WEBHOOKS")
    rc, out = checker(env, "webhooks", doc(env), path)
    check(rc == 0, "webhooks that docs/openapi.yaml does not describe:\n" + out[-6000:])
    print("       " + out.strip().splitlines()[-1], flush=True)  # N webhooks checked, 0 failed
    # the stack's own catcher (the tenants made with its URL) writes the same lines
    catcher = os.path.join(env.var, "webhooks.jsonl")
    if os.path.isfile(catcher) and os.path.getsize(catcher):
        rc, out = checker(env, "webhooks", doc(env), catcher)
        check(rc == 0, "webhooks of the catcher:\n" + out[-6000:])
