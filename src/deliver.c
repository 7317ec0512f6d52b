/* See deliver.h. */
#include "deliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "db.h"
#include "db_mail.h"
#include "db_queue.h"
#include "log.h"
#include "mail_verification.h"
#include "secret.h"
#include "vstatus.h"
#include "webhook.h"

/*
 * The event's data: its payload (the verification) with the message of
 * vm added, written into out.  0, or -1 when it does not fit.
 */
static int data_write(const char *payload, const struct mail_verification *vm,
		      const struct buf *subject, const struct buf *text, const struct buf *html,
		      const char *type, const char *timestamp, struct buf *out)
{
	json_t *v = json_loads(payload, 0, NULL), *m = json_pack(
		"{s:s,s:s%,s:s%,s:s%,s:s?,s:s?}", "to", vm->email,
		"subject", subject->data ? subject->data : "", subject->len,
		"text", text->data ? text->data : "", text->len,
		"html", html->data ? html->data : "", html->len,
		"code", vm->code, "link", vm->link);
	char *data = NULL;
	int rc = -1;

	if (!json_is_object(v) || m == NULL || json_object_set(v, "message", m) < 0 ||
	    (data = json_dumps(v, JSON_COMPACT)) == NULL)
		goto out;
	rc = webhook_body(type, timestamp, data, out);
	sodium_memzero(data, strlen(data));
out:
	free(data);
	json_decref(m);
	json_decref(v);
	return rc;
}

enum deliver_outcome deliver_body(struct db *db, const struct config *cfg,
				  const struct db_event_row *e, struct buf *out,
				  char hash[TOKEN_HASH_HEX_LEN], char why[160])
{
	const char *p[1] = { e->verification_id };
	enum deliver_outcome o = DELIVER_FAILED;
	struct db_mail_of d;
	struct mail_verification vm;
	struct buf subject, text, html;
	struct secret s;
	PGresult *r = NULL, *tr = NULL;
	enum db_err err;
	int failed = 0;

	memset(&s, 0, sizeof s);
	memset(&d, 0, sizeof d);
	buf_init(&subject, 1024);
	buf_init(&text, MAIL_MAX_BYTES);
	buf_init(&html, MAIL_MAX_BYTES);
	hash[0] = '\0';
	why[0] = '\0';
	if (e->sealed_code == NULL) {
		/* wiped: the event was settled before (and is retried by hand), or
		   its verification left PENDING or got a new code meanwhile */
		snprintf(why, 160, "not sent: its code is gone (the verification has a newer one, "
			 "or is no longer pending); resend the verification for a new one");
		o = DELIVER_STALE;
		goto out;
	}
	if ((r = db_run(db, DB_DELIVER_INFO, p, &err, NULL)) == NULL) {
		o = DELIVER_DB;
		goto out;
	}
	if (db_deliver_info(r, &d) < 0) {
		snprintf(why, 160, "the verification is gone");
		o = DELIVER_STALE;
		goto out;
	}
	if (vstatus_of(d.status) != VS_PENDING) {
		snprintf(why, 160, "not sent: the verification is %s", d.status);
		o = DELIVER_STALE;
		goto out;
	}
	if (secret_open(cfg, e->verification_id, secret_kind_of(d.method), e->sealed_code, &s) < 0) {
		snprintf(why, 160, "its code cannot be opened (secret_key changed without "
			 "secret_key_previous?)");
		log_errx("event %s: %s", e->event_id, why);
		goto out;
	}
	memcpy(hash, s.hash, TOKEN_HASH_HEX_LEN);
	if (!secret_current(&s, d.secret_hash)) {
		snprintf(why, 160, "not sent: a resend replaced its code");
		o = DELIVER_STALE;
		goto out;
	}
	if ((tr = db_mail_templates(db, &d.brand, &failed)) == NULL && failed) {
		o = DELIVER_DB;
		goto out;
	}
	db_mail_of_verification(&d, e->verification_id, &vm);
	secret_mail(&s, &vm);
	if (mail_verification_parts(cfg, &vm, &subject, &text, &html) < 0 ||
	    data_write(e->payload, &vm, &subject, &text, &html, e->type, e->created_at, out) < 0) {
		snprintf(why, 160, "its mail could not be written, or is too large to send");
		log_errx("event %s: %s", e->event_id, why);
		goto out;
	}
	o = DELIVER_BODY;
out:
	db_mail_templates_free(&d.brand, tr);
	PQclear(r);
	secret_wipe(&s);
	sodium_memzero(text.data, text.len);
	sodium_memzero(html.data, html.len);
	buf_free(&subject);
	buf_free(&text);
	buf_free(&html);
	return o;
}
