/*
 * Prefork supervisor.  Signals only set flags; the loop waits in ppoll()
 * with them unblocked, so no signal is lost between a check and the wait.
 */
#include "master.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#define BACKOFF_MAX_MS 30000
#define YOUNG_MS 1000		/* a worker dying sooner than this backs off */
#define RESIGNAL_MS 200		/* SIGTERM again: a worker may be entering accept() */

/* What a master hands the binary it executes on SIGUSR2. */
#define UPGRADE_CHECK_MS 30000	/* the new binary's --check-schema, at most */
#define ENV_LISTEN_FD "MAILPROOF_LISTEN_FD"
#define ENV_WORKERS "MAILPROOF_OLD_WORKERS"

struct slot {
	pid_t pid;
	int generation;
	int64_t started;
	int64_t spawn_at;	/* when an empty slot may be filled */
	int backoff_ms;
};

static volatile sig_atomic_t g_sigterm, g_sighup, g_sigchld, g_sigusr2;

static void on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		g_sigterm = 1;
	else if (sig == SIGHUP)
		g_sighup = 1;
	else if (sig == SIGCHLD)
		g_sigchld = 1;
	else if (sig == SIGUSR2)
		g_sigusr2 = 1;
}

static char g_unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

/* The listening socket a master handed over on SIGUSR2, or -1. */
static int taken_over(const char *spec)
{
	const char *v = getenv(ENV_LISTEN_FD), *errstr;
	int fd, listening = 0;
	socklen_t len = sizeof listening;

	if (v == NULL)
		return -1;
	fd = (int)util_parse_int(v, 3, 65535, &errstr);
	unsetenv(ENV_LISTEN_FD);
	if (errstr || getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 ||
	    !listening) {
		log_errx("%s=%s is not a listening socket; binding %s instead", ENV_LISTEN_FD, v,
			 spec);
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (strncmp(spec, "unix:", 5) == 0)
		snprintf(g_unix_path, sizeof g_unix_path, "%s", spec + 5);
	return fd;
}

int master_listen(const char *spec, unsigned socket_mode)
{
	int fd, one = 1;

	if ((fd = taken_over(spec)) >= 0)
		return fd;
	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un sun;
		const char *path = spec + 5;

		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		if (*path == '\0' || strlen(path) >= sizeof sun.sun_path) {
			log_errx("--listen %s: socket path is empty or too long", spec);
			return -1;
		}
		memcpy(sun.sun_path, path, strlen(path));
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			goto fail;
		unlink(path);
		if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
		    chmod(path, socket_mode) < 0)
			goto fail;
		snprintf(g_unix_path, sizeof g_unix_path, "%s", path);
	} else {
		struct addrinfo hints, *ai = NULL;
		const char *colon = strrchr(spec, ':');
		char host[256];
		int gai;

		if (colon == NULL || colon == spec || (size_t)(colon - spec) >= sizeof host) {
			log_errx("--listen %s: expected unix:PATH or HOST:PORT", spec);
			return -1;
		}
		snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
		memset(&hints, 0, sizeof hints);
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		if ((gai = getaddrinfo(host, colon + 1, &hints, &ai)) != 0) {
			log_errx("--listen %s: %s", spec, gai_strerror(gai));
			return -1;
		}
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
		    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			freeaddrinfo(ai);
			goto fail;
		}
		freeaddrinfo(ai);
	}
	if (listen(fd, 128) < 0)
		goto fail;
	return fd;
fail:
	log_warn("--listen %s", spec);
	if (fd >= 0)
		close(fd);
	return -1;
}

static void spawn(struct slot *s, int generation, int listen_fd, const struct config *cfg,
		  long max_requests)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_warn("fork");
		s->spawn_at = util_mono_ms() + 1000;
		return;
	}
	if (pid == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGCHLD, &sa, NULL);
		/* worker_run() unblocks the signals once its handlers are in. */
		_exit(worker_run(listen_fd, cfg, max_requests));
	}
	s->pid = pid;
	s->generation = generation;
	s->started = util_mono_ms();
	log_info("worker %ld started", (long)pid);
}

static void signal_all(struct slot *slots, int n, int generation_below, int sig)
{
	for (int i = 0; i < n; i++)
		if (slots[i].pid > 0 && slots[i].generation < generation_below)
			kill(slots[i].pid, sig);
}

