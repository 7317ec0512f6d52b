/* See dsn.h. */
#include "dsn.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

#define DSN_DEPTH_MAX 6		/* multiparts within multiparts */
#define DSN_PART_MAX (256 * 1024)	/* a decoded part: reports and texts are small */

struct span {
	const char *p;
	size_t n;
};

struct walk {
	struct dsn best;	/* of the delivery-status parts seen */
	int rank;		/* of best: 0 none, 1 delivered, 2 delayed, 3 failed */
	struct buf text;	/* the first text/plain part, decoded */
};

/* The next line of s from *pos: its span without CR LF; -1 at the end. */
static int next_line(struct span s, size_t *pos, struct span *line)
{
	size_t i = *pos, n;

	if (i >= s.n)
		return -1;
	for (n = i; n < s.n && s.p[n] != '\n'; n++)
		;
	line->p = s.p + i;
	line->n = n - i;
	if (line->n && line->p[line->n - 1] == '\r')
		line->n--;
	*pos = n < s.n ? n + 1 : n;
	return 0;
}

/* Head and body: split at the first empty line (none: all head). */
static void split_head(struct span m, struct span *head, struct span *body)
{
	struct span line;
	size_t pos = 0, start;

	for (start = pos; next_line(m, &pos, &line) == 0; start = pos) {
		if (line.n == 0) {
			head->p = m.p;
			head->n = start;
			body->p = m.p + pos;
			body->n = m.n - pos;
			return;
		}
	}
	*head = m;
	body->p = m.p + m.n;
	body->n = 0;
}

/* Appends s to out[*len], whitespace runs folded to one space, other
 * control and non-ASCII bytes as '?'. */
static void put_folded(char *out, size_t outlen, size_t *len, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *len + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (*len > 0 && out[*len - 1] != ' ')
				out[(*len)++] = ' ';
		} else {
			out[(*len)++] = c >= 0x21 && c < 0x7f ? (char)c : '?';
		}
	}
	out[*len] = '\0';
}

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n > 0 && s[n - 1] == ' ')
		s[--n] = '\0';
	while (s[i] == ' ')
		i++;
	memmove(s, s + i, n - i + 1);
}

/* The unfolded value of field name in a header block, in out. */
static int field(struct span head, const char *name, char *out, size_t outlen)
{
	struct span line;
	size_t pos = 0, nlen = strlen(name), len = 0;
	int in = 0;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	while (next_line(head, &pos, &line) == 0) {
		int cont = line.n > 0 && (line.p[0] == ' ' || line.p[0] == '\t');
		if (in && cont) {
			put_folded(out, outlen, &len, " ", 1);
			put_folded(out, outlen, &len, line.p, line.n);
			continue;
		}
		if (in)
			break;
		if (!cont && line.n > nlen && line.p[nlen] == ':' &&
		    strncasecmp(line.p, name, nlen) == 0) {
			in = 1;
			put_folded(out, outlen, &len, line.p + nlen + 1, line.n - nlen - 1);
		}
	}
	if (!in)
		return -1;
	trim(out);
	return 0;
}

