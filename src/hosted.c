/* See hosted.h. */
#include "hosted.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "db_pages.h"
#include "log.h"
#include "redirect.h"
#include "request.h"
#include "template.h"
#include "token.h"
#include "verify.h"
#include "vstatus.h"

#define PAGE_MAX (64 * 1024)

/* 'sha256-...' of css, for the CSP of its page: no 'unsafe-inline'. */
static void css_hash(const char *css, size_t len, char out[64])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];

	crypto_hash_sha256(h, (const unsigned char *)css, len);
	sodium_bin2base64(b64, sizeof b64, h, sizeof h, sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, 64, "'sha256-%s'", b64);
}

/*
 * The security headers of every page and redirect: style_hash allows the
 * page's own style element (none when NULL); form_origin may be NULL.
 */
static void security_headers(struct buf *h, const char *style_hash, const char *form_origin)
{
	buf_printf(h, "Content-Security-Policy: default-src 'none'; style-src %s; "
		      "form-action 'self'%s%s; frame-ancestors 'none'; base-uri 'none'\r\n"
		      "Referrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n",
		   style_hash ? style_hash : "'none'", form_origin ? " " : "",
		   form_origin ? form_origin : "");
}

/* What a page says; the template content shows it (see templates/page-*.html). */
struct page_text {
	const char *title;
	const char *cls;	/* "ok", "error" or NULL */
	const char *message;
	const char *inputmode;	/* page-otp.html only */
};

/* Renders inner with t into body, then layout with css and body into b. */
static int page_fill(const struct buf *layout, const struct buf *css, const struct buf *inner,
		     const struct page_text *t, struct buf *body, struct buf *b)
{
	const struct template_var cv[] = {
		{ "title", t->title, 0 }, { "class", t->cls, 0 },
		{ "message", t->message, 0 }, { "inputmode", t->inputmode, 0 },
	};

	if (template_render(inner->data ? inner->data : "", cv, sizeof cv / sizeof cv[0], 1,
			    body) < 0)
		return -1;
	/* body is complete now: its data no longer moves */
	const struct template_var lv[] = {
		{ "title", t->title, 0 }, { "style", css->data, 1 }, { "content", body->data, 1 },
	};
	return template_render(layout->data ? layout->data : "", lv, sizeof lv / sizeof lv[0], 1,
			       b);
}

/*
 * Renders template content with t inside page.html, styled by page.css,
 * into b; the hash of that style goes to style_hash.  -1 (logged) when a
 * template cannot be read.
 */
static int page_render(const struct config *cfg, const char *content, const struct page_text *t,
		       struct buf *b, char style_hash[64])
{
	struct buf layout, css, inner, body;
	char err[512];
	int rc = -1;

	buf_init(&layout, PAGE_MAX);
	buf_init(&css, PAGE_MAX);
	buf_init(&inner, PAGE_MAX);
	buf_init(&body, PAGE_MAX);
	if (template_load(cfg->template_dir, "page.html", &layout, err, sizeof err) < 0 ||
	    template_load(cfg->template_dir, "page.css", &css, err, sizeof err) < 0 ||
	    template_load(cfg->template_dir, content, &inner, err, sizeof err) < 0) {
		log_errx("%s", err);
		goto out;
	}
	if (page_fill(&layout, &css, &inner, t, &body, b) < 0) {
		log_errx("page %s: larger than %d bytes", content, PAGE_MAX);
		goto out;
	}
	css_hash(css.data ? css.data : "", css.len, style_hash);
	rc = 0;
out:
	buf_free(&layout);
	buf_free(&css);
	buf_free(&inner);
	buf_free(&body);
	return rc;
}

/*
 * Answers a page: content is a template of template_dir, t what it says;
 * the origin a form may post to besides ours and extra headers may be NULL.
 */
static void page_ex(struct request *rq, int status, const char *content, const struct page_text *t,
		    const char *form_origin, const char *extra)
{
	struct buf b, h;
	char style_hash[64];

	buf_init(&b, PAGE_MAX);
	buf_init(&h, 4096);
	if (page_render(rq->cfg, content, t, &b, style_hash) < 0) {
		security_headers(&h, NULL, NULL);
		request_reply(rq, 500, "text/plain; charset=utf-8", h.data,
			      "This page cannot be shown right now.\n", 37);
		goto out;
	}
	security_headers(&h, style_hash, form_origin);
	if (extra)
		buf_puts(&h, extra);
	request_reply(rq, status, "text/html; charset=utf-8", h.data, b.data, b.len);
out:
	buf_free(&b);
	buf_free(&h);
}

/* A page that only says something. */
static void page(struct request *rq, int status, const char *title, const char *cls,
		 const char *message)
{
	const struct page_text t = { title, cls, message, NULL };

	page_ex(rq, status, "page-message.html", &t, NULL, NULL);
}

/* The pages several handlers answer with. */
static void page_busy(struct request *rq)
{
	page(rq, 503, "Please try again", "error",
	     "The service is busy for a moment. Please try again shortly.");
}

static void page_not_found(struct request *rq)
{
	page(rq, 404, "Page not found", "error", "There is no such verification.");
}

