/* See hosted.h. */
#include "hosted.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "buf.h"
#include "catalog.h"
#include "config.h"
#include "db.h"
#include "db_mail.h"
#include "db_pages.h"
#include "locale.h"
#include "log.h"
#include "metrics.h"
#include "mail_verification.h"
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
 * Images are data: URIs only (a tenant's logo).
 */
static void security_headers(struct buf *h, const char *style_hash, const char *form_origin)
{
	buf_printf(h, "Content-Security-Policy: default-src 'none'; style-src %s; img-src data:; "
		      "form-action 'self'%s%s; frame-ancestors 'none'; base-uri 'none'\r\n"
		      "Referrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n",
		   style_hash ? style_hash : "'none'", form_origin ? " " : "",
		   form_origin ? form_origin : "");
}

/*
 * Whom and in what language a page speaks: the verification's language
 * and its tenant's brand, or, for a page with no verification behind it
 * (NULL locale and brand), the client's Accept-Language and no brand.
 */
struct page_who {
	const char *locale;
	const struct mail_brand *brand;
};

static const struct page_who nobody = { NULL, NULL };

/*
 * What a page says: the catalogue's messages title and text (the plural
 * form for n when n >= 0), shown by template content (page-*.html).
 */
struct page_text {
	const char *title;
	const char *text;
	const char *cls;	/* "ok", "error" or NULL */
	long n;
	const char *inputmode;	/* page-otp.html only */
};

/* The languages of a page: who's and its fallbacks, or the client's that we have. */
static size_t page_chain(struct request *rq, const struct page_who *who,
			 char chain[LOCALE_CHAIN_MAX][LOCALE_TAG_MAX])
{
	char tags[LOCALE_CHAIN_MAX][LOCALE_TAG_MAX];
	size_t ntags, n = 0;

	if (who->locale && *who->locale)
		return locale_chain(who->locale, chain, LOCALE_CHAIN_MAX);
	ntags = locale_accept(request_param(rq, "HTTP_ACCEPT_LANGUAGE"), tags, LOCALE_CHAIN_MAX);
	for (size_t i = 0; i < ntags && n < LOCALE_CHAIN_MAX; i++) {
		char c[LOCALE_CHAIN_MAX][LOCALE_TAG_MAX];
		size_t nc = locale_chain(tags[i], c, LOCALE_CHAIN_MAX);
		for (size_t j = 0; j < nc && n < LOCALE_CHAIN_MAX; j++)
			if (catalog_exists(rq->cfg->template_dir, c[j]))
				memcpy(chain[n++], c[j], LOCALE_TAG_MAX);
	}
	return n;
}

/* Renders catalogue message key (its plural form for n >= 0) as text. */
static int page_message(const struct catalog *cat, const char *key, long n,
			const struct template_var *v, size_t nv, struct buf *out)
{
	const char *text = n >= 0 ? catalog_plural(cat, key, n) : catalog_get(cat, key);

	return template_render(text ? text : "", v, nv, 0, NULL, out);
}

/* The buffers of one page. */
struct page_bufs {
	struct buf layout, css, style, inner, body, title, message, logo;
};

static int page_fill(const struct page_who *who, const struct catalog *cat,
		     const struct page_text *t, struct page_bufs *pb, struct buf *b)
{
	const struct mail_brand *br = who->brand;
	const char *dir = catalog_get(cat, "language.dir");
	char num[24];
	const struct template_var mv[] = { { "n", num, 0 }, { "brand", br ? br->name : "", 0 } };

	snprintf(num, sizeof num, "%ld", t->n);
	if (br && *br->logo_b64)
		buf_printf(&pb->logo, "data:%s;base64,%s", br->logo_type, br->logo_b64);
	if (page_message(cat, t->title, -1, mv, 2, &pb->title) < 0 ||
	    page_message(cat, t->text, t->n, mv, 2, &pb->message) < 0)
		return -1;

	const struct template_var v[] = {
		{ "title", pb->title.data, 0 }, { "class", t->cls, 0 },
		{ "message", pb->message.data, 0 }, { "inputmode", t->inputmode, 0 },
		{ "brand", br ? br->name : "", 0 }, { "support", br ? br->support : "", 0 },
		{ "logo", pb->logo.data, 0 },
		{ "accent_color", br && *br->accent ? br->accent : MAIL_ACCENT_DEFAULT, 0 },
		{ "lang", cat->locale, 0 }, { "dir", dir && strcmp(dir, "rtl") == 0 ? "rtl" : "ltr", 0 },
	};
	size_t nv = sizeof v / sizeof v[0];

	if (template_render(pb->css.data ? pb->css.data : "", v, nv, 0, NULL, &pb->style) < 0 ||
	    template_render(pb->inner.data ? pb->inner.data : "", v, nv, 1, cat, &pb->body) < 0)
		return -1;
	/* style and body are complete now: their data no longer moves */
	struct template_var lv[sizeof v / sizeof v[0] + 2];
	memcpy(lv, v, sizeof v);
	lv[nv] = (struct template_var){ "style", pb->style.data, 1 };
	lv[nv + 1] = (struct template_var){ "content", pb->body.data, 1 };
	return template_render(pb->layout.data ? pb->layout.data : "", lv, nv + 2, 1, cat, b);
}

static void page_bufs_init(struct page_bufs *pb)
{
	buf_init(&pb->layout, PAGE_MAX);
	buf_init(&pb->css, PAGE_MAX);
	buf_init(&pb->style, PAGE_MAX);
	buf_init(&pb->inner, PAGE_MAX);
	buf_init(&pb->body, PAGE_MAX);
	buf_init(&pb->title, 1024);
	buf_init(&pb->message, 4096);
	buf_init(&pb->logo, PAGE_MAX);
}

static void page_bufs_free(struct page_bufs *pb)
{
	buf_free(&pb->layout);
	buf_free(&pb->css);
	buf_free(&pb->style);
	buf_free(&pb->inner);
	buf_free(&pb->body);
	buf_free(&pb->title);
	buf_free(&pb->message);
	buf_free(&pb->logo);
}

/*
 * Renders template content with t inside page.html, styled by page.css,
 * into b, in who's language; the hash of that style goes to style_hash.
 * -1 (logged) when a template or the catalogue cannot be read.
 */
static int page_render(struct request *rq, const struct page_who *who, const char *content,
		       const struct page_text *t, struct buf *b, char style_hash[64])
{
	char chain[LOCALE_CHAIN_MAX][LOCALE_TAG_MAX], err[512];
	struct template_src src = { rq->cfg->template_dir, (const char (*)[LOCALE_TAG_MAX])chain,
				    page_chain(rq, who, chain), NULL, 0 };
	struct page_bufs pb;
	struct catalog cat;
	int rc = -1;

	if (who->brand) {
		src.custom = who->brand->templates;
		src.ncustom = who->brand->ntemplates;
	}
	page_bufs_init(&pb);
	if (catalog_load(&cat, src.dir, src.chain, src.nchain, err, sizeof err) < 0 ||
	    template_find(&src, "page.html", &pb.layout, err, sizeof err) != 0 ||
	    template_find(&src, "page.css", &pb.css, err, sizeof err) != 0 ||
	    template_find(&src, content, &pb.inner, err, sizeof err) != 0) {
		log_errx("%s", err);
		goto out;
	}
	if (page_fill(who, &cat, t, &pb, b) < 0) {
		log_errx("page %s: larger than %d bytes", content, PAGE_MAX);
		goto out;
	}
	css_hash(pb.style.data ? pb.style.data : "", pb.style.len, style_hash);
	rc = 0;
out:
	catalog_free(&cat);
	page_bufs_free(&pb);
	return rc;
}

/*
 * Answers a page: content is a template of template_dir, t what it says;
 * the origin a form may post to besides ours and extra headers may be NULL.
 */
static void page_ex(struct request *rq, int status, const struct page_who *who,
		    const char *content, const struct page_text *t, const char *form_origin,
		    const char *extra)
{
	struct buf b, h;
	char style_hash[64];

	buf_init(&b, PAGE_MAX);
	buf_init(&h, 4096);
	if (page_render(rq, who, content, t, &b, style_hash) < 0) {
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

/* A page that only says what catalogue messages stem.title and stem.text say. */
static void page(struct request *rq, int status, const struct page_who *who, const char *stem,
		 const char *cls)
{
	char title[64], text[64];
	const struct page_text t = { title, text, cls, -1, NULL };

	snprintf(title, sizeof title, "%s.title", stem);
	snprintf(text, sizeof text, "%s.text", stem);
	page_ex(rq, status, who, "page-message.html", &t, NULL, NULL);
}

/* The pages several handlers answer with. */
static void page_busy(struct request *rq)
{
	page(rq, 503, &nobody, "page.busy", "error");
}

static void page_not_found(struct request *rq)
{
	page(rq, 404, &nobody, "page.not_found", "error");
}

static void page_link_gone(struct request *rq, const struct page_who *who)
{
	page(rq, 410, who, "page.link_gone", "error");
}

/* A verification that is done already: it says so, calmly. */
static void page_verified(struct request *rq, const struct page_who *who)
{
	static const struct page_text t = {
		"page.confirmed.title", "page.verified.text", "ok", -1, NULL
	};

	page_ex(rq, 200, who, "page-message.html", &t, NULL, NULL);
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
		const struct page_text t = { "page.too_many.title", "page.too_many.text", "error",
					     hit.retry_after, NULL };
		char hdr[64];
		snprintf(hdr, sizeof hdr, "Retry-After: %d\r\n", hit.retry_after);
		log_warnx("request %s: client %s over rate_per_ip_per_minute", rq->request_id, ip);
		page_ex(rq, 429, &nobody, "page-message.html", &t, NULL, hdr);
	}
	PQclear(r);
	return over ? -1 : 0;
}

/*
 * The keyed hashes of a link or report token (domain "link" or "report";
 * bytea literals) under secret_key and, when set, secret_key_previous (*p2
 * is then h2, else NULL); -1 for a malformed token.
 */
static int token_hashes(const struct config *cfg, const char *domain, const char *token,
			char h1[TOKEN_HASH_HEX_LEN], char h2[TOKEN_HASH_HEX_LEN], const char **p2)
{
	if (strlen(token) != 43 || strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					      "0123456789-_") != 43)
		return -1;
	token_hash_hex(cfg->secret_key, domain, token, NULL, h1);
	*p2 = NULL;
	if (cfg->have_secret_key_previous) {
		token_hash_hex(cfg->secret_key_previous, domain, token, NULL, h2);
		*p2 = h2;
	}
	return 0;
}

static void link_invalid(struct request *rq, const char *redirect, const struct page_who *who)
{
	struct buf to;

	if (redirect && *redirect) {
		buf_init(&to, 4096);
		redirect_with_params(redirect, "verified=false&error=invalid-or-expired-token", &to);
		see_other(rq, to.data);
		buf_free(&to);
		return;
	}
	page_link_gone(rq, who);
}

/*
 * Whose page it is: the verification's language, and its tenant's brand
 * with the tenant's own templates read into it (*tr keeps them, for
 * db_mail_templates_free()).  -1 after answering when they cannot be read.
 */
static int who_is(struct request *rq, const char *locale, struct mail_brand *brand,
		  struct page_who *who, PGresult **tr)
{
	int failed;

	*tr = db_mail_templates(rq->db, brand, &failed);
	if (failed) {
		page_busy(rq);
		return -1;
	}
	who->locale = locale;
	who->brand = brand;
	return 0;
}

/* The confirming action: the POST, or the GET when link_confirm_page is off. */
static void link_confirm(struct request *rq, const char *token)
{
	char h1[TOKEN_HASH_HEX_LEN], h2[TOKEN_HASH_HEX_LEN];
	const char *p[2] = { h1, NULL };
	struct page_who who = nobody;
	struct db_link link;
	enum db_err err;
	PGresult *r, *tr = NULL;
	int found;

	if (token_hashes(rq->cfg, "link", token, h1, h2, &p[1]) < 0) {
		link_invalid(rq, NULL, &nobody);
		return;
	}
	if ((r = db_run(rq->db, DB_LINK_CONFIRM, p, &err, NULL)) == NULL) {
		page_busy(rq);
		return;
	}
	found = db_link(r, &link) == 0;
	if (found && who_is(rq, link.locale, &link.brand, &who, &tr) < 0) {
		PQclear(r);
		return;
	}
	if (found && link.confirmed) {
		const char *id = link.id, *redirect = link.redirect;
		metrics_outcome(METRICS_VERIFIED);
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
			page(rq, 200, &who, "page.confirmed", "ok");
		}
	} else if (found && link.eff == VS_VERIFIED && !*link.redirect) {
		page_verified(rq, &who);
	} else {
		link_invalid(rq, found ? link.redirect : NULL, &who);
	}
	if (found)
		db_mail_templates_free(&link.brand, tr);
	PQclear(r);
}