/* Content-Type: the media type, lower case, and its boundary parameter. */
static void content_type(struct span head, char *type, size_t tlen, char *bnd, size_t blen)
{
	char v[1024];
	const char *p;
	size_t n = 0;

	snprintf(type, tlen, "text/plain");
	bnd[0] = '\0';
	if (field(head, "Content-Type", v, sizeof v) < 0)
		return;
	for (p = v; *p && *p != ';' && *p != ' ' && n + 1 < tlen; p++)
		type[n++] = (char)tolower((unsigned char)*p);
	type[n] = '\0';
	while ((p = strchr(p, ';')) != NULL) {
		p++;
		while (*p == ' ')
			p++;
		if (strncasecmp(p, "boundary", 8) != 0)
			continue;
		p += 8;
		while (*p == ' ')
			p++;
		if (*p++ != '=')
			continue;
		while (*p == ' ')
			p++;
		n = 0;
		if (*p == '"') {
			for (p++; *p && *p != '"' && n + 1 < blen; p++)
				bnd[n++] = *p;
		} else {
			for (; *p && *p != ';' && *p != ' ' && n + 1 < blen; p++)
				bnd[n++] = *p;
		}
		bnd[n] = '\0';
		return;
	}
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The body decoded as its Content-Transfer-Encoding says, into out (as much as fits). */
static void decode(struct span head, struct span body, struct buf *out)
{
	char cte[64];
	unsigned acc = 0;
	int bits = 0;

	buf_reset(out);
	if (field(head, "Content-Transfer-Encoding", cte, sizeof cte) < 0)
		cte[0] = '\0';
	if (strcasecmp(cte, "base64") == 0) {
		for (size_t i = 0; i < body.n; i++) {
			int v = b64_value((unsigned char)body.p[i]);
			if (v < 0)
				continue;
			acc = (acc << 6) | (unsigned)v;
			bits += 6;
			if (bits >= 8) {
				char c = (char)((acc >> (bits - 8)) & 0xff);
				bits -= 8;
				if (buf_append(out, &c, 1) < 0)
					return;
			}
		}
	} else if (strcasecmp(cte, "quoted-printable") == 0) {
		for (size_t i = 0; i < body.n; i++) {
			char c = body.p[i];
			if (c == '=' && i + 1 < body.n && (body.p[i + 1] == '\n' || body.p[i + 1] == '\r')) {
				i += body.p[i + 1] == '\r' && i + 2 < body.n && body.p[i + 2] == '\n' ? 2 : 1;
				continue;
			}
			if (c == '=' && i + 2 < body.n && hex_value((unsigned char)body.p[i + 1]) >= 0 &&
			    hex_value((unsigned char)body.p[i + 2]) >= 0) {
				c = (char)(hex_value((unsigned char)body.p[i + 1]) * 16 +
					   hex_value((unsigned char)body.p[i + 2]));
				i += 2;
			}
			if (buf_append(out, &c, 1) < 0)
				return;
		}
	} else {
		buf_append(out, body.p, body.n < DSN_PART_MAX ? body.n : DSN_PART_MAX);
	}
}

/* At s[i], an RFC 3463 status (class 2, 4 or 5) standing alone: its length, else 0. */
static size_t status_at(const char *s, size_t n, size_t i)
{
	size_t j = i, digits;

	if (i > 0 && (isdigit((unsigned char)s[i - 1]) || s[i - 1] == '.'))
		return 0;
	if (j >= n || (s[j] != '2' && s[j] != '4' && s[j] != '5') || j + 1 >= n || s[j + 1] != '.')
		return 0;
	j += 2;
	for (int part = 0; part < 2; part++) {
		for (digits = 0; j < n && isdigit((unsigned char)s[j]) && digits < 4; j++)
			digits++;
		if (digits == 0 || digits > 3)
			return 0;
		if (part == 0) {
			if (j >= n || s[j] != '.')
				return 0;
			j++;
		}
	}
	if (j < n && (isdigit((unsigned char)s[j]) ||
		      (s[j] == '.' && j + 1 < n && isdigit((unsigned char)s[j + 1]))))
		return 0;
	return j - i;
}

/* The first status in s (of class 4 or 5 unless any), copied to out: 0, or -1. */
static int find_status(const char *s, size_t n, int any, char *out, size_t outlen,
		       size_t *where)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = status_at(s, n, i);
		if (len && (any || s[i] != '2') && len < outlen) {
			memcpy(out, s + i, len);
			out[len] = '\0';
			if (where)
				*where = i;
			return 0;
		}
	}
	return -1;
}

/* "smtp; 550 5.1.1 <a@b>: no such user" -> the text after the type. */
static void diagnostic(const char *v, char *out, size_t outlen)
{
	const char *semi = strchr(v, ';');
	size_t len = 0;

	if (semi && !memchr(v, ' ', (size_t)(semi - v)))
		v = semi + 1;
	out[0] = '\0';
	put_folded(out, outlen, &len, v, strlen(v));
	trim(out);
}

