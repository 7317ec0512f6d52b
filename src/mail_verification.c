/* See mail_verification.h. */
#include "mail_verification.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "config.h"
#include "log.h"
#include "smtp.h"
#include "template.h"
#include "token.h"
#include "verp.h"

int mail_duration(const struct catalog *cat, int seconds, struct buf *out)
{
	const char *unit = seconds % 86400 == 0 ? "duration.day" :
			   seconds % 3600 == 0 ? "duration.hour" : "duration.minute";
	long n = seconds % 86400 == 0 ? seconds / 86400 :
		 seconds % 3600 == 0 ? seconds / 3600 : (seconds + 59) / 60;
	const char *form = catalog_plural(cat, unit, n);
	char num[24];
	const struct template_var v[] = { { "n", num, 0 } };

	snprintf(num, sizeof num, "%ld", n);
	return template_render(form ? form : "{{n}}", v, 1, 0, NULL, out);
}

/* The parts of one mail, and what they are made from. */
struct letter {
	char chain[LOCALE_CHAIN_MAX][LOCALE_TAG_MAX];
	struct template_src src;
	struct catalog cat;
	struct buf expires, line, subject, tpl_subject, tpl_text, tpl_html, text, html;
};

static void letter_free(struct letter *l)
{
	catalog_free(&l->cat);
	sodium_memzero(l->text.data, l->text.len);
	sodium_memzero(l->html.data, l->html.len);
	buf_free(&l->expires);
	buf_free(&l->line);
	buf_free(&l->subject);
	buf_free(&l->tpl_subject);
	buf_free(&l->tpl_text);
	buf_free(&l->tpl_html);
	buf_free(&l->text);
	buf_free(&l->html);
}

/* Renders catalogue message key with vars as text into out. */
static int message(const struct letter *l, const char *key, const struct template_var *v,
		   size_t n, struct buf *out)
{
	const char *text = catalog_get(&l->cat, key);

	return template_render(text ? text : "", v, n, 0, NULL, out);
}

/*
 * Every mail says "Didn't ask for this? Tell us." with its link: a
 * tenant's own template without {{report}} gets the line at its end (in
 * HTML, before </body>).
 */
static int report_line(struct letter *l, const char *report)
{
	static const char text[] = "\n{{msg.report.line}}\n{{report}}\n";
	static const char html[] = "<p style=\"font-size:12px;\"><a href=\"{{report}}\">"
				   "{{msg.report.line}}</a></p>\n";
	const struct template_var v[] = { { "report", report, 0 } };
	struct buf tail;
	const char *end;
	size_t at;
	int rc = 0;

	if (l->text.data == NULL || strstr(l->text.data, report) == NULL)
		rc = template_render(text, v, 1, 0, &l->cat, &l->text);
	if (rc < 0 || (l->html.data && strstr(l->html.data, report)))
		return rc;
	end = l->html.data ? strcasestr(l->html.data, "</body>") : NULL;
	at = end ? (size_t)(end - l->html.data) : l->html.len;
	buf_init(&tail, MAIL_MAX_BYTES);
	if (buf_append(&tail, l->html.data ? l->html.data + at : "", l->html.len - at) < 0)
		rc = -1;
	if (rc == 0) {
		buf_truncate(&l->html, at);
		rc = template_render(html, v, 1, 1, &l->cat, &l->html) < 0 ||
		     buf_append(&l->html, tail.data ? tail.data : "", tail.len) < 0 ? -1 : 0;
	}
	buf_free(&tail);
	return rc;
}

static int letter_write(const struct config *cfg, const struct mail_verification *vm,
			struct letter *l)
{
	const struct mail_brand *b = vm->brand;
	const char *kind = vm->code && vm->link ? "code_and_link" : vm->link ? "link" : "otp";
	const char *dir = catalog_get(&l->cat, "language.dir");
	char minutes[16], hosted[MAIL_URL_MAX], report[MAIL_URL_MAX], key[32], name[32], err[512];
	int found;

