#!/usr/bin/python3
"""Runs every test_* function of the test_*.py files beside this one, in
file order then definition order, against the stack named by
$MPDEV_VAR.  Prints one line per test and, last,
`N passed, N failed`; exits 1 on any failure.
`run.py PATTERN` runs only tests whose name contains PATTERN."""
import importlib.util
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Env  # noqa: E402


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    only = sys.argv[1] if len(sys.argv) > 1 else None
    env = Env()
    passed = failed = 0
    for fname in sorted(os.listdir(here)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(fname[:-3], os.path.join(here, fname))
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
            except Exception as e:  # noqa: BLE001 - a test's failure is reported, not raised
                failed += 1
                print("FAIL   %-60s %6.2fs" % (full, time.monotonic() - t0), flush=True)
                msg = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-3:])
                print("       " + msg.strip().replace("\n", "\n       "), flush=True)
        if hasattr(mod, "teardown"):
            mod.teardown(env)
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