void hosted_link_get(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	static const struct page_text confirm = {
		"page.link.title", "page.link.text", NULL, -1, NULL
	};
	char h1[TOKEN_HASH_HEX_LEN], h2[TOKEN_HASH_HEX_LEN], origin[300];
	const char *p[2] = { h1, NULL }, *redirect;
	struct page_who who;
	struct db_link link;
	enum db_err err;
	PGresult *r, *tr;

	if (ip_allowed(rq) < 0)
		return;
	if (!rq->cfg->link_confirm_page && strcmp(rq->method, "GET") == 0) {
		link_confirm(rq, args[0]);
		return;
	}
	if (token_hashes(rq->cfg, "link", args[0], h1, h2, &p[1]) < 0) {
		link_invalid(rq, NULL, &nobody);
		return;
	}
	if ((r = db_run(rq->db, DB_LINK_VIEW, p, &err, NULL)) == NULL) {
		page_busy(rq);
		return;
	}
	if (db_link(r, &link) < 0) {
		page_link_gone(rq, &nobody);
		PQclear(r);
		return;
	}
	if (who_is(rq, link.locale, &link.brand, &who, &tr) < 0) {
		PQclear(r);
		return;
	}
	redirect = link.redirect;
	if (link.eff == VS_VERIFIED)
		page_verified(rq, &who);
	else if (link.eff != VS_PENDING)
		page_link_gone(rq, &who);
	else	/* the POST may be redirected there, which form-action must allow */
		page_ex(rq, 200, &who, "page-link.html", &confirm,
			*redirect && redirect_origin(redirect, origin, sizeof origin) == 0 ?
			origin : NULL, NULL);
	db_mail_templates_free(&link.brand, tr);
	PQclear(r);
}