	snprintf(minutes, sizeof minutes, "%d", (vm->ttl_seconds + 59) / 60);
	mail_hosted_url(cfg, vm->id, hosted);
	mail_report_url(cfg, vm->id, report);
	if (mail_duration(&l->cat, vm->ttl_seconds, &l->expires) < 0)
		return -1;

	/* the duration is complete now: its data no longer moves */
	const struct template_var base[] = { { "brand", b->name, 0 },
					     { "expires", l->expires.data, 0 } };
	snprintf(key, sizeof key, "%s.line", kind);
	if ((vm->verification_line ? buf_puts(&l->line, vm->verification_line) :
				     message(l, key, base, 1, &l->line)) < 0)
		return -1;
	/* the request's subject, else the tenant's subject template, else the catalogue's */
	snprintf(key, sizeof key, "%s.subject", kind);
	if (vm->subject) {
		found = buf_puts(&l->subject, vm->subject);
	} else if ((found = template_find(&l->src, key, &l->tpl_subject, err, sizeof err)) == 0) {
		found = template_render(l->tpl_subject.data, base, 2, 0, &l->cat, &l->subject);
	} else if (found == 1) {
		found = message(l, key, base, 1, &l->subject);
	} else {
		goto fail;
	}
	if (found < 0)
		return -1;

	const struct template_var v[] = {
		{ "code", vm->code ? vm->code : "", 0 },
		{ "link", vm->link ? vm->link : hosted, 0 },
		{ "expires", l->expires.data, 0 },
		{ "expires_minutes", minutes, 0 },
		{ "verification_line", l->line.data, 0 },
		{ "subject", l->subject.data, 0 },
		{ "brand", b->name, 0 },
		{ "support", b->support, 0 },
		{ "accent_color", *b->accent ? b->accent : MAIL_ACCENT_DEFAULT, 0 },
		{ "logo", *b->logo_b64 ? "cid:" MAIL_LOGO_CID : "", 0 },
		{ "lang", l->cat.locale, 0 },
		{ "dir", dir && strcmp(dir, "rtl") == 0 ? "rtl" : "ltr", 0 },
		{ "report", report, 0 },
	};
	snprintf(name, sizeof name, "%s.txt", kind);
	if (template_find(&l->src, name, &l->tpl_text, err, sizeof err) != 0)
		goto fail;
	snprintf(name, sizeof name, "%s.html", kind);
	if (template_find(&l->src, name, &l->tpl_html, err, sizeof err) != 0)
		goto fail;
	if (template_render(l->tpl_text.data, v, sizeof v / sizeof v[0], 0, &l->cat, &l->text) < 0 ||
	    template_render(l->tpl_html.data, v, sizeof v / sizeof v[0], 1, &l->cat, &l->html) < 0 ||
	    report_line(l, report) < 0) {
		log_errx("verification %s: the rendered mail is too large", vm->id);
		return -1;
	}
	return 0;
fail:
	log_errx("verification %s: %s", vm->id, err);
	return -1;
}

/* Writes the subject and parts of vm's mail into l (free it with letter_free()). */
static int letter_make(const struct config *cfg, const struct mail_verification *vm,
		       struct letter *l)
{
	char err[512];

	l->src.dir = cfg->template_dir;
	l->src.chain = (const char (*)[LOCALE_TAG_MAX])l->chain;
	l->src.nchain = locale_chain(vm->locale && *vm->locale ? vm->locale : "en", l->chain,
				     LOCALE_CHAIN_MAX);
	l->src.custom = vm->brand->templates;
	l->src.ncustom = vm->brand->ntemplates;
	buf_init(&l->expires, 256);
	buf_init(&l->line, 2048);
	buf_init(&l->subject, 1024);
	buf_init(&l->tpl_subject, 1024);
	buf_init(&l->tpl_text, MAIL_MAX_BYTES);
	buf_init(&l->tpl_html, MAIL_MAX_BYTES);
	buf_init(&l->text, MAIL_MAX_BYTES);
	buf_init(&l->html, MAIL_MAX_BYTES);
	if (catalog_load(&l->cat, cfg->template_dir, l->src.chain, l->src.nchain, err,
			 sizeof err) < 0) {
		log_errx("%s", err);
		return -1;
	}
	return letter_write(cfg, vm, l);
}

