/* See worker.h. */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <fcgiapp.h>

#include "api.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "request.h"
#include "token.h"

/* Input left unread (a refused body) that is read rather than lingered on. */
#define WORKER_DRAIN_MAX (64L * 1024)

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
	(void)sig;
	g_stop = 1;
	FCGX_ShutdownPending();
}

/* Whether the listening socket is a unix one (see its two uses). */
static int worker_on_unix(int listen_fd)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof sa;

	return getsockname(listen_fd, (struct sockaddr *)&sa, &len) == 0 &&
	       sa.ss_family == AF_UNIX;
}

/*
 * A connection that sends nothing, or takes none of the answer, for
 * fcgi_timeout_ms must not hold a worker: idle connections to a TCP port
 * would otherwise stop the service, one worker each.  Set on the listening
 * socket, the bound also ends accept() now and then, which is harmless;
 * Linux copies it to each TCP connection accepted.  A unix connection
 * starts without it (libfcgi drops one that sends nothing for 2 s), so the
 * worker sets it once libfcgi has read the parameters, for the body and the
 * answer.
 */
static void worker_set_timeout(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
		log_warn("setting the FastCGI connection timeout");
}

/* Reads the rest of the request's input; 1 when its end was reached. */
static int worker_input_read(FCGX_Stream *in)
{
	char trash[4096];
	long left = WORKER_DRAIN_MAX;
	int n;

	while (left > 0 && (n = FCGX_GetStr(trash, sizeof trash, in)) > 0)
		left -= n;
	return FCGX_HasSeenEOF(in) == EOF && FCGX_GetError(in) == 0;
}

int worker_run(int listen_fd, const struct config *cfg, long max_requests)
{
	struct sigaction sa;
	sigset_t during;
	FCGX_Request fx;
	struct request rq;
	struct db *db;
	long served = 0;
	int rc, on_unix = worker_on_unix(listen_fd);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;	/* no SA_RESTART: accept() must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&during);
	sigaddset(&during, SIGTERM);
	sigaddset(&during, SIGINT);
	{
		/* A prefork child starts with the master's signals blocked. */
		sigset_t all;
		sigemptyset(&all);
		sigaddset(&all, SIGTERM);
		sigaddset(&all, SIGINT);
		sigaddset(&all, SIGHUP);
		sigaddset(&all, SIGCHLD);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
	}

	token_pool_enable();
	if ((db = db_new(cfg, "mailproof-fcgi")) == NULL) {
		log_errx("out of memory");
		return 1;
	}
	if (FCGX_InitRequest(&fx, listen_fd, 0) != 0) {
		log_errx("could not initialise a FastCGI request");
		db_free(db);
		return 1;
	}
	worker_set_timeout(listen_fd, cfg->fcgi_timeout_ms);
	while (!g_stop && (max_requests == 0 || served < max_requests)) {
		rc = FCGX_Accept_r(&fx);
		if (rc < 0) {
			if (g_stop || rc == -EINTR || rc == -EAGAIN)
				continue;
			log_errx("FastCGI accept failed: %s", strerror(-rc));
			break;
		}
		sigprocmask(SIG_BLOCK, &during, NULL);
		if (on_unix)
			worker_set_timeout(fx.ipcFd, cfg->fcgi_timeout_ms);
		request_begin(&rq, &fx, cfg, db);
		api_handle(&rq);
		request_end(&rq);
		/*
		 * libfcgi closes a connection "lingering": shutdown(), then it
		 * waits for the web server to close its end, so that input we
		 * never read cannot turn into a reset that destroys the answer.
		 * That wait holds the worker for a scheduling round trip after
		 * every request.  On a unix socket, once the input has been read
		 * to its end, the server has nothing more to send, and it reads
		 * the whole answer before it could see the close.
		 */
		if (on_unix && worker_input_read(fx.in))
			FCGX_Detach(&fx);
		FCGX_Finish_r(&fx);
		served++;
		sigprocmask(SIG_UNBLOCK, &during, NULL);
	}
	FCGX_Free(&fx, 0);
	db_free(db);
	return 0;
}
