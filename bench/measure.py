#!/usr/bin/python3
"""The cases of bench/run.sh, run against the stack it started.

Each case is one wrk (or pgbench) run.  Around it, the CPU time of each
process group (PostgreSQL: the postmaster and everything under it; the
application: mailproof-fcgi's master and workers, PHP-FPM or the hello
responders; lighttpd; the load generator) is read from /proc/PID/stat, so
the table shows microseconds of CPU per request next to the rate.  Prints
the table, writes it to bench/results/, and ends with one
"ratio NAME VALUE" line per target.  Standard library only."""
import datetime
import hashlib
import os
import re
import subprocess
import sys
import time

VAR = os.environ["BENCH_VAR"]
TOP = os.environ["BENCH_TOP"]
SECS = int(os.environ.get("BENCH_SECONDS", "12"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
LARGE = os.environ.get("BENCH_LARGE") == "1"
NOT_DURABLE = os.environ.get("BENCH_NOT_DURABLE") == "1"
# the --pg settings, named in the result file: "commit_delay = 100" -> "-commit_delay-100"
PG_TAG = "".join("-" + "-".join(re.findall(r"[A-Za-z0-9_.]+", line))
                 for line in os.environ.get("BENCH_PG", "").splitlines() if line.strip())
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
ONLY = [c for c in os.environ.get("BENCH_ONLY", "").split(",") if c]
THREADS = 2
TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")

ENV = dict(line.strip().split("=", 1) for line in open(os.path.join(VAR, "dev.env")) if "=" in line)
PG_PORT, HTTP_PORT = ENV["PG_PORT"], ENV["HTTP_PORT"]
BASE = "http://127.0.0.1:%s" % HTTP_PORT
WRONG_ROWS, RIGHT_ROWS = 100000, 100000      # right codes: one block per run


def say(msg):
    print("==> " + msg, file=sys.stderr, flush=True)


def wanted(case):
    return not ONLY or case in ONLY


def psql(sql, db="mailproof", stdin=None):
    p = subprocess.run(["psql", "-h", "127.0.0.1", "-p", PG_PORT, "-U", "postgres", "-d", db,
                        "-qAtX", "-v", "ON_ERROR_STOP=1", "-F", "\t", "-c", sql],
                       input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("bench: psql: " + p.stderr.strip())
    return p.stdout.strip()


def psql_file(path, db):
    p = subprocess.run(["psql", "-h", "127.0.0.1", "-p", PG_PORT, "-U", "postgres", "-d", db,
                        "-qAtX", "-v", "ON_ERROR_STOP=1", "-f", path],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("bench: psql -f %s: %s" % (path, p.stderr.strip()))


def ctl(*args):
    p = subprocess.run([os.path.join(ENV["BUILD"], "mailproofctl"), *args, "--json"],
                       capture_output=True, text=True, check=True)
    return p.stdout


# ------------------------------------------------------------ CPU accounting
def read_pid(path):
    with open(path) as f:
        return [int(x) for x in f.read().split() if x.isdigit()][:64]


def proc_table():
    """pid -> (ppid, utime + stime + cutime + cstime in ticks)."""
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        table[int(d)] = (int(rest[1]), sum(int(x) for x in rest[11:15]))
    return table


def group_ticks(table, roots):
    """CPU of the roots and all their descendants.  A child that exits is
    reaped by its parent, whose cutime then holds it, so deltas stay whole."""
    kids = {}
    for pid, (ppid, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    total, todo, seen = 0, list(roots), set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in table:
            continue
        seen.add(pid)
        total += table[pid][1]
        todo.extend(kids.get(pid, []))
    return total


GROUPS = {
    "pg": lambda: read_pid(os.path.join(ENV["PGDATA"], "postmaster.pid"))[:1],
    "mailproof": lambda: read_pid(os.path.join(VAR, "run", "fcgi.pid")),
    "php": lambda: read_pid(os.path.join(VAR, "run", "php.pid")),
    "hello": lambda: read_pid(os.path.join(VAR, "run", "hello.pids")),
    "lighttpd": lambda: read_pid(os.path.join(VAR, "run", "lighttpd.pid")),
}
ROOTS = {}


def snapshot():
    t = proc_table()
    snap = {g: group_ticks(t, ROOTS[g]) for g in GROUPS}
    snap["wal"] = int(psql("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')"))
    return snap


def run_client(argv, env):
    """Runs the load generator; returns (its output, its CPU seconds)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env=dict(os.environ, **env))
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("bench: %s failed:\n%s" % (argv[0], out))
    return out, ru.ru_utime + ru.ru_stime


RESULTS = []


def record(name, conns, app, rate, n, p99, unexpected, before, after, client_s):
    per = lambda ticks: ticks * TICK_US / n if n else 0.0  # noqa: E731
    row = {
        "case": name, "conns": conns, "rate": rate, "n": n, "p99": p99,
        "unexpected": unexpected,
        "pg": per(after["pg"] - before["pg"]),
        "app": per(after[app] - before[app]) if app else 0.0,
        "lighttpd": per(after["lighttpd"] - before["lighttpd"]) if app else 0.0,
        "client": client_s * 1e6 / n if n else 0.0,
        "wal": (after["wal"] - before["wal"]) / n if n else 0.0,
    }
    RESULTS.append(row)
    say("%-34s c%-3d %9.0f req/s  p99 %s" % (name, conns, rate,
                                             "%.2f ms" % p99 if p99 is not None else "-"))
    return row


def wrk(name, app, url, conns, env, secs=SECS, expect=200):
    if app == "mailproof" or name.startswith("PHP"):
        psql("CHECKPOINT")
    before = snapshot()
    env = dict(env, MPBENCH_EXPECT=str(expect), MPBENCH_THREADS=str(THREADS))
    out, cpu = run_client(["wrk", "-t%d" % THREADS, "-c%d" % conns, "-d%ds" % secs,
                           "--latency", "-s", os.path.join(TOP, "bench", "wrk.lua"), url], env)
    after = snapshot()
    n = int(re.search(r"(\d+) requests in", out).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else None
    if expect < 300:
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        bad = int(m.group(1)) if m else 0
    else:
        bad = int(re.search(r"unexpected (\d+)", out).group(1))
    return record(name, conns, app, rate, n, p99, bad, before, after, cpu)


def pgbench(name, script, conns=16):
    psql("CHECKPOINT")
    before = snapshot()
    out, cpu = run_client(["pgbench", "-h", "127.0.0.1", "-p", PG_PORT, "-U", "postgres", "-n",
                           "-M", "prepared", "-j", str(THREADS), "-c", str(conns),
                           "-T", str(SECS), "-f", os.path.join(TOP, "bench", "peers", script),
                           "bench"], {})
    after = snapshot()
    n = int(re.search(r"number of transactions actually processed: (\d+)", out).group(1))
    rate = float(re.search(r"tps = ([\d.]+)", out).group(1))
    return record(name, conns, None, rate, n, None, 0, before, after, cpu)


# ------------------------------------------------------------ data
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def random_id():
    v = int.from_bytes(os.urandom(16), "big") << 2          # 130 bits, 26 characters
    return "ev_" + "".join(CROCKFORD[(v >> (5 * i)) & 31] for i in range(25, -1, -1))


def prepare_rows(tenant, key, count, path):
    """count PENDING OTP verifications with known codes, loaded with COPY;
    their "id code" lines go to path for wrk."""
    secret = bytes.fromhex(ENV["SECRET_KEY"])
    expires = (datetime.datetime.utcnow() + datetime.timedelta(days=29)).isoformat() + "Z"
    copy, lines, nonce = [], [], os.urandom(3).hex()
    for i in range(count):
        vid = random_id()
        code = "%06d" % (1 + int.from_bytes(os.urandom(4), "big") % 999999)  # never 000000
        h = hashlib.blake2b(b"otp\0" + vid.encode() + b"\0" + code.encode(), key=secret,
                            digest_size=32).hexdigest()
        addr = "row%d-%s@example.com" % (i, nonce)
        copy.append("\t".join([vid, tenant, key, addr, addr, "OTP", "numeric", "6", "\\\\x" + h,
                               "10", expires, "2592000", "SENT"]))
        lines.append("%s %s" % (vid, code))
    psql("COPY verifications (id, tenant_id, api_key_id, email, email_norm, method,"
         " token_format, code_length, secret_hash, max_attempts, expires_at, ttl_seconds,"
         " delivery_status) FROM STDIN", stdin="\n".join(copy) + "\n")
    psql("VACUUM ANALYZE verifications")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def setup_data():
    say("bench database for pgbench and PHP (1 M rows)")
    psql("DROP DATABASE IF EXISTS bench", db="postgres")
    psql("CREATE DATABASE bench", db="postgres")
    psql_file(os.path.join(TOP, "bench", "peers", "schema.sql"), "bench")
    psql_file(os.path.join(TOP, "bench", "peers", "prefill.sql"), "bench")
    if LARGE:
        say("large database: 10 M verifications, an hour of counters for 100k addresses")
        t0 = time.monotonic()
        psql_file(os.path.join(TOP, "bench", "large.sql"), "mailproof")
        say("filled in %.0f s" % (time.monotonic() - t0))
    name = "bench-%d" % os.getpid()
    tenant = re.search(r'"id": (\d+)', ctl("tenant", "create", "--name", name)).group(1)
    out = ctl("key", "create", "--tenant", name)
    key = re.search(r'"key": "(mpk_[^"]+)"', out).group(1)
    key_id = re.search(r'"id": (\d+)', out).group(1)
    psql("UPDATE tenants SET rate_per_key_per_minute = 0 WHERE id = %s" % tenant)
    rows = os.path.join(VAR, "rows.txt")
    count = WRONG_ROWS + (ROUNDS + 1) * RIGHT_ROWS
    say("%d verifications with known codes" % count)
    prepare_rows(tenant, key_id, count, rows)
    return key, rows


def worker_rss_kib():
    t = proc_table()
    master = ROOTS["mailproof"][0]
    rss = []
    for pid, (ppid, _) in t.items():
        if ppid == master:
            with open("/proc/%d/status" % pid) as f:
                m = re.search(r"VmRSS:\s+(\d+)", f.read())
                rss.append(int(m.group(1)) if m else 0)
    return max(rss) if rss else 0


# ------------------------------------------------------------ report
def table():
    head = ("%-38s %5s %10s %8s %6s | %8s %8s %8s %8s | %8s | %s" %
            ("case", "conns", "req/s", "p99 ms", "bad", "pg µs", "app µs", "httpd µs", "load µs",
             "WAL B", "rounds (req/s)"))
    lines, seen = [head, "-" * len(head)], []
    for r in RESULTS:
        if (r["case"], r["conns"]) in seen:
            continue
        seen.append((r["case"], r["conns"]))
        b = find(r["case"], r["conns"])
        runs = [x["rate"] for x in RESULTS if x["case"] == r["case"] and x["conns"] == r["conns"]]
        lines.append("%-38s %5d %10.0f %8s %6d | %8.0f %8s %8s %8.0f | %8.0f | %s" % (
            b["case"], b["conns"], b["rate"], "%.2f" % b["p99"] if b["p99"] is not None else "-",
            sum(x["unexpected"] for x in RESULTS if x["case"] == r["case"] and
                x["conns"] == r["conns"]),
            b["pg"], "%.0f" % b["app"] if b["app"] else "-",
            "%.0f" % b["lighttpd"] if b["lighttpd"] else "-", b["client"], b["wal"],
            " ".join("%.0f" % x for x in runs) if len(runs) > 1 else ""))
    return lines


def describe():
    """The commit measured."""
    return subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"],
                          capture_output=True, text=True).stdout.strip()


def find(name, conns=16):
    """The best round of a case."""
    runs = [r for r in RESULTS if r["case"] == name and r["conns"] == conns]
    return max(runs, key=lambda r: r["rate"]) if runs else None


def main():
    for g, f in GROUPS.items():
        ROOTS[g] = f()
    settings = psql("SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings"
                    " WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers',"
                    " 'commit_delay', 'commit_siblings', 'wal_level', 'full_page_writes',"
                    " 'wal_compression', 'max_wal_size', 'checkpoint_timeout')")
    durable = "fsync=on" in settings and "synchronous_commit=on" in settings
    if not durable and not NOT_DURABLE:
        sys.exit("bench: PostgreSQL is not durable (--not-durable measures it anyway): " + settings)
    key, rows = setup_data()
    nrows = psql("SELECT count(*) FROM verifications")
    rss_before = worker_rss_kib()
    mp = {"MPBENCH_KEY": key, "MPBENCH_ROWS": rows}

    right_block = [0]

    def cases(conns):
        """Every case once at conns connections (pgbench's at 16 only)."""
        if wanted("hello"):
            wrk("hello responder (FastCGI ceiling)", "hello", BASE + "/hello", conns,
                {"MPBENCH_MODE": "plain"})
        if wanted("php"):
            wrk("PHP-FPM initiate (2 INSERTs)", "php", BASE + "/initiate.php", conns,
                {"MPBENCH_MODE": "plain"})
        if wanted("pgbench") and conns == 16:
            pgbench("pgbench initiate CTE", "initiate_cte.sql")
            pgbench("pgbench verify CTE", "verify_cte.sql")
            pgbench("pgbench primary-key read", "status.sql")
        if wanted("status"):
            wrk("mailproof status GET", "mailproof", BASE, conns,
                dict(mp, MPBENCH_MODE="get", MPBENCH_FIRST="1", MPBENCH_COUNT=str(WRONG_ROWS)))
        if wanted("verify"):
            wrk("mailproof verify, wrong code", "mailproof", BASE, conns,
                dict(mp, MPBENCH_MODE="verify", MPBENCH_WRONG="1", MPBENCH_FIRST="1",
                     MPBENCH_COUNT=str(WRONG_ROWS)), expect=422)
            wrk("mailproof verify, right code", "mailproof", BASE, conns,
                dict(mp, MPBENCH_MODE="verify",
                     MPBENCH_FIRST=str(WRONG_ROWS + 1 + right_block[0] * RIGHT_ROWS),
                     MPBENCH_COUNT=str(RIGHT_ROWS)))
            right_block[0] += 1
        if wanted("start"):
            wrk("mailproof start (queue mode)", "mailproof", BASE, conns,
                dict(mp, MPBENCH_MODE="start", MPBENCH_NONCE=os.urandom(4).hex()), expect=201)

    # The machine's speed drifts over minutes: the 16-connection cases, which
    # the targets use, run in rounds, each peer next to the cases compared
    # with it, and each case counts with its best round.
    for _ in range(ROUNDS):
        cases(16)
    cases(64)
    paced = []
    for name, mode, expect in (("mailproof status GET", "get", 200),
                               ("mailproof start (queue mode)", "start", 201)):
        peak = find(name)
        if peak and wanted("paced"):
            # a pause before each request holds each connection near its share of half the peak
            delay = max(1, int(1000.0 * 16 / (peak["rate"] / 2)))
            r = wrk(name + ", half of peak", "mailproof", BASE, 16,
                    dict(mp, MPBENCH_MODE=mode, MPBENCH_NONCE=os.urandom(4).hex(),
                         MPBENCH_FIRST="1", MPBENCH_COUNT=str(WRONG_ROWS), MPBENCH_DELAY_MS=str(delay)),
                    expect=expect)
            paced.append(r)
    rss_after = worker_rss_kib()

    lines = table()
    lines.append("")
    lines.append("PostgreSQL: %s; %s verifications in the table%s" % (
        settings, nrows, " (large)" if LARGE else ""))
    lines.append("mailproof-fcgi: %d workers, largest worker RSS %.1f MiB before, %.1f MiB after" % (
        WORKERS, rss_before / 1024.0, rss_after / 1024.0))
    lines.append("%d s per case, the 16-connection ones in %d rounds (the best counts), %d wrk"
                 " threads, %d cores; %s" % (SECS, ROUNDS, THREADS, os.cpu_count(), describe()))
    if not durable:
        lines.append("NOT DURABLE: a commit may be lost in a crash; these ratios meet no target")
    lines.append("")
    bad = [r for r in RESULTS if r["unexpected"]]
    for r in bad:
        lines.append("warning: %s c%d: %d answers with an unexpected status" % (
            r["case"], r["conns"], r["unexpected"]))
    for name, mine, peer in (("start_vs_php", "mailproof start (queue mode)",
                              "PHP-FPM initiate (2 INSERTs)"),
                             ("status_vs_hello", "mailproof status GET",
                              "hello responder (FastCGI ceiling)"),
                             ("verify_wrong_vs_pgbench", "mailproof verify, wrong code",
                              "pgbench verify CTE"),
                             ("verify_right_vs_pgbench", "mailproof verify, right code",
                              "pgbench verify CTE")):
        a, b = find(mine), find(peer)
        if a and b:
            lines.append("%sratio %s %.2f" % ("" if durable else "not durable: ", name,
                                                a["rate"] / b["rate"]))
    text = "\n".join(lines) + "\n"
    print(text, end="")
    os.makedirs(os.path.join(TOP, "bench", "results"), exist_ok=True)
    out = os.path.join(TOP, "bench", "results", "%s%s%s%s.txt" % (
        time.strftime("%Y%m%d-%H%M%S"), "-large" if LARGE else "", PG_TAG,
        "" if durable else "-not-durable"))
    with open(out, "w") as f:
        f.write(text)
    say("written to " + os.path.relpath(out, TOP))


if __name__ == "__main__":
    main()
