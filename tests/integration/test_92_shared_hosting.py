"""docs/shared-hosting.md, followed as written (issue 15): a system user
with no rights beyond its home directory, a PostgreSQL role that owns one
database and is neither superuser nor allowed to create databases or
roles, a private Apache running as that user whose only mailproof
settings are the doc's .htaccess (AllowOverride Options=ExecCGI FileInfo
AuthConfig, nothing else), the doc's mod_fcgid wrapper, and the doc's
crontab line run as the user on a timer instead of by a cron daemon.

The config, the setup commands, the wrapper, the .htaccess and the
crontab line are the doc's blocks marked `shared-hosting:NAME`, with only
paths, names, ports and the SMTP server put in: a doc that drifts from
the programs fails here.

It needs root (to create the user) and Apache's mod_fcgid and
mod_rewrite.  Without them every test here FAILS, saying why: the runner
has no skip, and a skipped test would pass silently."""
import fcntl
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import time

from harness import Receiver, Skip, check, free_port, verify_signatures

USER = "mpshared"
DB = "mpshared"
HOME = "/home/" + USER
MP = HOME + "/mailproof"
WEB = HOME + "/public_html"
APACHE_DIR = "/tmp/mailproof-shared-hosting-apache"  # the "host's" side, owned by USER
LOCK = "/tmp/mailproof-shared-hosting.lock"
MODULES = ("mpm_event", "authz_core", "mime", "dir", "rewrite", "fcgid")
MODDIR = "/usr/lib/apache2/modules"

S = {}  # what setup made: "broken" (why nothing can run), blocks, ports, processes


# ------------------------------------------------------------ the doc's blocks
def doc_blocks(env):
    """The code blocks of docs/shared-hosting.md marked <!-- shared-hosting:NAME -->."""
    with open(os.path.join(env.src, "docs", "shared-hosting.md")) as f:
        text = f.read()
    blocks = dict(re.findall(r"<!-- shared-hosting:(\w+) -->\n```[a-z]*\n(.*?)```\n", text,
                             re.S))
    for name in ("config", "setup", "wrapper", "htaccess", "crontab"):
        check(name in blocks, "docs/shared-hosting.md has its %s block" % name)
    check("mkdir -p ~/public_html/verify" in text,
          "the doc's web directory is ~/public_html/verify")
    return blocks


def doc_config(block, values, extra):
    """The doc's config with the values of keys in values put in (None: the line
    dropped), then the extra keys the test stack needs appended."""
    out, seen = [], set()
    for line in block.splitlines():
        m = re.match(r"^(\w+) = (.*)$", line)
        if m:
            seen.add(m.group(1))
            if m.group(1) in values:
                if values[m.group(1)] is None:
                    continue
                line = "%s = %s" % (m.group(1), values[m.group(1)])
        out.append(line)
    for k in values:
        check(k in seen, "the doc's config sets %s" % k)
    for k, v in extra.items():
        check(k not in seen, "the doc's config does not set %s" % k)
        out.append("%s = %s" % (k, v))
    return "\n".join(out) + "\n", seen


# ------------------------------------------------------------ as the user
def as_user(cmd, input=None, timeout=60):
    """Runs cmd (a list) as USER with the small environment cron or a login gives."""
    return subprocess.run(["runuser", "-u", USER, "--", "env", "-i", "HOME=" + HOME,
                           "USER=" + USER, "LOGNAME=" + USER, "SHELL=/bin/sh",
                           "PATH=/usr/bin:/bin", *cmd], input=input, capture_output=True,
                          text=True, timeout=timeout, cwd=HOME)


def cron_run():
    """The doc's crontab line, its command part run by /bin/sh as USER, as cron would."""
    p = as_user(["/bin/sh", "-c", S["cron_cmd"]])
    check(p.returncode == 0, "the cron command: exit %d: %s %s" % (p.returncode, p.stdout,
                                                                    p.stderr))


def write_as_user(path, text, mode):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    os.chown(path, S["uid"], S["gid"])


# ------------------------------------------------------------ clean-up
def _pids_of_user():
    p = subprocess.run(["pgrep", "-u", USER], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split()]


