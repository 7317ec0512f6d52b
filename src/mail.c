/* See mail.h. */
#include "mail.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define QP_LINE_MAX 76

int mail_address_valid(const char *s)
{
	const char *at = strchr(s, '@'), *p;
	size_t len = strlen(s);
	int label = 0, dots = 0;

	if (at == NULL || strchr(at + 1, '@') || len > 254 || at == s || at - s > 64)
		return 0;
	for (p = s; p < at; p++) {
		/* RFC 5322 atext and dots; no quoted local parts */
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("!#$%&'*+-/=?^_`{|}~.", *p)))
			return 0;
	}
	if (s[0] == '.' || at[-1] == '.' || strstr(s, "..") != NULL)
		return 0;
	for (p = at + 1; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
			dots++;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
		if (label == 0 && *p == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return dots > 0 && label > 0 && p[-1] != '-';
}

/* Encodes one character; spaces and tabs only when they end the line. */
static size_t qp_char(unsigned char c, int ends_line, char *dst)
{
	static const char hex[] = "0123456789ABCDEF";

	if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !ends_line)) {
		dst[0] = (char)c;
		return 1;
	}
	dst[0] = '=';
	dst[1] = hex[c >> 4];
	dst[2] = hex[c & 15];
	return 3;
}

int mail_qp_encode(const char *in, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)in;

	while (*p) {
		const unsigned char *end = p + strcspn((const char *)p, "\r\n");
		size_t col = 0;

		/*
		 * A piece is a word with the blanks after it; soft breaks go
		 * between pieces, so a code or a short link is never split.
		 */
		while (p < end) {
			char enc[3 * 72];
			size_t elen = 0, off = 0;
			const unsigned char *w = p;

			while (w < end && *w != ' ' && *w != '\t' && elen < 3 * 70) {
				elen += qp_char(*w, w + 1 == end, enc + elen);
				w++;
			}
			while (w < end && (*w == ' ' || *w == '\t') && elen < 3 * 70) {
				elen += qp_char(*w, w + 1 == end, enc + elen);
				w++;
			}
			if (col > 0 && col + elen > QP_LINE_MAX - 1) {
				if (buf_puts(out, "=\r\n") < 0)
					return -1;
				col = 0;
			}
			/* Only a piece longer than a line is cut, never inside =XX. */
			while (elen - off > QP_LINE_MAX - 1 - col) {
				size_t take = QP_LINE_MAX - 1 - col;
				if (enc[off + take - 1] == '=')
					take -= 1;
				else if (enc[off + take - 2] == '=')
					take -= 2;
				if (buf_append(out, enc + off, take) < 0 || buf_puts(out, "=\r\n") < 0)
					return -1;
				off += take;
				col = 0;
			}
			if (buf_append(out, enc + off, elen - off) < 0)
				return -1;
			col += elen - off;
			p = w;
		}
		if (*p == '\r' || *p == '\n') {
			if (*p == '\r' && p[1] == '\n')
				p++;
			p++;
			if (buf_puts(out, "\r\n") < 0)
				return -1;
		}
	}
	return 0;
}

static int is_ascii_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/*
 * An RFC 2047 encoded-word sequence of UTF-8 text, each word at most 75
 * characters and cut only between characters, joined by folding.
 */
