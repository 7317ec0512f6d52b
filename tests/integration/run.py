#!/usr/bin/python3
"""Runs every test_* function of the test_*.py files beside this one, in
file order then definition order.  Prints one line per test and, last,
`N passed, N failed`; exits 1 on any failure.

    tests/integration/run.py [PATTERN] [--results FILE]

PATTERN runs only the tests whose "file.function" name contains it, such
as `test_30_verify` or `sigterm`.  Without $MPDEV_VAR the harness starts a
stack of its own on free ports (PostgreSQL, the SMTP and webhook
catchers, mailproof-fcgi, mailproof-notifier and lighttpd, with the
binaries of $MPDEV_BUILD, by default build/) and stops it at the end; with
$MPDEV_VAR it uses that stack (./dev.sh test passes its own).  Every
answer the tests receive is recorded in $MPDEV_ANSWERS (by default a
fresh $MPDEV_VAR/answers.jsonl), and every webhook their receivers get in
$MPDEV_WEBHOOKS ($MPDEV_VAR/webhooks-received.jsonl), which
test_99_openapi checks against docs/openapi.yaml.  Screenshots
of an own stack are kept in test-artifacts/run/.  --results
writes PASSED=N and FAILED=N to FILE."""
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from harness import Env, Skip  # noqa: E402


def own_stack():
    """Starts a throw-away stack; returns its directory, or exits 2."""
    build = os.environ.get("MPDEV_BUILD") or os.path.join(SRC, "build")
    if not os.access(os.path.join(build, "mailproof-fcgi"), os.X_OK):
        sys.exit("run.py: no mailproof-fcgi in %s: build first (./dev.sh up), "
                 "or set MPDEV_BUILD" % build)
    var = tempfile.mkdtemp(prefix="mailproof-test.", dir="/tmp")
    p = subprocess.run([os.path.join(SRC, "dev.sh"), "stack", "up", var, build])
    if p.returncode != 0:
        subprocess.run([os.path.join(SRC, "dev.sh"), "stack", "down", var])
        sys.exit("run.py: the stack did not start; its logs are in %s/log/" % var)
    return var


def run(only):
    env = Env()
    passed = failed = skipped = 0
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(fname[:-3], os.path.join(HERE, fname))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        tests = [(n, f) for n, f in vars(mod).items() if n.startswith("test_") and callable(f)]
        tests.sort(key=lambda t: t[1].__code__.co_firstlineno)
        if only:
            tests = [t for t in tests if only in "%s.%s" % (fname[:-3], t[0])]
        if not tests:
            continue
        # optional module-level setup(env) and teardown(env), run around its tests
        if hasattr(mod, "setup"):
            mod.setup(env)
        for name, fn in tests:
            full = "%s.%s" % (fname[:-3], name)
            t0 = time.monotonic()
            try:
                fn(env)
                passed += 1
                print("ok     %-60s %6.2fs" % (full, time.monotonic() - t0), flush=True)
            except Skip as e:
                skipped += 1
                print("skipped %-59s %s" % (full, e), flush=True)
            except Exception as e:  # noqa: BLE001 - a test's failure is reported, not raised
                failed += 1
                print("FAIL   %-60s %6.2fs" % (full, time.monotonic() - t0), flush=True)
                msg = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-3:])
                print("       " + msg.strip().replace("\n", "\n       "), flush=True)
        if hasattr(mod, "teardown"):
            mod.teardown(env)
    if skipped:
        print("%d skipped (neither passed nor failed: see their reasons above)" % skipped,
              flush=True)
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return passed, failed


def main():
    args, results, only = sys.argv[1:], None, None
    while args:
        a = args.pop(0)
        if a == "--results" and args:
            results = args.pop(0)
        elif a.startswith("-") or only is not None:
            sys.exit("usage: run.py [PATTERN] [--results FILE]")
        else:
            only = a
    os.environ.setdefault("MPDEV_SRC", SRC)
    var = None
    if "MPDEV_VAR" not in os.environ:
        var = os.environ["MPDEV_VAR"] = own_stack()
    # every answer and webhook of this run, for test_99_openapi (harness.record_answer,
    # harness.record_webhook)
    for name, fname in (("MPDEV_ANSWERS", "answers.jsonl"),
                        ("MPDEV_WEBHOOKS", "webhooks-received.jsonl")):
        if name not in os.environ:
            os.environ[name] = os.path.join(os.environ["MPDEV_VAR"], fname)
            open(os.environ[name], "w").close()
    passed = failed = 0
    try:
        passed, failed = run(only)
    finally:
        if var:
            subprocess.run([os.path.join(SRC, "dev.sh"), "stack", "down", var])
            if os.path.isdir(os.path.join(var, "artifacts")):
                kept = os.path.join(SRC, "test-artifacts", "run")
                shutil.copytree(os.path.join(var, "artifacts"), kept, dirs_exist_ok=True)
                print("screenshots of this run: %s/" % kept, flush=True)
            if failed:
                print("logs of this run: %s/log/" % var, flush=True)
            else:
                shutil.rmtree(var, ignore_errors=True)
    if results:
        with open(results, "w") as f:
            f.write("PASSED=%d\nFAILED=%d\n" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