static void page_link_gone(struct request *rq)
{
	page(rq, 410, "This link cannot be used", "error",
	     "The link is invalid, was already used, or has expired. Ask for a new one.");
}

static void see_other(struct request *rq, const char *location)
{
	struct buf h;

	buf_init(&h, 8192);
	security_headers(&h, NULL, NULL);
	buf_printf(&h, "Location: %s\r\n", location);
	request_reply(rq, 303, "text/html; charset=utf-8", h.data, "", 0);
	buf_free(&h);
}

/* Counts this request against its client address; 0, or -1 after answering. */
static int ip_allowed(struct request *rq)
{
	char ip[64], limit[16];
	const char *p[2] = { ip, limit };
	struct db_ip_hit hit;
	enum db_err err;
	PGresult *r;
	int over;

	if (rq->cfg->rate_per_ip_per_minute == 0)
		return 0;
	request_client_ip(rq, ip, sizeof ip);
	snprintf(limit, sizeof limit, "%d", rq->cfg->rate_per_ip_per_minute);
	if ((r = db_run(rq->db, DB_IP_HIT, p, &err, NULL)) == NULL) {
		page_busy(rq);
		return -1;
	}
	db_ip_hit(r, &hit);
	over = hit.over;
	if (over) {
		char hdr[64], msg[120];
		snprintf(msg, sizeof msg, "Too many requests from your network. Please try again in "
			 "%d seconds.", hit.retry_after);
		snprintf(hdr, sizeof hdr, "Retry-After: %d\r\n", hit.retry_after);
		log_warnx("request %s: client %s over rate_per_ip_per_minute", rq->request_id, ip);
		const struct page_text t = { "Too many requests", "error", msg, NULL };

		page_ex(rq, 429, "page-message.html", &t, NULL, hdr);
	}
	PQclear(r);
	return over ? -1 : 0;
}

/*
 * The keyed hashes of a link token (bytea literals) under secret_key and,
 * when set, secret_key_previous (*p2 is then h2, else NULL); -1 for a
 * malformed token.
 */
static int link_hashes(const struct config *cfg, const char *token, char h1[TOKEN_HASH_HEX_LEN],
		       char h2[TOKEN_HASH_HEX_LEN], const char **p2)
{
	if (strlen(token) != 43 || strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					      "0123456789-_") != 43)
		return -1;
	token_hash_hex(cfg->secret_key, "link", token, NULL, h1);
	*p2 = NULL;
	if (cfg->have_secret_key_previous) {
		token_hash_hex(cfg->secret_key_previous, "link", token, NULL, h2);
		*p2 = h2;
	}
	return 0;
}

static void link_invalid(struct request *rq, const char *redirect)
{
	struct buf to;

	if (redirect && *redirect) {
		buf_init(&to, 4096);
		redirect_with_params(redirect, "verified=false&error=invalid-or-expired-token", &to);
		see_other(rq, to.data);
		buf_free(&to);
		return;
	}
	page_link_gone(rq);
}

/* The confirming action: the POST, or the GET when link_confirm_page is off. */
static void link_confirm(struct request *rq, const char *token)
{
	char h1[TOKEN_HASH_HEX_LEN], h2[TOKEN_HASH_HEX_LEN];
	const char *p[2] = { h1, NULL };
	struct db_link link;
	enum db_err err;
	PGresult *r;
	int found;

	if (link_hashes(rq->cfg, token, h1, h2, &p[1]) < 0) {
		link_invalid(rq, NULL);
		return;
	}
	if ((r = db_run(rq->db, DB_LINK_CONFIRM, p, &err, NULL)) == NULL) {
		page_busy(rq);
		return;
	}
	found = db_link(r, &link) == 0;
	if (found && link.confirmed) {
		const char *id = link.id, *redirect = link.redirect;
		if (*redirect) {
			struct buf to, q;
			buf_init(&to, 4096);
			buf_init(&q, 128);
			buf_printf(&q, "verified=true&verificationId=%s", id);
			redirect_with_params(redirect, q.data, &to);
			see_other(rq, to.data);
			buf_free(&to);
			buf_free(&q);
		} else {
			page(rq, 200, "Email address confirmed", "ok",
			     "Thank you: your email address is confirmed. You can close this page.");
		}
	} else {
		link_invalid(rq, found ? link.redirect : NULL);
	}
	PQclear(r);
}

void hosted_link_get(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	static const struct page_text confirm = {
		"Confirm your email address", NULL,
		"Press the button to confirm that this email address is yours.", NULL
	};
	char h1[TOKEN_HASH_HEX_LEN], h2[TOKEN_HASH_HEX_LEN], origin[300];
	const char *p[2] = { h1, NULL }, *redirect;
	struct db_link link;
	enum db_err err;
	PGresult *r;

	if (ip_allowed(rq) < 0)
		return;
	if (!rq->cfg->link_confirm_page && strcmp(rq->method, "GET") == 0) {
		link_confirm(rq, args[0]);
		return;
	}
	if (link_hashes(rq->cfg, args[0], h1, h2, &p[1]) < 0) {
		link_invalid(rq, NULL);
		return;
	}
	if ((r = db_run(rq->db, DB_LINK_VIEW, p, &err, NULL)) == NULL) {
		page_busy(rq);
		return;
	}
	if (db_link(r, &link) < 0 || link.eff != VS_PENDING) {
		page_link_gone(rq);
		PQclear(r);
		return;
	}
	redirect = link.redirect;
	/* the POST may be redirected there, which form-action must allow */
	page_ex(rq, 200, "page-link.html", &confirm,
		*redirect && redirect_origin(redirect, origin, sizeof origin) == 0 ? origin : NULL,
		NULL);
	PQclear(r);
}