/* One per-recipient group of a delivery-status part. */
static void report_group(struct span g, struct walk *w)
{
	char action[32], status[64], diag[1024], rcpt[DSN_ADDR_MAX + 16];
	int has_action = field(g, "Action", action, sizeof action) == 0;
	int has_status = field(g, "Status", status, sizeof status) == 0;
	struct dsn d;
	int rank;
	char *p;

	if (!has_action && !has_status)
		return;		/* the per-message fields */
	memset(&d, 0, sizeof d);
	if (!has_status || find_status(status, strlen(status), 1, d.status, sizeof d.status,
				       NULL) < 0)
		d.status[0] = '\0';
	if (has_action && strcasecmp(action, "failed") == 0)
		d.kind = DSN_FAILED;
	else if (has_action && strcasecmp(action, "delayed") == 0)
		d.kind = DSN_DELAYED;
	else if (has_action && (strcasecmp(action, "delivered") == 0 ||
				strcasecmp(action, "relayed") == 0 ||
				strcasecmp(action, "expanded") == 0))
		d.kind = DSN_DELIVERED;
	else
		d.kind = d.status[0] == '5' ? DSN_FAILED : d.status[0] == '4' ? DSN_DELAYED
			 : d.status[0] == '2' ? DSN_DELIVERED : DSN_UNKNOWN;
	if (field(g, "Diagnostic-Code", diag, sizeof diag) == 0)
		diagnostic(diag, d.diagnostic, sizeof d.diagnostic);
	/* none, or an unspecific x.0.0 (Exim's), and a specific one in the diagnostic */
	if (d.diagnostic[0] && (!d.status[0] || strcmp(d.status + 1, ".0.0") == 0)) {
		char st[sizeof d.status];
		if (find_status(d.diagnostic, strlen(d.diagnostic), 0, st, sizeof st, NULL) == 0 &&
		    (!d.status[0] || st[0] == d.status[0]))
			memcpy(d.status, st, sizeof st);
	}
	if (!d.status[0] && d.kind == DSN_FAILED)
		snprintf(d.status, sizeof d.status, "5.0.0");
	if (!d.status[0] && d.kind == DSN_DELAYED)
		snprintf(d.status, sizeof d.status, "4.0.0");
	if (field(g, "Final-Recipient", rcpt, sizeof rcpt) == 0 ||
	    field(g, "Original-Recipient", rcpt, sizeof rcpt) == 0) {
		p = strchr(rcpt, ';') ? strchr(rcpt, ';') + 1 : rcpt;
		while (*p == ' ' || *p == '<')
			p++;
		snprintf(d.recipient, sizeof d.recipient, "%.*s", (int)strcspn(p, "> "), p);
	}
	rank = d.kind == DSN_FAILED ? 3 : d.kind == DSN_DELAYED ? 2 : d.kind == DSN_DELIVERED;
	if (rank > w->rank) {
		w->rank = rank;
		w->best = d;
	}
}

/* A delivery-status part: groups of fields between empty lines. */
static void report(struct span s, struct walk *w)
{
	struct span line, g = { s.p, 0 };
	size_t pos = 0, start = 0;

	for (;;) {
		size_t before = pos;
		int end = next_line(s, &pos, &line) < 0;
		if (end || line.n == 0) {
			g.p = s.p + start;
			g.n = before - start;
			if (g.n)
				report_group(g, w);
			if (end)
				return;
			start = pos;
		}
	}
}

static void walk(struct span head, struct span body, int depth, struct walk *w)
{
	char type[128], bnd[200];
	struct buf part;

	content_type(head, type, sizeof type, bnd, sizeof bnd);
	if (strncmp(type, "multipart/", 10) == 0 && bnd[0] && depth < DSN_DEPTH_MAX) {
		struct span line, p = { NULL, 0 };
		size_t pos = 0, blen = strlen(bnd), start = 0;
		int in = 0;
		for (;;) {
			size_t before = pos;
			int end = next_line(body, &pos, &line) < 0;
			int delim = !end && line.n >= blen + 2 && line.p[0] == '-' && line.p[1] == '-' &&
				    memcmp(line.p + 2, bnd, blen) == 0;
			if (end || delim) {
				if (in) {
					struct span h, b;
					p.p = body.p + start;
					p.n = before - start;
					split_head(p, &h, &b);
					walk(h, b, depth + 1, w);
				}
				if (end || (line.n >= blen + 4 && line.p[blen + 2] == '-' &&
					    line.p[blen + 3] == '-'))
					return;
				in = 1;
				start = pos;
			}
		}
	}
	buf_init(&part, DSN_PART_MAX);
	if (strcmp(type, "message/delivery-status") == 0 ||
	    strcmp(type, "message/global-delivery-status") == 0) {
		decode(head, body, &part);
		report((struct span){ part.data ? part.data : "", part.len }, w);
	} else if (strcmp(type, "text/plain") == 0 && w->text.len == 0) {
		decode(head, body, &part);
		if (part.len)
			buf_append(&w->text, part.data, part.len);
	}
	buf_free(&part);
}

static int contains(const char *hay, const char *const *needles)
{
	for (; *needles; needles++)
		if (strcasestr(hay, *needles))
			return 1;
	return 0;
}