def _stop_apache():
    """Stops the Apache of this test (or of a killed earlier run) by its pid."""
    try:
        with open(os.path.join(APACHE_DIR, "apache.pid")) as f:
            pid = int(f.read().strip())
        if pwd.getpwuid(os.stat("/proc/%d" % pid).st_uid).pw_name == USER:
            os.kill(pid, signal.SIGTERM)
            end = time.monotonic() + 15
            while time.monotonic() < end and os.path.exists("/proc/%d" % pid):
                time.sleep(0.1)
    except (OSError, ValueError, KeyError):
        pass
    proc = S.pop("apache", None)
    if proc:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _clean(env):
    """Removes what this test (or a killed run of it) left: Apache, the processes
    it started as USER (by pid), the database and role, the user and its home."""
    _stop_apache()
    try:
        pwd.getpwnam(USER)
        exists = True
    except KeyError:
        exists = False
    if exists:
        for _ in range(50):  # what Apache started as USER: its mailproof-fcgi processes
            pids = _pids_of_user()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGTERM if _ < 20 else signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.1)
        subprocess.run(["userdel", "-r", USER], capture_output=True)
    shutil.rmtree(HOME, ignore_errors=True)
    try:
        env.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % DB, db="postgres", user="postgres")
        env.psql("DROP ROLE IF EXISTS %s" % USER, db="postgres", user="postgres")
    except AssertionError:
        pass
    shutil.rmtree(APACHE_DIR, ignore_errors=True)


# ------------------------------------------------------------ setup
def why_impossible():
    for m in MODULES:
        if not os.path.exists("%s/mod_%s.so" % (MODDIR, m)):
            return "no %s/mod_%s.so (apt install apache2 libapache2-mod-fcgid)" % (MODDIR, m)
    for prog in ("apache2", "runuser", "useradd", "flock"):
        if shutil.which(prog) is None and not os.path.exists("/usr/sbin/" + prog):
            return "no %s" % prog
    return None


