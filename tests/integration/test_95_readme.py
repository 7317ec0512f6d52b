"""The README's walkthrough, run as written (issue 11): its shell block,
taken from README.md itself, against this test stack, with only the port,
the var/ and build/ paths and a tenant name put in.  A README that drifts
from the code fails here."""
import os
import re
import subprocess

from harness import check


def walkthrough(env):
    with open(os.path.join(env.src, "README.md")) as f:
        text = f.read()
    m = re.search(r"## A walk through what works\n\n```sh\n(.*?)```\n", text, re.S)
    check(m, "the README has its walkthrough")
    block = m.group(1)
    check(block.startswith("./dev.sh up\n"), "it starts with ./dev.sh up")
    shop = "shop-" + os.urandom(4).hex()
    return (block.replace("./dev.sh up\n", "", 1)
            .replace("http://127.0.0.1:8080", "http://127.0.0.1:%d" % env.http_port)
            .replace("$PWD/var/", env.var + "/").replace("var/", env.var + "/")
            .replace("build/", env.build + "/")
            .replace("--name shop ", "--name %s " % shop)
            .replace("--tenant shop ", "--tenant %s " % shop))


def demo_tenant(env):
    """What ./dev.sh up makes: the demo tenant, its key and its secret in var/."""
    if os.path.exists(os.path.join(env.var, "demo.key")):
        return
    if env.psql("SELECT count(*) FROM tenants WHERE name = 'demo'") == [["0"]]:
        t = env.ctl_json("tenant", "create", "--name", "demo", "--webhook-url",
                         "http://127.0.0.1:%s/hooks" % env.conf["HOOKS_PORT"])
        with open(os.path.join(env.var, "demo.whsec"), "w") as f:
            f.write(t["webhookSecret"] + "\n")
    with open(os.path.join(env.var, "demo.key"), "w") as f:
        f.write(env.ctl_json("key", "create", "--tenant", "demo")["key"] + "\n")


def test_the_readme_walkthrough_runs_as_written(env):
    demo_tenant(env)
    p = subprocess.run(["bash", "-eu", "-c", walkthrough(env)], capture_output=True,
                       text=True, timeout=120, cwd=env.src,
                       env=dict(os.environ, MAILPROOF_CONFIG=env.config_file))
    out = p.stdout
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr[-2000:]))
    check('"status":"PENDING","attempts":0' in out and '"sent":true' in out, "1. started")
    check('"code":"INVALID_CODE"' in out and '"attemptsRemaining":2' in out, "3. a wrong code")
    check('"status":"VERIFIED"' in out, "3. the right code")
    check(out.count('"status":"CANCELED"') >= 1, "cancel of the second verification: %s" % out)
    check("ALREADY_VERIFIED" not in out, "resend and cancel act on a PENDING one")
    check('"method":"MAGIC_LINK"' in out, "5. a magic link")
    check("signature ok" in out, "6. the signature checks: %s" % out[-1500:])
    check("mailproof_http_requests_total" in out, "metrics")
    check("revoked" in out, "the key is revoked")