void hosted_link_post(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	if (ip_allowed(rq) < 0)
		return;
	link_confirm(rq, args[0]);
}

/*
 * "Didn't ask for this?": the GET shows what the button does (mail
 * scanners open links), the POST does it (mp_report) and thanks.  Both
 * answer the thank-you page once the report is made, and the page of a
 * gone link for a token that is no report link.
 */
static void report(struct request *rq, const char *token, int act)
{
	static const struct page_text ask = {
		"page.report.title", "page.report.text", NULL, -1, NULL
	};
	char h1[TOKEN_HASH_HEX_LEN], h2[TOKEN_HASH_HEX_LEN];
	const char *p[2] = { h1, NULL };
	struct page_who who;
	struct db_report rep;
	enum db_err err;
	PGresult *r, *tr;

	if (ip_allowed(rq) < 0)
		return;
	if (token_hashes(rq->cfg, "report", token, h1, h2, &p[1]) < 0) {
		page_link_gone(rq, &nobody);
		return;
	}
	if ((r = db_run(rq->db, act ? DB_REPORT : DB_REPORT_VIEW, p, &err, NULL)) == NULL) {
		page_busy(rq);
		return;
	}
	if (db_report(r, &rep) < 0) {
		page_link_gone(rq, &nobody);
		PQclear(r);
		return;
	}
	if (who_is(rq, rep.locale, &rep.brand, &who, &tr) < 0) {
		PQclear(r);
		return;
	}
	if (rep.reported) {
		char kv[200];
		snprintf(kv, sizeof kv, "request_id=%s verification=%s tenant=%s", rq->request_id,
			 rep.id, rep.brand.tenant_id);
		if (act)
			log_kv(LOG_LVL_WARN, kv, "verification %s: its address says it did not ask for "
			       "it; on the suppression list now", rep.id);
		page(rq, 200, &who, "page.reported", "ok");
	} else {
		page_ex(rq, 200, &who, "page-report.html", &ask, NULL, NULL);
	}
	db_mail_templates_free(&rep.brand, tr);
	PQclear(r);
}

