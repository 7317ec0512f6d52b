/*
 * See smtp.h.  libESMTP's headers need this order: libesmtp.h uses size_t
 * without <stddef.h>, and declares smtp_starttls_set_ctx() and
 * smtp_auth_set_context() only after <openssl/ssl.h> and <auth-client.h>.
 */
#include <stddef.h>
#include <openssl/ssl.h>
#include <auth-client.h>
#include <libesmtp.h>

#include "smtp.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "mailjournal.h"
#include "util.h"

struct creds {
	const char *user, *password;
};

/*
 * The server's first error reply (4xx/5xx), kept for when libESMTP reports
 * no status: after a refused AUTH it carries on to a 530 and a 221, but the
 * first refusal is the reason.
 */
struct dialogue {
	char first_error[SMTP_REPLY_MAX];
	const char *event;	/* why libESMTP quit on its own, or NULL */
};

/* libESMTP's events that end a session without a server reply. */
static void on_event(smtp_session_t s, int event, void *arg, ...)
{
	struct dialogue *d = arg;

	(void)s;
	switch (event) {
	case SMTP_EV_EXTNA_STARTTLS:
		d->event = "the server does not offer STARTTLS (smtp_starttls = required)";
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE:
	case SMTP_EV_NO_PEER_CERTIFICATE:
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		/* Leaving the "ok" argument alone rejects the certificate. */
		d->event = "the server's TLS certificate is not trusted or does not match smtp_host";
		break;
	case SMTP_EV_UNUSABLE_CA_LIST:
		d->event = "the CA certificates for STARTTLS could not be used";
		break;
	default:
		break;
	}
}

/*
 * libESMTP's protocol monitor; a call may hold several lines.  Only the
 * server's lines are looked at: ours carry the AUTH credentials.  At
 * log_level debug they are logged.
 */
static void monitor(const char *buf, int len, int writing, void *arg)
{
	struct dialogue *d = arg;
	int i = 0;

	if (writing)
		return;
	while (i < len) {
		int n = 0;
		while (i + n < len && buf[i + n] != '\r' && buf[i + n] != '\n')
			n++;
		if (n > 0) {
			log_debug("smtp < %.*s", n, buf + i);
			if (n >= 3 && (buf[i] == '4' || buf[i] == '5') && d->first_error[0] == '\0')
				snprintf(d->first_error, sizeof d->first_error, "%.*s", n, buf + i);
		}
		i += n;
		while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
			i++;
	}
}

static int auth_interact(auth_client_request_t req, char **result, int fields, void *arg)
{
	const struct creds *c = arg;

	for (int i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = (char *)c->user;
		else if (req[i].flags & AUTH_PASS)
			result[i] = (char *)c->password;
		else
			return 0;
	}
	return 1;
}

/* Copies an SMTP reply text into res, one line, no control characters. */
static void set_reply(struct smtp_result *res, int code, const char *text)
{
	size_t n = 0;

	res->code = code;
	for (const char *p = text ? text : ""; *p && n + 1 < sizeof res->reply; p++)
		if ((unsigned char)*p >= 0x20 && *p != 0x7f)
			res->reply[n++] = *p;
	while (n > 0 && res->reply[n - 1] == ' ')
		n--;
	res->reply[n] = '\0';
}

static int is2xx(const smtp_status_t *st) { return st && st->code >= 200 && st->code < 300; }

