"""Where the programs find sql/, templates/ and data/ (issue 15): beside
themselves, in a build tree (this stack's config names none of them, and
dev.sh migrates without --sql-dir), a directory they were copied into, or
an install whose prefix moved; else where data_dir says, with the file
keys' relative paths under it."""
import os
import shutil
import subprocess
import tempfile

from harness import check


def ctl(env, exe, *args, **environ):
    p = subprocess.run([exe, *args], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, MAILPROOF_CONFIG=env.config_file,
                                **{"MAILPROOF_" + k.upper(): v for k, v in environ.items()}))
    return p.returncode, p.stdout + p.stderr


def templates_line(out):
    return next((l for l in out.splitlines() if " templates" in l), "")


def copy_of_ctl(env, where):
    os.makedirs(where, exist_ok=True)
    exe = os.path.join(where, "mailproofctl")
    shutil.copy2(os.path.join(env.build, "mailproofctl"), exe)
    return exe


def shipped_files(env, where):
    for d in ("sql", "templates", "data"):
        shutil.copytree(os.path.join(env.src, d), os.path.join(where, d))


def test_a_build_tree_finds_the_source_trees_files(env):
    with open(env.config_file) as f:
        conf = f.read()
    check("data_dir" not in conf and "template_dir" not in conf and "domains_file" not in conf,
          "the stack's config names no data path")
    rc, out = ctl(env, os.path.join(env.build, "mailproofctl"), "migrate")
    check(rc == 0 and "nothing to do" in out, "migrate from the build: %d %s" % (rc, out))
    rc, out = ctl(env, os.path.join(env.build, "mailproofctl"), "doctor")
    line = templates_line(out)
    check("\u2713" in line and os.path.join(env.src, "templates") in line, "doctor: %s" % out)


def test_a_moved_install_and_a_copied_directory_find_their_own(env):
    top = tempfile.mkdtemp(prefix="mailproof-datadir-")
    try:
        moved = os.path.join(top, "moved")      # a --prefix install, moved elsewhere
        shipped_files(env, os.path.join(moved, "share", "mailproof"))
        flat = os.path.join(top, "flat")        # ~/mailproof on a shared host
        shipped_files(env, flat)
        for exe, data in ((copy_of_ctl(env, os.path.join(moved, "bin")),
                           os.path.join(moved, "share", "mailproof")),
                          (copy_of_ctl(env, flat), flat)):
            rc, out = ctl(env, exe, "migrate")
            check(rc == 0 and "nothing to do" in out, "%s migrate: %d %s" % (exe, rc, out))
            rc, out = ctl(env, exe, "doctor")
            line = templates_line(out)
            check("\u2713" in line and os.path.join(data, "templates") in line,
                  "%s doctor: %s" % (exe, out))
            # a broken copy fails: the schema found is this one, not the source tree's
            os.remove(os.path.join(data, "templates", "otp.html"))
            rc, out = ctl(env, exe, "doctor")
            check("\u2717" in templates_line(out) and "otp.html" in out, "%s: %s" % (exe, out))
    finally:
        shutil.rmtree(top)


def test_data_dir_says_where_and_relative_paths_are_under_it(env):
    top = tempfile.mkdtemp(prefix="mailproof-datadir-")
    try:
        exe = copy_of_ctl(env, os.path.join(top, "lone"))   # nothing beside it
        rc, out = ctl(env, exe, "migrate")
        if rc != 0:  # unless an install is at the configured pkgdatadir
            check("sql" in out and "data_dir" in out and "--sql-dir" in out,
                  "a clear error: %s" % out)
        rc, out = ctl(env, exe, "migrate", data_dir=env.src)
        check(rc == 0 and "nothing to do" in out, "data_dir: %d %s" % (rc, out))
        mine = os.path.join(top, "mine")
        shutil.copytree(os.path.join(env.src, "templates"), os.path.join(mine, "tpl"))
        rc, out = ctl(env, exe, "doctor", data_dir=mine, template_dir="tpl")
        check(os.path.join(mine, "tpl") in templates_line(out), "relative: %s" % out)
        rc, out = ctl(env, exe, "doctor", data_dir=mine,
                      template_dir=os.path.join(env.src, "templates"))
        check(os.path.join(env.src, "templates") in templates_line(out), "absolute: %s" % out)
    finally:
        shutil.rmtree(top)