void hosted_report_get(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	report(rq, args[0], 0);
}

void hosted_report_post(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	report(rq, args[0], 1);
}

/* The code form, under catalogue message text (its plural form for n >= 0). */
static void otp_form(struct request *rq, int status, const struct page_who *who,
		     const char *format, const char *text, const char *cls, long n)
{
	const struct page_text t = {
		"page.otp.title", text, cls, n, strcmp(format, "numeric") == 0 ? "numeric" : "text"
	};

	page_ex(rq, status, who, "page-otp.html", &t, NULL, NULL);
}

/* The page for a verification that takes no code any more. */
static int otp_finished(struct request *rq, const struct page_who *who,
			enum verification_status eff)
{
	if (eff == VS_VERIFIED)
		page_verified(rq, who);
	else if (eff == VS_EXPIRED)
		page(rq, 410, who, "page.expired", "error");
	else if (eff == VS_CANCELED)
		page(rq, 410, who, "page.canceled", "error");
	else if (eff == VS_FAILED)
		page(rq, 410, who, "page.failed", "error");
	else
		return 0;
	return 1;
}

/*
 * Looks up the verification of the page: its row, which info points into
 * (the caller clears it, and *tr with db_mail_templates_free()), or NULL
 * after answering.
 */
static PGresult *otp_lookup(struct request *rq, const char *id, struct db_hosted_info *info,
			    struct page_who *who, PGresult **tr)
{
	const char *p[1] = { id };
	enum db_err err;
	PGresult *r;