/* Reaps children and sets when each emptied slot may be filled again. */
static void reap(struct slot *slots, int n, int stopping)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < n; i++) {
			struct slot *s = &slots[i];
			int64_t now = util_mono_ms();
			if (s->pid != pid)
				continue;
			s->pid = 0;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				log_info("worker %ld exited", (long)pid);
				s->backoff_ms = 0;
			} else {
				if (WIFSIGNALED(status))
					log_warnx("worker %ld killed by signal %d", (long)pid,
						  WTERMSIG(status));
				else
					log_warnx("worker %ld exited with status %d", (long)pid,
						  WEXITSTATUS(status));
				if (now - s->started < YOUNG_MS)
					s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : 500;
				else
					s->backoff_ms = 0;
				if (s->backoff_ms > BACKOFF_MAX_MS)
					s->backoff_ms = BACKOFF_MAX_MS;
				if (s->backoff_ms && !stopping)
					log_warnx("respawning in %d ms", s->backoff_ms);
			}
			s->spawn_at = now + s->backoff_ms;
		}
	}
}

/*
 * The workers of the master this one was before SIGUSR2, still serving:
 * old generation (0) in the first slots, replaced gracefully once the new
 * ones are started.  Returns how many.
 */
static int adopt(struct slot *slots, int nslots, const char *pids)
{
	char *copy = strdup(pids), *tok, *save = NULL;
	const char *errstr;
	int n = 0;

	for (tok = copy ? strtok_r(copy, " ", &save) : NULL; tok && n < nslots;
	     tok = strtok_r(NULL, " ", &save)) {
		long long pid = util_parse_int(tok, 2, INT_MAX, &errstr);
		if (errstr)
			continue;
		slots[n].pid = (pid_t)pid;
		slots[n].generation = 0;
		slots[n].started = util_mono_ms();
		n++;
	}
	free(copy);
	return n;
}

/* Runs the binary with argv and --check-schema, as a child; 0 when it says yes. */
static int upgrade_check(const char *exe, char *const *argv)
{
	char *args[64];
	int n = 0, status;
	pid_t pid;

	args[n++] = (char *)exe;
	for (int i = 1; argv[i] && n < 62; i++)
		args[n++] = argv[i];
	args[n++] = (char *)"--check-schema";
	args[n] = NULL;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);	/* the master's are blocked here */
		execv(exe, args);
		_exit(127);
	}
	/* bounded: meanwhile the master respawns no worker and hears no signal */
	for (int64_t until = util_mono_ms() + UPGRADE_CHECK_MS;;) {
		struct timespec step = { 0, 50000000L };
		pid_t got = waitpid(pid, &status, WNOHANG);
		if (got == pid)
			break;
		if (got < 0 && errno != EINTR)
			return -1;
		if (util_mono_ms() >= until) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			log_errx("upgrade: %s --check-schema gave no answer within %d s", exe,
				 UPGRADE_CHECK_MS / 1000);
			return -1;
		}
		nanosleep(&step, NULL);
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/*
 * SIGUSR2: once the binary on disk accepts the config and the database's
 * schema, executes it in this process.  The PID stays (pid files and
 * systemd follow it), the listening socket stays open throughout (no
 * connection is refused), and the workers, handed over by PID, go on
 * serving until the new master has started its own.  On any failure this
 * master goes on as it was.  Signals stay blocked across the exec: one
 * that comes meanwhile waits for the new master's handlers.
 */
static void upgrade(const struct master_opts *opts, const char *exe, int listen_fd,
		    const struct slot *slots, int nslots)
{
	char fd[16], pids[4096] = "";
	size_t used = 0;
	int n = 0;

	for (int i = 0; i < nslots; i++)
		if (slots[i].pid > 0 && used + 24 < sizeof pids) {
			used += (size_t)snprintf(pids + used, sizeof pids - used, "%s%ld",
						 n ? " " : "", (long)slots[i].pid);
			n++;
		}
	snprintf(fd, sizeof fd, "%d", listen_fd);
	/* the check sees what the new master will see */
	if (setenv(ENV_LISTEN_FD, fd, 1) < 0 || setenv(ENV_WORKERS, pids, 1) < 0 ||
	    fcntl(listen_fd, F_SETFD, 0) < 0) {
		log_warn("upgrade: could not hand over the socket");
		goto fail;
	}
	if (upgrade_check(exe, opts->argv) < 0) {
		log_errx("upgrade refused: %s --check-schema failed (its reason is logged above); "
			 "still running the old binary", exe);
		goto fail;
	}
	log_info("upgrading: executing %s, with the listening socket and %d workers", exe, n);
	execv(exe, opts->argv);
	log_warn("upgrade: could not execute %s", exe);
fail:
	fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
	unsetenv(ENV_LISTEN_FD);
	unsetenv(ENV_WORKERS);
}

