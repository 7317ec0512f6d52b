/*
 * Verification mail: templates (otp.txt, otp.html, link.txt, link.html with
 * {{code}}, {{link}}, {{expires_minutes}}, {{verification_line}}, rendered
 * by template.c) and the MIME message built from them.  libESMTP does no
 * MIME, so this module writes the whole RFC 5322 message: CRLF lines,
 * multipart/alternative with quoted-printable UTF-8 parts, an RFC 2047
 * subject when it is not ASCII.
 * No value can add a header or a MIME part: header values are validated or
 * encoded, and the boundary cannot occur in quoted-printable text.
 */
#ifndef MAILPROOF_MAIL_H
#define MAILPROOF_MAIL_H

#include "buf.h"

struct config;
struct smtp_result;

/* The largest message, and rendered part, that we build or send, queued or not. */
#define MAIL_MAX_BYTES (256 * 1024)

/* Room for a URL of mail_link_url() or mail_hosted_url(). */
#define MAIL_URL_MAX 600

struct mail_vars {
	const char *code;
	const char *link;
	const char *expires_minutes;
	const char *verification_line;
};

struct mail_msg {
	const char *from;	/* addr-spec */
	const char *from_name;	/* display name, any UTF-8 */
	const char *to;		/* addr-spec, validated by mail_address_valid */
	const char *subject;	/* UTF-8 without CR or LF */
	const char *text;	/* plain part, UTF-8 */
	const char *html;	/* HTML part, UTF-8 */
};

/*
 * True when s is one addr-spec we send to: local@domain, ASCII, at most 254
 * octets with a local part of at most 64, no whitespace, quotes, brackets or
 * control characters, a dotted domain of letters, digits and hyphens.
 */
int mail_address_valid(const char *s);

/*
 * Replaces the placeholders of tpl with vars (HTML-escaped when html is
 * set) into out, through the template engine of template.h.
 */
int mail_render(const char *tpl, const struct mail_vars *vars, int html, struct buf *out);

/* Writes the whole message into out; -1 when it does not fit. */
int mail_compose(const struct mail_msg *m, struct buf *out);

/* What the mail of a verification says, from a start or from its stored row. */
struct mail_verification {
	const char *id;
	const char *email;
	const char *code;		/* OTP, else NULL */
	const char *link;		/* MAGIC_LINK, else NULL */
	const char *subject;		/* NULL: the default */
	const char *verification_line;	/* NULL: the default */
	int ttl_seconds;
};

/*
 * Renders the templates of template_dir for vm and writes the message into
 * out.  from overrides mail_from when it is not NULL or empty (a tenant's
 * sender).  Returns 0, or -1 (logged).  The text, which holds the secret,
 * is wiped from the intermediate buffers.
 */
int mail_verification_compose(const struct config *cfg, const char *from,
			      const struct mail_verification *vm, struct buf *out);

/*
 * Composes the mail of vm (see mail_verification_compose()) and sends it
 * now.  res says what came of it: a message that could not be built is a
 * failure with a reply that says so.  The message is wiped after.
 */
void mail_verification_send(const struct config *cfg, const char *from,
			    const struct mail_verification *vm, struct smtp_result *res);

/* The magic link of a link token, which its mail carries. */
void mail_link_url(const struct config *cfg, const char *token, char out[MAIL_URL_MAX]);

/* The hosted page where the code of verification id can be typed; OTP mail links to it. */
void mail_hosted_url(const struct config *cfg, const char *id, char out[MAIL_URL_MAX]);

/* Quoted-printable with CRLF lines, breaking only at spaces where it can. */
int mail_qp_encode(const char *in, struct buf *out);

#endif