	if (!verify_id_valid(id)) {
		page_not_found(rq);
		return NULL;
	}
	if ((r = db_run(rq->db, DB_HOSTED_INFO, p, &err, NULL)) == NULL) {
		page_busy(rq);
		return NULL;
	}
	if (db_hosted_info(r, info) < 0 || !info->otp) {
		PQclear(r);
		page_not_found(rq);
		return NULL;
	}
	if (who_is(rq, info->locale, &info->brand, who, tr) < 0) {
		PQclear(r);
		return NULL;
	}
	return r;
}

void hosted_otp_get(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	struct db_hosted_info info;
	struct page_who who;
	PGresult *r, *tr;

	if (ip_allowed(rq) < 0 || (r = otp_lookup(rq, args[0], &info, &who, &tr)) == NULL)
		return;
	if (!otp_finished(rq, &who, info.eff))
		otp_form(rq, 200, &who, info.format, "page.otp.text", NULL, -1);
	db_mail_templates_free(&info.brand, tr);
	PQclear(r);
}

/* Checks the code of the form, and answers with its outcome. */
static void otp_check(struct request *rq, const char *id, const struct page_who *who,
		      const char *format)
{
	const char *ct = request_param(rq, "CONTENT_TYPE");
	const struct verify_ctx ctx = { rq->cfg, rq->db, NULL, rq->request_id };
	struct verify_result res;
	char code[VERIFY_CODE_INPUT_MAX + 1];

	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
		page(rq, 415, who, "page.bad_form", "error");
		return;
	}
	if (request_read_body(rq) < 0)
		return;
	if (request_form(rq, "code", code, sizeof code) == 1)
		verify_normalize_code(code);
	else
		code[0] = '\0';
	if (code[0] == '\0') {
		otp_form(rq, 400, who, format, "page.otp.empty", "error", -1);
		return;
	}
	switch (verify_code(&ctx, id, code, &res)) {
	case VO_OK:
		page(rq, 200, who, "page.confirmed", "ok");
		break;
	case VO_INVALID_CODE:
		otp_form(rq, 422, who, format, "page.otp.wrong", "error", res.remaining);
		break;
	case VO_ATTEMPTS_EXHAUSTED:
	case VO_FAILED:
		otp_finished(rq, who, VS_FAILED);
		break;
	case VO_EXPIRED:
		otp_finished(rq, who, VS_EXPIRED);
		break;
	case VO_ALREADY_VERIFIED:
		otp_finished(rq, who, VS_VERIFIED);
		break;
	case VO_CANCELED:
		otp_finished(rq, who, VS_CANCELED);
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

void hosted_otp_post(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	struct db_hosted_info info;
	struct page_who who;
	PGresult *r, *tr;

	if (ip_allowed(rq) < 0 || (r = otp_lookup(rq, args[0], &info, &who, &tr)) == NULL)
		return;
	otp_check(rq, args[0], &who, info.format);
	db_mail_templates_free(&info.brand, tr);
	PQclear(r);
}
