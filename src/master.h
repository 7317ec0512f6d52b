/*
 * The prefork master of `mailproof-fcgi --listen`: binds the socket, forks
 * the workers, respawns any that die (backing off when they die young),
 * SIGHUP re-reads and validates the config and then replaces the workers
 * gracefully, SIGTERM stops gracefully (in-flight requests finish), and
 * SIGUSR2 upgrades: the master executes its binary again, as it now is on
 * disk, keeping its PID, its listening socket and, until the new workers
 * are up, its workers, so that not one connection is refused or lost.
 */
#ifndef MAILPROOF_MASTER_H
#define MAILPROOF_MASTER_H

struct config;

struct master_opts {
	const char *listen;		/* "unix:PATH" or "HOST:PORT" */
	const char *config_path;	/* may be NULL */
	int workers;
	long max_requests;
	unsigned socket_mode;
	int grace_seconds;		/* then SIGKILL what is left */
	char *const *argv;		/* to execute again on SIGUSR2 */
};

/*
 * Binds opts->listen; returns the listening fd or -1 with a logged reason.
 * After an upgrade (SIGUSR2) the socket is the one the master had before
 * it executed itself again: taken over, not bound again.
 */
int master_listen(const char *spec, unsigned socket_mode);

/* Runs until stopped; takes ownership of cfg.  Returns the exit status. */
int master_run(const struct master_opts *opts, int listen_fd, struct config *cfg);

#endif
