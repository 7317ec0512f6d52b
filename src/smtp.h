/*
 * Mail delivery through libESMTP.  libESMTP's connect() has no timeout and
 * its own timeouts cover single protocol steps, so each send runs in a
 * short-lived child process that the caller kills when smtp_timeout_ms is
 * over: the bound holds whatever the server does, even when it never
 * answers a connect.  The child also keeps libESMTP's process state (the
 * SSL_CTX it caches, smtp_errno) out of the long-lived worker.
 */
#ifndef MAILPROOF_SMTP_H
#define MAILPROOF_SMTP_H

struct config;

#define SMTP_REPLY_MAX 256

struct smtp_result {
	int ok;			/* session, message and recipient all 2xx */
	int code;		/* last SMTP status code, 0 when none was read */
	int temporary;		/* worth retrying: 4xx, connection trouble, timeout */
	char reply[SMTP_REPLY_MAX];	/* the server's text, or what went wrong */
};

/*
 * Sends msg (a whole RFC 5322 message) from sender (NULL: mail_from) to
 * rcpt.  With a journal_key (else NULL), the process that talked to the
 * server appends the outcome to the mail journal (mailjournal.h) before
 * this returns it, so it is kept even if the caller dies.
 */
void smtp_send(const struct config *cfg, const char *sender, const char *rcpt, const char *msg,
	       const char *journal_key, struct smtp_result *res);

#endif