def setup(env):
    if os.geteuid() != 0:
        S["skip"] = "needs root to create the system user %s (useradd); CI runs as root" % USER
        return
    why = why_impossible()
    if why:
        S["broken"] = "NOT RUN (dev.sh installs what it needs, so this is a failure): " + why
        print("test_92_shared_hosting: " + S["broken"], flush=True)
        return
    # one run of this file at a time on this machine: it owns a fixed user name
    S["lock"] = open(LOCK, "w")
    end = time.monotonic() + 300
    while True:
        try:
            fcntl.flock(S["lock"], fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError:
            if time.monotonic() > end:
                S["broken"] = "another run of test_92 held %s for 5 minutes" % LOCK
                return
            time.sleep(0.5)
    try:
        _setup(env)
    except Exception as e:  # noqa: BLE001 - reported by every test
        S["broken"] = "setup failed: %s" % e


def _setup(env):
    _clean(env)  # a killed earlier run
    S["blocks"] = doc_blocks(env)
    subprocess.run(["useradd", "--create-home", "--home-dir", HOME, "--shell", "/bin/sh",
                    "--user-group", USER], check=True, capture_output=True)
    pw = pwd.getpwnam(USER)
    S["uid"], S["gid"] = pw.pw_uid, pw.pw_gid
    # 1. the programs and their files, copied flat into ~/mailproof
    os.makedirs(MP)
    for prog in ("mailproof-fcgi", "mailproof-notifier", "mailproofctl"):
        shutil.copy2(os.path.join(env.build, prog), MP)
    for d in ("sql", "templates", "data"):
        shutil.copytree(os.path.join(env.src, d), os.path.join(MP, d))
    os.makedirs(os.path.join(WEB, "verify"))
    os.makedirs(APACHE_DIR)
    for top in (HOME, APACHE_DIR):
        subprocess.run(["chown", "-R", "%s:%s" % (USER, USER), top], check=True)
    # 2. the database, as a hosting panel makes it
    S["db_password"] = os.urandom(12).hex()
    env.psql("CREATE ROLE %s LOGIN PASSWORD '%s' NOSUPERUSER NOCREATEDB NOCREATEROLE"
             % (USER, S["db_password"]), db="postgres", user="postgres")
    env.psql("CREATE DATABASE %s OWNER %s" % (DB, USER), db="postgres", user="postgres")
    # 3. the doc's config, with this stack's addresses
    S["http_port"] = free_port()
    S["base"] = "http://127.0.0.1:%d/verify" % S["http_port"]
    text, seen = doc_config(S["blocks"]["config"], {
        "secret_key": os.urandom(32).hex(),
        "database_url": "postgresql://%s:%s@127.0.0.1:%d/%s" % (
            USER, S["db_password"], env.pg_port, DB),
        "public_base_url": S["base"],
        "smtp_host": "127.0.0.1",
        "smtp_port": env.conf["SMTP_PORT"],
        "smtp_starttls": "no",  # the stack's catcher has neither TLS nor AUTH
        "smtp_user": None,
        "smtp_password": None,
    }, {
        "webhook_allow_private": "true",  # the Receiver is on loopback
        "mx_check": "false",              # no DNS here
    })
    check(re.search(r"^mount_prefix = /verify$", text, re.M), "mount_prefix = /verify")
    check(re.search(r"^mail_delivery = queue$", text, re.M), "mail_delivery = queue")
    S["config"] = MP + "/mailproof.conf"
    write_as_user(S["config"], text, 0o600)
    # the crontab line: five time fields, then the command cron gives /bin/sh
    line = S["blocks"]["crontab"].strip()
    check("\n" not in line, "one crontab line")
    fields = line.split(None, 5)
    check(fields[:5] == ["*"] * 5, "every minute: %r" % fields[:5])
    check("--once" in fields[5] and "%" not in fields[5], "a cron command with --once")
    S["cron_cmd"] = fields[5]
    S["receiver"] = Receiver()


def need(*keys):
    if "skip" in S:
        raise Skip(S["skip"])
    check("broken" not in S, S.get("broken", ""))
    for k in keys:
        check(k in S, "an earlier test of this file failed before making %s" % k)


def teardown(env):
    if "lock" not in S:
        return
    try:
        if "receiver" in S:
            S["receiver"].stop()
        _stop_apache()
        log = os.path.join(APACHE_DIR, "error.log")
        if os.path.exists(log):
            shutil.copy(log, os.path.join(env.var, "log", "shared-hosting-apache.log"))
        _clean(env)
    finally:
        S["lock"].close()
        S.clear()


# ------------------------------------------------------------ Apache as the user
class UserApache:
    """Apache run by USER (as a host runs it for this account, with suexec or
    per-user pools): mod_fcgid, mod_rewrite, the web directory's .htaccess."""

    def __init__(self, env):
        self.port = S["http_port"]
        d = APACHE_DIR
        for sub in ("fcgid", "run"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
            os.chown(os.path.join(d, sub), S["uid"], S["gid"])
        conf = os.path.join(d, "apache.conf")
        with open(conf, "w") as f:
            f.write("".join("LoadModule %s_module %s/mod_%s.so\n" % (m, MODDIR, m)
                            for m in MODULES))
            f.write("""ServerName localhost
Listen 127.0.0.1:{port}
PidFile {d}/apache.pid
ErrorLog {d}/error.log
LogLevel warn
DefaultRuntimeDir {d}/run
TypesConfig /etc/mime.types
FcgidIPCDir {d}/fcgid
FcgidProcessTableFile {d}/fcgid/table
DocumentRoot {web}
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory {web}>
    AllowOverride Options=ExecCGI FileInfo AuthConfig
    Require all granted
</Directory>
<FilesMatch "^\\.ht">
    Require all denied
</FilesMatch>
""".format(port=self.port, d=d, web=WEB))
        os.chown(conf, S["uid"], S["gid"])
        p = as_user(["/usr/sbin/apache2", "-f", conf, "-t"])
        check(p.returncode == 0, "apache2 -t: %s" % p.stderr)
        # its own session: Apache's shutdown signals its process group
        S["apache"] = subprocess.Popen(
            ["runuser", "-u", USER, "--", "env", "-i", "PATH=/usr/bin:/bin",
             "/usr/sbin/apache2", "-f", conf, "-DFOREGROUND"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        env.wait("the user's Apache", lambda: self._try("GET", "/verify/healthz")[0] == 200,
                 timeout=20)

    def _try(self, *a, **kw):
        try:
            return self.request(*a, **kw)
        except OSError:
            return (0, None, None)

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body)
            h["Content-Type"] = "application/json"
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            text = r.read()
            ctype = r.getheader("Content-Type", "")
        finally:
            c.close()
        try:
            return r.status, ctype, json.loads(text)
        except ValueError:
            return r.status, ctype, text


def errors():
    try:
        with open(os.path.join(APACHE_DIR, "error.log"), errors="replace") as f:
            return f.read()[-3000:]
    except OSError:
        return "(no error.log)"


# ------------------------------------------------------------ the tests
def test_setup_commands_as_the_user_with_a_plain_database_owner(env):
    need("config")
    rows = env.psql("SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles"
                    " WHERE rolname = :'p1'", USER, db="postgres", user="postgres")
    check(rows == [["f", "f", "f", "t"]], "the role is a plain login role: %r" % rows)
    st = os.stat(S["config"])
    check(st.st_mode & 0o777 == 0o600 and st.st_uid == S["uid"],
          "mailproof.conf is 600, the user's")
    block = S["blocks"]["setup"].replace("https://www.example.com/hooks/mailproof.php",
                                         S["receiver"].url)
    check(S["receiver"].url in block, "the setup block names a webhook URL")
    p = as_user(["/bin/sh", "-eu"], input=block)
    check(p.returncode == 0, "the doc's setup commands as %s: exit %d:\n%s\n%s" % (
        USER, p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", p.stdout)
    key = re.search(r"mpk_[A-Za-z0-9_-]+", p.stdout)
    check(secret and key, "tenant create and key create printed a secret and a key: %s" % p.stdout)
    S["whsec"], S["key"] = secret.group(0), key.group(0)
    # what migrate made belongs to the role; it needed no extension
    check(env.psql("SELECT extname FROM pg_extension ORDER BY 1", db=DB, user="postgres")
          == [["plpgsql"]], "no extension was created")
    owners = env.psql("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'",
                      db=DB, user="postgres")
    check(owners == [[USER]], "the tables belong to %s: %r" % (USER, owners))


def test_apache_serves_it_as_the_user_from_the_htaccess_alone(env):
    need("key")
    verify_dir = os.path.join(WEB, "verify")
    write_as_user(os.path.join(verify_dir, "mailproof.fcgi"),
                  S["blocks"]["wrapper"].replace("/home/alice", HOME), 0o755)
    write_as_user(os.path.join(verify_dir, ".htaccess"), S["blocks"]["htaccess"], 0o644)
    check("/home/alice" not in S["blocks"]["htaccess"], "the .htaccess names no home")
    S["web"] = UserApache(env)
    web = S["web"]
    st, ctype, body = web.request("GET", "/verify/healthz")
    check(st == 200 and body == {"status": "ok"}, "healthz: %d %r" % (st, body))
    # a wrong key: mailproof's 401 JSON, not an Apache page
    st, ctype, body = web.request("GET", "/verify/v1/verifications/email",
                                  headers={"Authorization": "Bearer mpk_wrong_0000000000"})
    check(st == 401 and ctype.startswith("application/json") and isinstance(body, dict)
          and body["error"]["code"] == "UNAUTHORIZED", "a wrong key: %d %s %r" % (st, ctype, body))
    st, _, body = web.request("GET", "/verify/v1/nothing", headers={"X-API-Key": S["key"]})
    check(st == 404 and body["error"]["code"] == "NOT_FOUND", "404 envelope: %d %r" % (st, body))
    st, _, _ = web.request("GET", "/verify/metrics")
    check(st == 403, "/metrics is refused by the .htaccess: %d" % st)
    # every process is the user's: Apache, and the mailproof-fcgi it spawned
    with open(os.path.join(APACHE_DIR, "apache.pid")) as f:
        apid = f.read().strip()
    fcgi = fcgi_pids()
    check(fcgi, "Apache spawned %s/mailproof-fcgi" % MP)
    users = subprocess.run(["ps", "-o", "user=", "-p", ",".join([apid] + fcgi)],
                           capture_output=True, text=True).stdout.split()
    check(users and set(users) == {USER}, "Apache and mailproof-fcgi run as %s: %r" % (USER, users))


def test_a_verification_through_apache_mail_and_webhook_by_cron(env):
    need("web")
    web, rx = S["web"], S["receiver"]
    address = env.new_address("shared")
    st, _, body = web.request("POST", "/verify/v1/verifications/email", body={"email": address},
                              headers={"Authorization": "Bearer " + S["key"]})
    check(st == 201, "start through Apache: %d %r\n%s" % (st, body, errors()))
    data = body["data"]
    check(data["status"] == "PENDING" and data["sent"] is False and
          data["delivery"]["status"] == "QUEUED", "queued, not sent: %r" % data)
    check(data.get("hostedVerifyUrl", S["base"]).startswith(S["base"] + "/"),
          "links are made from public_base_url: %r" % data.get("hostedVerifyUrl"))
    vid = data["id"]
    time.sleep(1)
    check(env.mails_to(address) == [], "no mail before the notifier runs")
    # cron, every second here instead of every minute
    for _ in range(10):
        cron_run()
        if env.mails_to(address):
            break
        time.sleep(1)
    check(env.mails_to(address), "the cron-run notifier sent the mail")
    code = env.code_from_mail(address)
    st, _, body = web.request("POST", "/verify/v1/verifications/email/%s/verify" % vid,
                              body={"code": code}, headers={"X-API-Key": S["key"]})
    check(st == 200 and body["data"]["status"] == "VERIFIED", "verify: %d %r" % (st, body))
    # Authorization reaches the program (CGIPassAuth)
    st, _, body = web.request("GET", "/verify/v1/verifications/email/" + vid,
                              headers={"Authorization": "Bearer " + S["key"]})
    check(st == 200 and body["data"]["status"] == "VERIFIED", "status: %d %r" % (st, body))

    def types():
        return {ev["type"] for _, ev in rx.events() if ev.get("data", {}).get("id") == vid}

    for _ in range(10):
        cron_run()
        if "email.verified" in types():
            break
        time.sleep(1)
    got = types()
    check({"verification.initiated", "email.verified"} <= got, "webhooks: %r" % got)
    reqs = [r for r in rx.requests if vid in r["body"]]
    results = verify_signatures(env, S["whsec"], reqs)
    check(results == ["ok"] * len(reqs), "signatures: %r" % results)


def fcgi_pids():
    return subprocess.run(["pgrep", "-f", "^%s/mailproof-fcgi" % MP], capture_output=True,
                          text=True).stdout.split()


def test_upgrade_as_the_doc_says(env):
    """Step 7: the program renamed over the old one, migrate again, the running
    processes ended with SIGTERM: the next requests get new processes."""
    need("web")
    web = S["web"]
    prog = MP + "/mailproof-fcgi"
    p = as_user(["/bin/sh", "-euc", "cp %s %s.new && mv %s.new %s" % (prog, prog, prog, prog)])
    check(p.returncode == 0, "cp and mv over the running program: %s" % p.stderr)
    p = as_user([MP + "/mailproofctl", "--config", S["config"], "migrate"])
    check(p.returncode == 0 and "nothing to do" in p.stdout, "migrate again: %s %s"
          % (p.stdout, p.stderr))
    old = fcgi_pids()
    check(old, "processes to replace")
    for pid in old:  # pkill -TERM -u USER -x mailproof-fcgi, by pid
        os.kill(int(pid), signal.SIGTERM)
    env.wait("the old processes to go", lambda: not set(old) & set(fcgi_pids()))
    answers = [web.request("GET", "/verify/healthz")[0] for _ in range(5)]
    check(answers == [200] * 5, "requests right after: %r\n%s" % (answers, errors()))
    new = fcgi_pids()
    check(new and not set(new) & set(old), "new processes: %r after %r" % (new, old))


def test_what_ran_and_what_was_written_belongs_to_the_user(env):
    need("web")
    made = []
    for root, dirs, files in os.walk(HOME):
        for name in dirs + files:
            path = os.path.join(root, name)
            if os.lstat(path).st_uid != S["uid"]:
                made.append(path)
    check(made == [], "files in the home not owned by %s: %r" % (USER, made[:10]))
    for name in ("notifier.log", "notifier.lock"):
        path = os.path.join(MP, name)
        check(os.path.exists(path), "the cron line made ~/mailproof/%s" % name)
    with open(os.path.join(MP, "notifier.log")) as f:
        log = f.read()
    check("level=error" not in log and "level=fatal" not in log, "notifier.log: %s" % log)
    for name in os.listdir(os.path.join(APACHE_DIR, "fcgid")):
        st = os.lstat(os.path.join(APACHE_DIR, "fcgid", name))
        check(st.st_uid == S["uid"], "mod_fcgid's %s belongs to %s" % (name, USER))
    log = errors()
    bad = [line for line in log.splitlines() if "app=mailproof-fcgi " in line and
           ("level=error " in line or "level=fatal " in line)]
    check(bad == [], "no mailproof errors in Apache's log: %r" % bad)
