/*
 * What a verification's mail says: the templates of template_dir (otp.txt,
 * otp.html, link.txt, link.html, code_and_link.txt, code_and_link.html) with the words of the verification's
 * language (catalog.h) and the brand of the tenant that asks, composed as
 * MIME by mail.c.  A template sees {{code}}, {{link}}, {{expires}} (a
 * duration in words, "15 minutes"), {{expires_minutes}},
 * {{verification_line}}, {{subject}}, {{brand}}, {{support}}, {{accent_color}},
 * {{logo}} (a cid: URL, empty without a logo), {{lang}}, {{dir}}, {{report}}
 * (the "Didn't ask for this?" link) and {{msg.KEY}}.
 */
#ifndef MAILPROOF_MAIL_VERIFICATION_H
#define MAILPROOF_MAIL_VERIFICATION_H

#include "buf.h"
#include "catalog.h"
#include "mail.h"
#include "template.h"

struct config;
struct smtp_result;

/* The accent of a tenant that chose none. */
#define MAIL_ACCENT_DEFAULT "#1f5fc7"

/* What mail and pages show of the tenant that asks; "" for what it has not set. */
struct mail_brand {
	const char *name;	/* display name, else the tenant's name */
	const char *support;	/* an address or URL */
	const char *accent;	/* #rrggbb */
	const char *logo_type;	/* image/png or image/svg+xml */
	const char *logo_b64;	/* the logo's bytes in base64, one line */
	const char *tenant_id;
	int custom;		/* the tenant has templates of its own */
	const struct template_custom *templates;	/* them, once read (db_mail_templates) */
	size_t ntemplates;
};

/* What the mail of a verification says, from a start or from its stored row. */
struct mail_verification {
	const char *id;
	const char *email;
	const char *code;		/* OTP and CODE_AND_LINK, else NULL */
	const char *link;		/* MAGIC_LINK and CODE_AND_LINK, else NULL */
	const char *subject;		/* NULL: the catalogue's */
	const char *verification_line;	/* NULL: the catalogue's */
	int ttl_seconds;
	const char *locale;		/* the verification's, as stored */
	const struct mail_brand *brand;
};

/*
 * A lifetime in words in cat's language: whole days or hours when it is
 * one, else minutes, rounded up ("30 days", "1 hour", "15 minutes").
 */
int mail_duration(const struct catalog *cat, int seconds, struct buf *out);

/*
 * Renders the templates of template_dir for vm and writes the message into
 * out.  from overrides mail_from when it is not NULL or empty (a tenant's
 * sender).  Returns 0, or -1 (logged).  The text, which holds the secret,
 * is wiped from the intermediate buffers.
 */
int mail_verification_compose(const struct config *cfg, const char *from,
			      const struct mail_verification *vm, struct buf *out);

/*
 * One part of vm's mail, as mail_verification_compose() writes it, appended
 * to out: part is "subject", "text" or "html" (a template's preview).
 * 0, or -1 (logged).
 */
int mail_verification_part(const struct config *cfg, const struct mail_verification *vm,
			   const char *part, struct buf *out);

/*
 * The subject, text and HTML of vm's mail, as mail_verification_compose()
 * writes them, appended to subject, text and html (a verification.deliver
 * event's).  0, or -1 (logged).  The caller wipes text and html.
 */
int mail_verification_parts(const struct config *cfg, const struct mail_verification *vm,
			    struct buf *subject, struct buf *text, struct buf *html);

/*
 * Composes the mail of vm (see mail_verification_compose()) and sends it
 * now.  res says what came of it: a message that could not be built is a
 * failure with a reply that says so.  The message is wiped after.
 * journal_key: see smtp_send().
 */
void mail_verification_send(const struct config *cfg, const char *from,
			    const struct mail_verification *vm, const char *journal_key,
			    struct smtp_result *res);

/* The magic link of a link token, which its mail carries. */
void mail_link_url(const struct config *cfg, const char *token, char out[MAIL_URL_MAX]);

/* The hosted page where the code of verification id can be typed; OTP mail links to it. */
void mail_hosted_url(const struct config *cfg, const char *id, char out[MAIL_URL_MAX]);

/* The "Didn't ask for this?" link of verification id: {public_base_url}/v1/report/TOKEN. */
void mail_report_url(const struct config *cfg, const char *id, char out[MAIL_URL_MAX]);

#endif
