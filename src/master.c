/*
 * Prefork supervisor.  Signals only set flags; the loop waits in ppoll()
 * with them unblocked, so no signal is lost between a check and the wait.
 */
#include "master.h"

#include <arpa/inet.h>
#include <errno.h>
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

struct slot {
	pid_t pid;
	int generation;
	int64_t started;
	int64_t spawn_at;	/* when an empty slot may be filled */
	int backoff_ms;
};

static volatile sig_atomic_t g_sigterm, g_sighup, g_sigchld;

static void on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		g_sigterm = 1;
	else if (sig == SIGHUP)
		g_sighup = 1;
	else if (sig == SIGCHLD)
		g_sigchld = 1;
}

static char g_unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

int master_listen(const char *spec, unsigned socket_mode)
{
	int fd = -1, one = 1;

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

int master_run(const struct master_opts *opts, int listen_fd, struct config *cfg)
{
	/* Old generation workers linger (finishing requests) beside new ones. */
	int nslots = opts->workers * 2, generation = 1, stopping = 0;
	struct slot *slots = calloc((size_t)nslots, sizeof *slots);
	struct sigaction sa;
	sigset_t block, orig;
	int64_t stop_deadline = 0, last_term = 0;
	char err[512];

	if (slots == NULL)
		fatalx("out of memory");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (int sig = 0, sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD }; sig < 4; sig++) {
		sigaction(sigs[sig], &sa, NULL);
		sigaddset(&block, sigs[sig]);
	}
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigprocmask(SIG_BLOCK, &block, &orig);
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
		if (!g_sigchld && !(g_sigterm && !stopping) && !(g_sighup && !stopping))
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
