/* See worker.h. */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include <fcgiapp.h>

#include "api.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "request.h"
#include "token.h"

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
	(void)sig;
	g_stop = 1;
	FCGX_ShutdownPending();
}

int worker_run(int listen_fd, const struct config *cfg, long max_requests)
{
	struct sigaction sa;
	sigset_t during;
	FCGX_Request fx;
	struct request rq;
	struct db *db;
	long served = 0;
	int rc;

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
	while (!g_stop && (max_requests == 0 || served < max_requests)) {
		rc = FCGX_Accept_r(&fx);
		if (rc < 0) {
			if (g_stop || rc == -EINTR)
				continue;
			log_errx("FastCGI accept failed: %s", strerror(-rc));
			break;
		}
		sigprocmask(SIG_BLOCK, &during, NULL);
		request_begin(&rq, &fx, cfg, db);
		api_handle(&rq);
		request_end(&rq);
		FCGX_Finish_r(&fx);
		served++;
		sigprocmask(SIG_UNBLOCK, &during, NULL);
	}
	FCGX_Free(&fx, 0);
	db_free(db);
	return 0;
}