int mail_verification_part(const struct config *cfg, const struct mail_verification *vm,
			   const char *part, struct buf *out)
{
	struct letter l;
	const struct buf *b;
	int rc = -1;

	if (letter_make(cfg, vm, &l) == 0) {
		b = strcmp(part, "subject") == 0 ? &l.subject : strcmp(part, "html") == 0 ? &l.html :
		    &l.text;
		rc = buf_append(out, b->data ? b->data : "", b->len);
	}
	letter_free(&l);
	return rc;
}

int mail_verification_parts(const struct config *cfg, const struct mail_verification *vm,
			    struct buf *subject, struct buf *text, struct buf *html)
{
	struct letter l;
	int rc = -1;

	if (letter_make(cfg, vm, &l) == 0 &&
	    buf_append(subject, l.subject.data ? l.subject.data : "", l.subject.len) == 0 &&
	    buf_append(text, l.text.data ? l.text.data : "", l.text.len) == 0 &&
	    buf_append(html, l.html.data ? l.html.data : "", l.html.len) == 0)
		rc = 0;
	letter_free(&l);
	return rc;
}

int mail_verification_compose(const struct config *cfg, const char *from,
			      const struct mail_verification *vm, struct buf *out)
{
	struct letter l;
	struct mail_msg msg;
	int rc = -1;

	if (letter_make(cfg, vm, &l) < 0)
		goto out;
	msg.from = from && *from ? from : cfg->mail_from;
	msg.from_name = cfg->mail_from_name;
	msg.to = vm->email;
	/* a part that rendered empty (an empty message or file) has no data yet */
	msg.subject = l.subject.data ? l.subject.data : "";
	msg.text = l.text.data ? l.text.data : "";
	msg.html = l.html.data ? l.html.data : "";
	msg.logo_type = vm->brand->logo_type;
	msg.logo_b64 = vm->brand->logo_b64;
	if (mail_compose(&msg, out) < 0) {
		log_errx("verification %s: the mail is too large", vm->id);
		goto out;
	}
	rc = 0;
out:
	letter_free(&l);
	return rc;
}

void mail_verification_send(const struct config *cfg, const char *from,
			    const struct mail_verification *vm, const char *journal_key,
			    struct smtp_result *res)
{
	struct buf msg;
	char envelope[320];

	buf_init(&msg, MAIL_MAX_BYTES);
	if (mail_verification_compose(cfg, from, vm, &msg) < 0) {
		memset(res, 0, sizeof *res);
		snprintf(res->reply, sizeof res->reply, "the message could not be built");
	} else {
		smtp_send(cfg, verp_sender(cfg, vm->id, from, envelope, sizeof envelope), vm->email,
			  msg.data, journal_key, res);
	}
	sodium_memzero(msg.data, msg.len);
	buf_free(&msg);
}

void mail_link_url(const struct config *cfg, const char *token, char out[MAIL_URL_MAX])
{
	snprintf(out, MAIL_URL_MAX, "%s/v1/link/%s", cfg->public_base_url, token);
}

void mail_report_url(const struct config *cfg, const char *id, char out[MAIL_URL_MAX])
{
	char token[TOKEN_REPORT_LEN + 1];

	token_report(cfg->secret_key, id, token);
	snprintf(out, MAIL_URL_MAX, "%s/v1/report/%s", cfg->public_base_url, token);
}

void mail_hosted_url(const struct config *cfg, const char *id, char out[MAIL_URL_MAX])
{
	snprintf(out, MAIL_URL_MAX, "%s/v1/hosted/%s", cfg->public_base_url, id);
}