/* Not a report: a plain-text bounce read by best effort, or an auto-reply. */
static void guess(struct span head, struct walk *w, struct dsn *out)
{
	static const char *const bounce_from[] = { "mailer-daemon", "postmaster",
		"mail delivery", NULL };
	static const char *const bounce_subject[] = { "undeliver", "delivery status notification",
		"delivery failure", "delivery failed", "failure notice", "returned mail",
		"returned to sender", "could not be delivered", "delivery has failed",
		"delivery problem", "non-delivery", "nondeliverable", NULL };
	static const char *const auto_subject[] = { "out of office", "automatic reply",
		"autoreply", "auto-reply", "auto reply", "vacation", "away from", NULL };
	char from[512], subject[512], v[256];
	int bounce, autoreply;
	const char *t = w->text.data ? w->text.data : "";
	size_t where = 0, a, b, n;

	if (field(head, "From", from, sizeof from) < 0)
		from[0] = '\0';
	if (field(head, "Subject", subject, sizeof subject) < 0)
		subject[0] = '\0';
	bounce = contains(from, bounce_from) || contains(subject, bounce_subject) ||
		 field(head, "X-Failed-Recipients", v, sizeof v) == 0;
	autoreply = (field(head, "Auto-Submitted", v, sizeof v) == 0 &&
		     strncasecmp(v, "no", 2) != 0) ||
		    field(head, "X-Autoreply", v, sizeof v) == 0 ||
		    field(head, "X-Autorespond", v, sizeof v) == 0 ||
		    (field(head, "Precedence", v, sizeof v) == 0 && strcasestr(v, "auto_reply")) ||
		    contains(subject, auto_subject);
	if (!bounce) {
		out->kind = autoreply ? DSN_AUTOREPLY : DSN_UNKNOWN;
		return;
	}
	out->guessed = 1;
	if (find_status(t, w->text.len, 0, out->status, sizeof out->status, &where) < 0) {
		/* no enhanced code: a basic reply code, 5xx or 4xx, at a word's start */
		for (where = 0; where + 3 < w->text.len; where++) {
			if ((t[where] == '5' || t[where] == '4') && (where == 0 || t[where - 1] == ' ' ||
								     t[where - 1] == '\n') &&
			    isdigit((unsigned char)t[where + 1]) && isdigit((unsigned char)t[where + 2]) &&
			    (t[where + 3] == ' ' || t[where + 3] == '-')) {
				snprintf(out->status, sizeof out->status, "%c.0.0", t[where]);
				break;
			}
		}
		if (!out->status[0])
			return;	/* a bounce, but nothing to say what failed */
	}
	out->kind = out->status[0] == '5' ? DSN_FAILED : DSN_DELAYED;
	/* the line it was found on */
	for (a = where; a > 0 && t[a - 1] != '\n'; a--)
		;
	for (b = where; b < w->text.len && t[b] != '\n'; b++)
		;
	n = 0;
	put_folded(out->diagnostic, sizeof out->diagnostic, &n, t + a, b - a);
	trim(out->diagnostic);
	if (field(head, "X-Failed-Recipients", v, sizeof v) == 0)
		snprintf(out->recipient, sizeof out->recipient, "%.*s", (int)strcspn(v, ", "), v);
}

void dsn_parse(const char *msg, size_t len, struct dsn *out)
{
	struct span m = { msg ? msg : "", msg ? len : 0 }, head, body;
	struct walk w;

	memset(out, 0, sizeof *out);
	memset(&w, 0, sizeof w);
	buf_init(&w.text, DSN_PART_MAX);
	split_head(m, &head, &body);
	walk(head, body, 0, &w);
	if (w.rank > 0)
		*out = w.best;
	else
		guess(head, &w, out);
	buf_free(&w.text);
}

int dsn_header(const char *msg, size_t len, const char *name, char *out, size_t outlen)
{
	struct span m = { msg ? msg : "", msg ? len : 0 }, head, body;

	split_head(m, &head, &body);
	return field(head, name, out, outlen);
}

const char *dsn_kind_name(enum dsn_kind k)
{
	switch (k) {
	case DSN_FAILED: return "FAILED";
	case DSN_DELAYED: return "DELAYED";
	case DSN_DELIVERED: return "DELIVERED";
	case DSN_AUTOREPLY: return "AUTOREPLY";
	default: return "UNKNOWN";
	}
}
