/*
 * The worker loop: accept a FastCGI request on the shared listen socket,
 * answer it, repeat.  One database connection per worker, opened after fork.
 * SIGTERM is blocked while a request is handled, so it always finishes; the
 * signal then stops the loop.
 */
#ifndef MAILPROOF_WORKER_H
#define MAILPROOF_WORKER_H

struct config;

/*
 * Serves listen_fd until SIGTERM/SIGINT or max_requests answers (0: no
 * limit).  Returns the exit status for the process.
 */
int worker_run(int listen_fd, const struct config *cfg, long max_requests);

#endif