int master_run(const struct master_opts *opts, int listen_fd, struct config *cfg)
{
	const char *handed = getenv(ENV_WORKERS);
	/* Old generation workers linger (finishing requests) beside new ones. */
	int nslots = opts->workers * 2 + (handed ? 512 : 0), generation = 1, stopping = 0;
	struct slot *slots = calloc((size_t)nslots, sizeof *slots);
	struct sigaction sa;
	sigset_t block, orig;
	int64_t stop_deadline = 0, last_term = 0;
	char err[512], exe[PATH_MAX];
	ssize_t len;
	int adopted = 0;

	if (slots == NULL)
		fatalx("out of memory");
	/* the binary as it is now: after an upgrade on disk this names the new one */
	if ((len = readlink("/proc/self/exe", exe, sizeof exe - 1)) < 0)
		len = 0;
	exe[len] = '\0';
	if (handed) {
		adopted = adopt(slots, nslots, handed);
		unsetenv(ENV_WORKERS);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (int sig = 0, sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR2 }; sig < 5; sig++) {
		sigaction(sigs[sig], &sa, NULL);
		sigaddset(&block, sigs[sig]);
	}
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigprocmask(SIG_BLOCK, &block, &orig);
	/* after an upgrade they come blocked from the exec: the wait unblocks them all the same */
	for (int sig = 0, sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR2 }; sig < 5; sig++)
		sigdelset(&orig, sigs[sig]);
	if (handed)
		log_info("master %ld upgraded, listening on %s with %d workers; replacing the %d "
			 "of the old binary", (long)getpid(), opts->listen, opts->workers, adopted);
	else
		log_info("master %ld listening on %s with %d workers", (long)getpid(), opts->listen,
			 opts->workers);

	for (;;) {
		int64_t now = util_mono_ms(), wait_ms = 1000;
		int live = 0;
		struct timespec ts;

		if (g_sigchld) {
			g_sigchld = 0;
			reap(slots, nslots, stopping);
		}
		if (g_sigterm && !stopping) {
			g_sigterm = 0;
			stopping = 1;
			stop_deadline = now + (int64_t)opts->grace_seconds * 1000;
			log_info("stopping: letting in-flight requests finish");
		}
		if (g_sigusr2 && !stopping) {
			g_sigusr2 = 0;
			upgrade(opts, exe, listen_fd, slots, nslots);
		}
		if (g_sighup && !stopping) {
			struct config fresh;
			g_sighup = 0;
			if (config_load(opts->config_path, &fresh, err, sizeof err) < 0) {
				log_errx("reload refused, keeping the running config: %s", err);
			} else {
				config_free(cfg);
				*cfg = fresh;
				log_set_level((enum log_level)cfg->log_level);
				generation++;
				log_info("config reloaded; replacing workers");
				signal_all(slots, nslots, generation, SIGTERM);
			}
		}
		for (int i = 0; i < nslots; i++)
			if (slots[i].pid > 0)
				live++;
		if (stopping) {
			if (live == 0)
				break;
			if (now >= stop_deadline) {
				log_warnx("grace period over; killing %d workers", live);
				signal_all(slots, nslots, generation + 1, SIGKILL);
			} else if (now - last_term >= RESIGNAL_MS) {
				signal_all(slots, nslots, generation + 1, SIGTERM);
				last_term = now;
			}
			wait_ms = RESIGNAL_MS;
		} else {
			int current = 0;
			for (int i = 0; i < nslots; i++)
				if (slots[i].pid > 0 && slots[i].generation == generation)
					current++;
			for (int i = 0; i < nslots && current < opts->workers; i++) {
				if (slots[i].pid > 0)
					continue;
				if (slots[i].spawn_at > now) {
					if (slots[i].spawn_at - now < wait_ms)
						wait_ms = slots[i].spawn_at - now;
					current++;	/* reserved for its back-off */
					continue;
				}
				spawn(&slots[i], generation, listen_fd, cfg, opts->max_requests);
				current++;
			}
			/* Old workers may still be finishing: nudge them again. */
			signal_all(slots, nslots, generation, SIGTERM);
		}
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (long)(wait_ms % 1000) * 1000000;
		/* Signals are delivered only here, where ppoll unblocks them. */
		if (!g_sigchld && !(g_sigterm && !stopping) && !(g_sighup && !stopping) &&
		    !(g_sigusr2 && !stopping))
			ppoll(NULL, 0, &ts, &orig);
	}
	if (g_unix_path[0])
		unlink(g_unix_path);
	close(listen_fd);
	free(slots);
	config_free(cfg);
	log_info("stopped");
	return 0;
}