static int put_encoded_words(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int first = 1;

	while (*p) {
		unsigned char chunk[45];	/* 45 bytes = 60 base64 characters */
		char b64[sodium_base64_ENCODED_LEN(45, sodium_base64_VARIANT_ORIGINAL)];
		size_t n = 0, step;

		while (*p) {
			step = (*p & 0x80) == 0 ? 1 : (*p & 0xE0) == 0xC0 ? 2 :
			       (*p & 0xF0) == 0xE0 ? 3 : 4;
			/* s need not be UTF-8 (a config value, a brand): never step over its end */
			for (size_t k = 1; k < step; k++)
				if (p[k] == '\0')
					step = k;
			if (n + step > sizeof chunk)
				break;
			memcpy(chunk + n, p, step);
			n += step;
			p += step;
		}
		sodium_bin2base64(b64, sizeof b64, chunk, n, sodium_base64_VARIANT_ORIGINAL);
		if (buf_printf(out, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", b64) < 0)
			return -1;
		first = 0;
	}
	return 0;
}

/* A header whose value is plain when it is short printable ASCII. */
static int put_text_header(struct buf *out, const char *name, const char *value)
{
	if (buf_printf(out, "%s: ", name) < 0)
		return -1;
	if (is_ascii_printable(value) && strstr(value, "=?") == NULL && strlen(value) < 900) {
		if (buf_puts(out, value) < 0)
			return -1;
	} else if (put_encoded_words(out, value) < 0) {
		return -1;
	}
	return buf_puts(out, "\r\n");
}

static int put_from(struct buf *out, const char *name, const char *addr)
{
	if (name == NULL || *name == '\0')
		return buf_printf(out, "From: <%s>\r\n", addr);
	if (buf_puts(out, "From: ") < 0)
		return -1;
	/* a long name is encoded, which folds: the line stays under 998 octets */
	if (is_ascii_printable(name) && strpbrk(name, "\"\\") == NULL && strstr(name, "=?") == NULL &&
	    strlen(name) + strlen(addr) < 900) {
		if (buf_printf(out, "\"%s\"", name) < 0)
			return -1;
	} else if (put_encoded_words(out, name) < 0) {
		return -1;
	}
	return buf_printf(out, " <%s>\r\n", addr);
}

static int put_part(struct buf *out, const char *boundary, const char *type, const char *body)
{
	if (buf_printf(out, "--%s\r\nContent-Type: %s; charset=UTF-8\r\n"
			    "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
		       boundary, type) < 0 ||
	    mail_qp_encode(body, out) < 0)
		return -1;
	return buf_puts(out, "\r\n");
}

/* The logo as an inline part: base64 in lines of 76. */
static int put_logo(struct buf *out, const char *boundary, const struct mail_msg *m)
{
	const char *ext = strcmp(m->logo_type, "image/png") == 0 ? "png" : "svg";
	size_t len = strlen(m->logo_b64);

	if (buf_printf(out, "--%s\r\nContent-Type: %s; name=\"logo.%s\"\r\n"
			    "Content-Transfer-Encoding: base64\r\nContent-ID: <%s>\r\n"
			    "Content-Disposition: inline; filename=\"logo.%s\"\r\n\r\n",
		       boundary, m->logo_type, ext, MAIL_LOGO_CID, ext) < 0)
		return -1;
	for (size_t i = 0; i < len; i += 76)
		if (buf_append(out, m->logo_b64 + i, len - i < 76 ? len - i : 76) < 0 ||
		    buf_puts(out, "\r\n") < 0)
			return -1;
	return 0;
}

/* The HTML part, with the logo beside it in multipart/related when there is one. */
static int put_html(struct buf *out, const char *boundary, const struct mail_msg *m)
{
	char related[64];

	if (m->logo_b64 == NULL || *m->logo_b64 == '\0')
		return put_part(out, boundary, "text/html", m->html);
	/* not boundary + suffix: a line that starts with a boundary may end its part */
	snprintf(related, sizeof related, "=_related_%s", boundary + 2);
	if (buf_printf(out, "--%s\r\nContent-Type: multipart/related; type=\"text/html\"; "
			    "boundary=\"%s\"\r\n\r\n", boundary, related) < 0 ||
	    put_part(out, related, "text/html", m->html) < 0 || put_logo(out, related, m) < 0)
		return -1;
	return buf_printf(out, "--%s--\r\n", related);
}

int mail_compose(const struct mail_msg *m, struct buf *out)
{
	unsigned char rnd[16];
	char tag[33], boundary[48], date[64];
	const char *domain = strchr(m->from, '@');
	time_t now = time(NULL);
	struct tm tm;

	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(tag, sizeof tag, rnd, sizeof rnd);
	/* "=_" never occurs in quoted-printable text: no body can end a part. */
	snprintf(boundary, sizeof boundary, "=_mailproof_%s", tag);
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);

	if (put_from(out, m->from_name, m->from) < 0 ||
	    buf_printf(out, "To: <%s>\r\n", m->to) < 0 ||
	    put_text_header(out, "Subject", m->subject) < 0 ||
	    buf_printf(out, "Date: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
			    "Auto-Submitted: auto-generated\r\n"
			    "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
			    "This is a MIME message.\r\n",
		       date, tag, domain ? domain + 1 : "localhost", boundary) < 0 ||
	    put_part(out, boundary, "text/plain", m->text) < 0 ||
	    put_html(out, boundary, m) < 0)
		return -1;
	return buf_printf(out, "--%s--\r\n", boundary);
}