/* The child's work: one libESMTP session. */
static void smtp_session_run(const struct config *cfg, const char *sender, const char *rcpt,
			     const char *msg, struct smtp_result *res)
{
	struct creds creds = { cfg->smtp_user, cfg->smtp_password };
	struct dialogue dlg = { "", NULL };
	char server[300], err[128];
	SSL_CTX *ctx = NULL;
	auth_context_t auth = NULL;
	smtp_session_t s;
	smtp_message_t m;
	smtp_recipient_t r;
	const smtp_status_t *ms, *rs;
	int ok;

	snprintf(server, sizeof server, "%s:%d", cfg->smtp_host, cfg->smtp_port);
	s = smtp_create_session();
	m = smtp_add_message(s);
	if (s == NULL || m == NULL) {
		set_reply(res, 0, "libesmtp: out of memory");
		res->temporary = 1;
		return;
	}
	smtp_set_server(s, server);
	smtp_set_monitorcb(s, monitor, &dlg, 0);
	smtp_set_eventcb(s, on_event, &dlg);
	for (int w = Timeout_GREETING; w <= Timeout_DATA2; w++)
		smtp_set_timeout(s, w | Timeout_OVERRIDE_RFC2822_MINIMUM, cfg->smtp_timeout_ms);
	if (cfg->smtp_starttls != STARTTLS_NO) {
		/* Our own context: libESMTP 1.1.0 frees the one it makes itself. */
		ctx = SSL_CTX_new(TLS_client_method());
		if (ctx == NULL) {
			set_reply(res, 0, "could not create a TLS context");
			res->temporary = 1;
			goto out;
		}
		/*
		 * TLS 1.2 at most: under TLS 1.3 the server sends session
		 * tickets after the handshake, and when they arrive before
		 * libESMTP 1.1.0 has flushed its EHLO, its protocol loop goes
		 * to read a reply first and waits in SSL_read() with the EHLO
		 * still unsent until the timeout (seen intermittently against
		 * aiosmtpd; siobuf.c raw_read/sio_poll).
		 */
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
		if (cfg->smtp_ca_file[0] ? SSL_CTX_load_verify_locations(ctx, cfg->smtp_ca_file, NULL) != 1
					 : SSL_CTX_set_default_verify_paths(ctx) != 1) {
			set_reply(res, 0, "could not load the CA certificates for STARTTLS");
			res->temporary = 1;
			goto out;
		}
		smtp_starttls_set_ctx(s, ctx);
		smtp_starttls_enable(s, cfg->smtp_starttls == STARTTLS_REQUIRED ? Starttls_REQUIRED
										: Starttls_ENABLED);
	}
	if (cfg->smtp_user[0]) {
		auth_client_init();
		auth = auth_create_context();
		auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(auth, auth_interact, &creds);
		smtp_auth_set_context(s, auth);
	}
	smtp_set_reverse_path(m, sender && *sender ? sender : cfg->mail_from);
	smtp_set_message_str(m, (void *)msg);
	r = smtp_add_recipient(m, rcpt);

	ok = smtp_start_session(s);
	ms = smtp_message_transfer_status(m);
	rs = smtp_recipient_status(r);
	if (!ok) {
		set_reply(res, 0, smtp_strerror(smtp_errno(), err, sizeof err));
		res->temporary = 1;
	} else if (!is2xx(rs) && rs && rs->code) {
		set_reply(res, rs->code, rs->text);
		res->temporary = rs->code < 500;
	} else if (!is2xx(ms) && ms && ms->code) {
		set_reply(res, ms->code, ms->text);
		res->temporary = ms->code < 500;
	} else if (!is2xx(ms)) {
		/*
		 * No status at all: libESMTP gave up before MAIL FROM, after a
		 * refused AUTH, a failed TLS certificate check or a
		 * missing STARTTLS.  Its event or the server's first error reply
		 * says which.
		 */
		const char *e = dlg.first_error;
		int code = e[0] ? (e[0] - '0') * 100 + (e[1] - '0') * 10 + (e[2] - '0') : 0;
		set_reply(res, code, dlg.event ? dlg.event : code ? e + (e[3] ? 4 : 3) :
			  "the session ended before the message was sent");
		res->temporary = code == 0 || code < 500;
	} else {
		set_reply(res, ms->code, ms->text);
		res->ok = 1;
	}
out:
	smtp_destroy_session(s);
	if (auth)
		auth_destroy_context(auth);
	SSL_CTX_free(ctx);
}

void smtp_send(const struct config *cfg, const char *sender, const char *rcpt, const char *msg,
	       const char *journal_key, struct smtp_result *res)
{
	int fds[2], status;
	size_t got = 0;
	int64_t deadline = util_mono_ms() + cfg->smtp_timeout_ms;
	pid_t pid;

	memset(res, 0, sizeof *res);
	res->temporary = 1;
	if (pipe(fds) < 0) {
		log_warn("smtp: pipe");
		set_reply(res, 0, "could not start the mail sender");
		return;
	}
	if ((pid = fork()) < 0) {
		log_warn("smtp: fork");
		set_reply(res, 0, "could not start the mail sender");
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		struct smtp_result child;
		signal(SIGPIPE, SIG_IGN);
		close(fds[0]);
		memset(&child, 0, sizeof child);
		smtp_session_run(cfg, sender, rcpt, msg, &child);
		if (journal_key)
			mailjournal_append(cfg, journal_key, &child);
		if (write(fds[1], &child, sizeof child) != (ssize_t)sizeof child)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	while (got < sizeof *res) {
		struct pollfd p = { fds[0], POLLIN, 0 };
		int64_t left = deadline - util_mono_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			kill(pid, SIGKILL);
			memset(res, 0, sizeof *res);
			res->temporary = 1;
			snprintf(res->reply, sizeof res->reply, "no answer from %s:%d within %d ms",
				 cfg->smtp_host, cfg->smtp_port, cfg->smtp_timeout_ms);
			break;
		}
		n = read(fds[0], (char *)res + got, sizeof *res - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			memset(res, 0, sizeof *res);
			res->temporary = 1;
			snprintf(res->reply, sizeof res->reply, "the mail sender died");
			break;
		}
		got += (size_t)n;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	res->reply[sizeof res->reply - 1] = '\0';
}