void hosted_link_post(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	if (ip_allowed(rq) < 0)
		return;
	link_confirm(rq, args[0]);
}

/* The code form; message is shown above it (may be NULL). */
static void otp_form(struct request *rq, int status, const char *format, const char *cls,
		     const char *message)
{
	const struct page_text t = {
		"Enter your verification code", cls,
		message ? message : "Type the code from the email we sent you.",
		strcmp(format, "numeric") == 0 ? "numeric" : "text"
	};

	page_ex(rq, status, "page-otp.html", &t, NULL, NULL);
}

/* The page for a verification that takes no code any more. */
static int otp_finished(struct request *rq, enum verification_status eff)
{
	if (eff == VS_VERIFIED)
		page(rq, 200, "Email address confirmed", "ok",
		     "This email address is confirmed. You can close this page.");
	else if (eff == VS_EXPIRED)
		page(rq, 410, "This code has expired", "error",
		     "The code has expired. Ask for a new one.");
	else if (eff == VS_CANCELED)
		page(rq, 410, "This code is no longer valid", "error",
		     "A newer code was sent, or the verification was canceled.");
	else if (eff == VS_FAILED)
		page(rq, 410, "This verification has failed", "error",
		     "Too many wrong codes were entered. Ask for a new code.");
	else
		return 0;
	return 1;
}

/* Looks up the verification of the page; 0 with status and format, or -1 after answering. */
static int otp_lookup(struct request *rq, const char *id, enum verification_status *eff,
		      char format[16])
{
	const char *p[1] = { id };
	struct db_hosted_info info;
	enum db_err err;
	PGresult *r;

	if (!verify_id_valid(id)) {
		page_not_found(rq);
		return -1;
	}
	if ((r = db_run(rq->db, DB_HOSTED_INFO, p, &err, NULL)) == NULL) {
		page_busy(rq);
		return -1;
	}
	if (db_hosted_info(r, &info) < 0 || !info.otp) {
		PQclear(r);
		page_not_found(rq);
		return -1;
	}
	*eff = info.eff;
	snprintf(format, 16, "%s", info.format);
	PQclear(r);
	return 0;
}

void hosted_otp_get(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	enum verification_status eff;
	char format[16];

	if (ip_allowed(rq) < 0 || otp_lookup(rq, args[0], &eff, format) < 0)
		return;
	if (!otp_finished(rq, eff))
		otp_form(rq, 200, format, NULL, NULL);
}

void hosted_otp_post(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	const char *ct = request_param(rq, "CONTENT_TYPE");
	const struct verify_ctx ctx = { rq->cfg, rq->db, NULL };
	enum verification_status eff;
	char format[16], code[80], msg[120];
	struct verify_result res;

	if (ip_allowed(rq) < 0 || otp_lookup(rq, args[0], &eff, format) < 0)
		return;
	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
		page(rq, 415, "Unsupported form", "error", "Please use the form on this page.");
		return;
	}
	if (request_read_body(rq) < 0)
		return;
	if (request_form(rq, "code", code, sizeof code) != 1) {
		otp_form(rq, 400, format, "error", "Please type the code.");
		return;
	}
	verify_normalize_code(code);
	if (code[0] == '\0') {
		otp_form(rq, 400, format, "error", "Please type the code.");
		return;
	}
	switch (verify_code(&ctx, args[0], code, &res)) {
	case VO_OK:
		page(rq, 200, "Email address confirmed", "ok",
		     "Thank you: your email address is confirmed. You can close this page.");
		break;
	case VO_INVALID_CODE:
		snprintf(msg, sizeof msg, "That code is not right. %d %s left.", res.remaining,
			 res.remaining == 1 ? "attempt" : "attempts");
		otp_form(rq, 422, format, "error", msg);
		break;
	case VO_ATTEMPTS_EXHAUSTED:
	case VO_FAILED:
		otp_finished(rq, VS_FAILED);
		break;
	case VO_EXPIRED:
		otp_finished(rq, VS_EXPIRED);
		break;
	case VO_ALREADY_VERIFIED:
		otp_finished(rq, VS_VERIFIED);
		break;
	case VO_CANCELED:
		otp_finished(rq, VS_CANCELED);
		break;
	case VO_NOT_FOUND:
		page_not_found(rq);
		break;
	default:
		/* the database failed: a code check has no other outcome */
		page_busy(rq);
		break;
	}
	verify_result_free(&res);
}
