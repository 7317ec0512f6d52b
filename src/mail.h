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

/* The largest message, and rendered part, that we build or send, queued or not. */
#define MAIL_MAX_BYTES (256 * 1024)

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

/* Quoted-printable with CRLF lines, breaking only at spaces where it can. */
int mail_qp_encode(const char *in, struct buf *out);

#endif
