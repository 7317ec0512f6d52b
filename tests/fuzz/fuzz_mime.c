/*
 * Fuzz target: the MIME builder, with its output parsed back.  The first
 * byte picks the mode and its options:
 *
 *   bit 0 clear: mail_compose() itself, from fields cut at NUL bytes
 *     (display name, subject, text, HTML, logo bytes, To, From); the
 *     parsed message must give back exactly what went in.
 *   bit 0 set: mail_verification_compose(), the mail of a verification,
 *     from the source tree's templates and catalogues, with fuzzed code,
 *     link, subject, verification line, brand and up to three templates of
 *     the tenant's own; the message must be well formed.
 *
 * Well formed (check_message()): CRLF lines only and no bare CR or LF,
 * 7-bit text, lines of at most 998 octets; exactly the eight headers we
 * write, each once; a multipart/alternative body whose boundary delimits
 * exactly its parts (no body line can start with it), closed once, at
 * the end; quoted-printable parts valid with lines of at most 76; the
 * logo, when there is one, in a multipart/related beside the HTML.
 */
#include "fuzz.h"

#include "mail.h"
#include "mail_verification.h"

static struct config g_cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init(1);
	fuzz_config(&g_cfg);
	return 0;
}

/* What the message must say, when the caller knows (NULL members: unchecked). */
struct expect {
	const char *from, *from_name, *to, *subject, *text, *html;
	int logo_shown;			/* 1 yes, 0 no, -1 unchecked */
	const char *logo_type;
	const unsigned char *logo;	/* its bytes, when checked */
	size_t logo_len;
};

struct line {
	const char *p;
	size_t n;
};

struct msg {
	const char *data;
	size_t len;
	struct line *lines;
	size_t nlines;
	const struct expect *want;
};

#define FAIL_UNLESS(m, cond) FUZZ_ASSERT(cond, (m)->data, (m)->len)

static int line_is(const struct line *l, const char *s)
{
	return l->n == strlen(s) && memcmp(l->p, s, l->n) == 0;
}

static int line_starts(const struct line *l, const char *s)
{
	size_t n = strlen(s);

	return l->n >= n && memcmp(l->p, s, n) == 0;
}

/* Text with each CRLF, lone CR and lone LF made CRLF, as quoted-printable carries it. */
static void normalize(const char *in, struct buf *out)
{
	for (; *in; in++) {
		if (*in == '\r' || *in == '\n') {
			if (*in == '\r' && in[1] == '\n')
				in++;
			FUZZ_ASSERT(buf_puts(out, "\r\n") == 0, NULL, 0);
		} else {
			FUZZ_ASSERT(buf_append(out, in, 1) == 0, NULL, 0);
		}
	}
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Checks and decodes the quoted-printable body lines[a..b) into out. */
static void qp_decode(const struct msg *m, size_t a, size_t b, struct buf *out)
{
	for (size_t i = a; i < b; i++) {
		const struct line *l = &m->lines[i];
		int soft = l->n > 0 && l->p[l->n - 1] == '=';
		size_t n = soft ? l->n - 1 : l->n;

		FAIL_UNLESS(m, l->n <= 76);
		/* blanks that end a line are encoded, or they would be lost */
		FAIL_UNLESS(m, soft || l->n == 0 || (l->p[l->n - 1] != ' ' && l->p[l->n - 1] != '\t'));
		for (size_t j = 0; j < n; j++) {
			char c = l->p[j];
			if (c == '=') {
				FAIL_UNLESS(m, j + 2 < n && hexval(l->p[j + 1]) >= 0 &&
					       hexval(l->p[j + 2]) >= 0);
				c = (char)(hexval(l->p[j + 1]) * 16 + hexval(l->p[j + 2]));
				j += 2;
			}
			FAIL_UNLESS(m, buf_append(out, &c, 1) == 0);
		}
		if (!soft && i + 1 < b)
			FAIL_UNLESS(m, buf_puts(out, "\r\n") == 0);
	}
}

/* Decodes a header value of RFC 2047 words ("=?UTF-8?B?...?=" joined by folding). */
static void words_decode(const struct msg *m, const char *v, size_t n, struct buf *out)
{
	const char *p = v, *end = v + n;

	while (p < end) {
		const char *q;
		unsigned char bin[64];
		size_t blen;

		FAIL_UNLESS(m, (size_t)(end - p) > 12 && memcmp(p, "=?UTF-8?B?", 10) == 0);
		p += 10;
		for (q = p; q + 1 < end && !(q[0] == '?' && q[1] == '='); q++)
			;
		FAIL_UNLESS(m, q + 1 < end && q - p <= 60);
		FAIL_UNLESS(m, sodium_base642bin(bin, sizeof bin, p, (size_t)(q - p), NULL, &blen, NULL,
						 sodium_base64_VARIANT_ORIGINAL) == 0);
		FAIL_UNLESS(m, buf_append(out, bin, blen) == 0);
		p = q + 2;
		if (p < end) {	/* the fold between two words */
			FAIL_UNLESS(m, end - p > 3 && memcmp(p, "\r\n ", 3) == 0);
			p += 3;
		}
	}
}

/* A header value as the caller wrote it: plain, or encoded words. */
static void text_decode(const struct msg *m, const char *v, size_t n, struct buf *out)
{
	if (n >= 2 && memmem(v, n, "=?", 2) != NULL) {
		words_decode(m, v, n, out);
	} else {
		FAIL_UNLESS(m, memchr(v, '\r', n) == NULL);
		FAIL_UNLESS(m, buf_append(out, v, n) == 0);
	}
}

static void expect_text(const struct msg *m, const struct buf *got, const char *want)
{
	FAIL_UNLESS(m, got->len == strlen(want) && memcmp(got->data ? got->data : "", want,
							   got->len) == 0);
}

/* The From value: "<addr>", "\"name\" <addr>" or encoded words then " <addr>". */
static void check_from(const struct msg *m, const char *v, size_t n)
{
	const struct expect *w = m->want;
	const char *lt = NULL;
	struct buf name;

	for (const char *p = v; p < v + n; p++)
		if (*p == '<')
			lt = p;
	FAIL_UNLESS(m, lt != NULL && v[n - 1] == '>');
	if (w && w->from)
		FAIL_UNLESS(m, (size_t)(v + n - 1 - lt - 1) == strlen(w->from) &&
			       memcmp(lt + 1, w->from, strlen(w->from)) == 0);
	buf_init(&name, 4096);
	if (lt > v) {
		FAIL_UNLESS(m, lt[-1] == ' ');
		if (v[0] == '"') {
			FAIL_UNLESS(m, lt - v >= 3 && lt[-2] == '"');
			FAIL_UNLESS(m, buf_append(&name, v + 1, (size_t)(lt - v - 3)) == 0);
			FAIL_UNLESS(m, memchr(name.data ? name.data : "", '"', name.len) == NULL);
		} else {
			words_decode(m, v, (size_t)(lt - v - 1), &name);
		}
	}
	if (w && w->from_name)
		expect_text(m, &name, w->from_name);
	buf_free(&name);
}

/*
 * The headers of the part lines[a..b): fills ctype and cte (a line each)
 * and returns the index of its first body line.
 */
static size_t part_headers(const struct msg *m, size_t a, size_t b, struct line *ctype,
			   struct line *cte)
{
	size_t i;

	memset(ctype, 0, sizeof *ctype);
	memset(cte, 0, sizeof *cte);
	for (i = a; i < b && m->lines[i].n; i++) {
		const struct line *l = &m->lines[i];
		if (line_starts(l, "Content-Type: ")) {
			FAIL_UNLESS(m, ctype->p == NULL);
			ctype->p = l->p + 14;
			ctype->n = l->n - 14;
		} else if (line_starts(l, "Content-Transfer-Encoding: ")) {
			FAIL_UNLESS(m, cte->p == NULL);
			cte->p = l->p + 27;
			cte->n = l->n - 27;
		} else {
			FAIL_UNLESS(m, line_is(l, "Content-ID: <" MAIL_LOGO_CID ">") ||
				       line_is(l, "Content-Disposition: inline; filename=\"logo.png\"") ||
				       line_is(l, "Content-Disposition: inline; filename=\"logo.svg\""));
		}
	}
	FAIL_UNLESS(m, i < b && ctype->p && cte->p);
	return i + 1;
}

/*
 * The delimiters of boundary in lines[a..b): every line that starts with
 * "--boundary" is one, the close comes once, last, on line b - 1.  Fills
 * at[] with the opening delimiters; returns how many.
 */
static size_t delimiters(const struct msg *m, size_t a, size_t b, const char *boundary,
			 size_t *at, size_t max)
{
	char open[80], close[80];
	size_t n = 0;

	snprintf(open, sizeof open, "--%s", boundary);
	snprintf(close, sizeof close, "--%s--", boundary);
	FAIL_UNLESS(m, b > a && line_is(&m->lines[b - 1], close));
	for (size_t i = a; i + 1 < b; i++) {
		if (!line_starts(&m->lines[i], open))
			continue;
		FAIL_UNLESS(m, line_is(&m->lines[i], open) && n < max);
		at[n++] = i;
	}
	return n;
}

/* A quoted-printable text part of lines[a..b) of type (text/plain or text/html). */
static void qp_part(const struct msg *m, size_t a, size_t b, const char *type, const char *want)
{
	struct line ct, cte;
	size_t body = part_headers(m, a, b, &ct, &cte);
	char full[64];
	struct buf got, norm;

	snprintf(full, sizeof full, "%s; charset=UTF-8", type);
	FAIL_UNLESS(m, line_is(&ct, full) && line_is(&cte, "quoted-printable"));
	buf_init(&got, 4 * MAIL_MAX_BYTES);
	qp_decode(m, body, b, &got);
	if (want) {
		buf_init(&norm, 4 * MAIL_MAX_BYTES);
		normalize(want, &norm);
		expect_text(m, &got, norm.data ? norm.data : "");
		buf_free(&norm);
	}
	buf_free(&got);
}

static void logo_part(const struct msg *m, size_t a, size_t b)
{
	const struct expect *w = m->want;
	struct line ct, cte;
	size_t body = part_headers(m, a, b, &ct, &cte);
	struct buf b64;
	unsigned char *bin;
	size_t blen;

	FAIL_UNLESS(m, line_is(&ct, "image/png; name=\"logo.png\"") ||
		       line_is(&ct, "image/svg+xml; name=\"logo.svg\""));
	if (w && w->logo_type)
		FAIL_UNLESS(m, line_starts(&ct, w->logo_type));
	FAIL_UNLESS(m, line_is(&cte, "base64"));
	buf_init(&b64, 2 * MAIL_MAX_BYTES);
	for (size_t i = body; i < b; i++) {
		FAIL_UNLESS(m, m->lines[i].n <= 76);
		FAIL_UNLESS(m, buf_append(&b64, m->lines[i].p, m->lines[i].n) == 0);
	}
	if (w && w->logo) {
		bin = malloc(b64.len + 1);
		FAIL_UNLESS(m, bin != NULL);
		FAIL_UNLESS(m, sodium_base642bin(bin, b64.len + 1, b64.data ? b64.data : "", b64.len,
						 NULL, &blen, NULL, sodium_base64_VARIANT_ORIGINAL) == 0);
		FAIL_UNLESS(m, blen == w->logo_len && memcmp(bin, w->logo, blen) == 0);
		free(bin);
	}
	buf_free(&b64);
}

/* The HTML alternative: a text/html part, or multipart/related with the logo. */
static void html_part(const struct msg *m, size_t a, size_t b, const char *outer)
{
	const struct expect *w = m->want;
	char want_ct[160], related[80];
	size_t body, at[4];

	if (!line_starts(&m->lines[a], "Content-Type: multipart/related")) {
		FAIL_UNLESS(m, w == NULL || w->logo_shown <= 0);
		qp_part(m, a, b, "text/html", w ? w->html : NULL);
		return;
	}
	FAIL_UNLESS(m, w == NULL || w->logo_shown != 0);
	snprintf(related, sizeof related, "=_related_%s", outer + 2);
	snprintf(want_ct, sizeof want_ct,
		 "Content-Type: multipart/related; type=\"text/html\"; boundary=\"%s\"", related);
	FAIL_UNLESS(m, line_is(&m->lines[a], want_ct) && a + 1 < b && m->lines[a + 1].n == 0);
	body = a + 2;
	FAIL_UNLESS(m, delimiters(m, body, b, related, at, 4) == 2);
	qp_part(m, at[0] + 1, at[1], "text/html", w ? w->html : NULL);
	logo_part(m, at[1] + 1, b - 1);
}

static void check_message(struct msg *m)
{
	static const char *const names[] = { "From", "To", "Subject", "Date", "Message-ID",
					     "MIME-Version", "Auto-Submitted", "Content-Type" };
	const struct expect *w = m->want;
	struct line fields[8] = { { NULL, 0 } };
	size_t i, body, at[4], cap = 64;
	char boundary[64];
	const char *p = m->data, *end = m->data + m->len;

	/* CRLF lines of 7-bit text, nothing else */
	FAIL_UNLESS(m, m->len >= 2 && end[-2] == '\r' && end[-1] == '\n');
	for (i = 0; i < m->len; i++) {
		unsigned char c = (unsigned char)m->data[i];
		if (c == '\r')
			FAIL_UNLESS(m, i + 1 < m->len && m->data[i + 1] == '\n');
		else if (c == '\n')
			FAIL_UNLESS(m, i > 0 && m->data[i - 1] == '\r');
		else
			FAIL_UNLESS(m, c == '\t' || (c >= 0x20 && c < 0x7f));
	}
	m->lines = malloc(cap * sizeof *m->lines);
	m->nlines = 0;
	while (p < end) {
		const char *eol = memchr(p, '\r', (size_t)(end - p));
		if (m->nlines == cap) {
			cap *= 2;
			m->lines = realloc(m->lines, cap * sizeof *m->lines);
		}
		FAIL_UNLESS(m, m->lines != NULL && eol != NULL && eol - p <= 998);
		m->lines[m->nlines].p = p;
		m->lines[m->nlines++].n = (size_t)(eol - p);
		p = eol + 2;
	}

	/* the header: our eight fields, once each, folded only where we fold */
	for (i = 0; i < m->nlines && m->lines[i].n; i++) {
		const struct line *l = &m->lines[i];
		size_t k, start = i;
		for (k = 0; k < 8; k++)
			if (line_starts(l, names[k]) && l->n > strlen(names[k]) + 1 &&
			    l->p[strlen(names[k])] == ':' && l->p[strlen(names[k]) + 1] == ' ')
				break;
		FAIL_UNLESS(m, k < 8 && fields[k].p == NULL);
		while (i + 1 < m->nlines && m->lines[i + 1].n && m->lines[i + 1].p[0] == ' ')
			i++;
		FAIL_UNLESS(m, i == start || k == 0 || k == 2);	/* only From and Subject fold */
		fields[k].p = l->p + strlen(names[k]) + 2;
		fields[k].n = (size_t)(m->lines[i].p + m->lines[i].n - fields[k].p);
	}
	FAIL_UNLESS(m, i < m->nlines);
	body = i + 1;
	for (size_t k = 0; k < 8; k++)
		FAIL_UNLESS(m, fields[k].p != NULL);
	check_from(m, fields[0].p, fields[0].n);
	FAIL_UNLESS(m, fields[1].n >= 2 && fields[1].p[0] == '<' && fields[1].p[fields[1].n - 1] == '>');
	if (w && w->to)
		FAIL_UNLESS(m, fields[1].n == strlen(w->to) + 2 &&
			       memcmp(fields[1].p + 1, w->to, strlen(w->to)) == 0);
	{
		struct buf subject;
		buf_init(&subject, 4 * MAIL_MAX_BYTES);
		text_decode(m, fields[2].p, fields[2].n, &subject);
		if (w && w->subject)
			expect_text(m, &subject, w->subject);
		buf_free(&subject);
	}
	FAIL_UNLESS(m, line_is(&fields[5], "1.0"));
	FAIL_UNLESS(m, line_is(&fields[6], "auto-generated"));
	{
		static const char ct[] = "multipart/alternative; boundary=\"";
		const size_t ctlen = sizeof ct - 1, blen = strlen("=_mailproof_") + 32;
		FAIL_UNLESS(m, fields[7].n == ctlen + blen + 1 && memcmp(fields[7].p, ct, ctlen) == 0 &&
			       memcmp(fields[7].p + ctlen, "=_mailproof_", 12) == 0 &&
			       fields[7].p[fields[7].n - 1] == '"');
		snprintf(boundary, sizeof boundary, "%.*s", (int)blen, fields[7].p + ctlen);
	}
	for (const char *c = boundary + 12; *c; c++)
		FAIL_UNLESS(m, (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'));

	/* the body: a preamble, the plain part, the HTML alternative, the close */
	FAIL_UNLESS(m, delimiters(m, body, m->nlines, boundary, at, 4) == 2);
	qp_part(m, at[0] + 1, at[1], "text/plain", w ? w->text : NULL);
	html_part(m, at[1] + 1, m->nlines - 1, boundary);
	free(m->lines);
	m->lines = NULL;
}

static const char *valid_or(const char *addr, const char *fallback)
{
	return mail_address_valid(addr) ? addr : fallback;
}

/* bin as one line of base64 into out (caller frees). */
static char *base64(const char *bin, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = malloc(len);

	FUZZ_ASSERT(b64 != NULL, NULL, 0);
	sodium_bin2base64(b64, len, (const unsigned char *)bin, n, sodium_base64_VARIANT_ORIGINAL);
	return b64;
}

static void compose(const uint8_t *data, size_t size)
{
	struct fuzz_fields ff;
	struct mail_msg mm;
	struct expect want;
	struct msg m;
	struct buf out;
	char *logo = NULL;
	int flags = data[0];

	fuzz_split(&ff, data + 1, size - 1, '\0', 7);
	memset(&want, 0, sizeof want);
	mm.from_name = want.from_name = ff.f[0];
	mm.subject = want.subject = ff.f[1];
	mm.text = want.text = ff.f[2];
	mm.html = want.html = ff.f[3];
	mm.to = want.to = valid_or(ff.f[5], "user@example.com");
	mm.from = want.from = valid_or(ff.f[6], "noreply@example.com");
	mm.logo_type = NULL;
	mm.logo_b64 = NULL;
	want.logo_shown = 0;
	if (flags & 2) {
		logo = base64(ff.f[4], strlen(ff.f[4]));
		mm.logo_type = want.logo_type = flags & 4 ? "image/png" : "image/svg+xml";
		mm.logo_b64 = logo;
		if (*logo) {
			want.logo_shown = 1;
			want.logo = (const unsigned char *)ff.f[4];
			want.logo_len = strlen(ff.f[4]);
		}
	}
	buf_init(&out, MAIL_MAX_BYTES);
	if (mail_compose(&mm, &out) == 0) {
		m.data = out.data;
		m.len = out.len;
		m.want = &want;
		check_message(&m);
	}
	buf_free(&out);
	free(logo);
	fuzz_fields_free(&ff);
}

static void compose_verification(const uint8_t *data, size_t size)
{
	static const char *const locales[] = { "", "en", "de", "ar", "ja", "pt-BR", "zh-Hans", "ru" };
	static const char *const names[] = { "otp.txt", "otp.html", "otp.subject",
					     "link.txt", "link.html", "link.subject" };
	struct fuzz_fields ff;
	struct template_custom custom[3];
	struct mail_brand brand;
	struct mail_verification vm;
	struct expect want;
	struct msg m;
	struct buf out;
	char *logo = NULL;
	int flags = data[0], ncustom = 0;

	if (size < 2)
		return;
	fuzz_split(&ff, data + 2, size - 2, '\0', 11);
	for (size_t i = 8; i < 11; i++) {
		/* a tenant's template: its first byte names it, the rest is its body */
		unsigned char c = (unsigned char)ff.f[i][0];
		if (c == 0)
			continue;
		custom[ncustom].name = names[c % 6];
		custom[ncustom].locale = c & 0x40 ? "de" : "";
		custom[ncustom++].body = ff.f[i] + 1;
	}
	memset(&brand, 0, sizeof brand);
	brand.name = ff.f[4];
	brand.support = ff.f[5];
	brand.accent = ff.f[6];
	brand.logo_type = flags & 8 ? "image/png" : "image/svg+xml";
	brand.logo_b64 = "";
	if (flags & 4)
		brand.logo_b64 = logo = base64(ff.f[7], strlen(ff.f[7]));
	brand.tenant_id = "t_fuzz";
	brand.custom = ncustom > 0;
	brand.templates = custom;
	brand.ntemplates = (size_t)ncustom;

	memset(&vm, 0, sizeof vm);
	vm.id = "ev_0123456789ABCDEFGHJKMNPQRS";
	vm.email = "user@example.com";
	if (flags & 2)
		vm.link = ff.f[1];
	else
		vm.code = ff.f[0];
	vm.subject = flags & 0x80 ? ff.f[2] : NULL;
	vm.verification_line = *ff.f[3] ? ff.f[3] : NULL;
	vm.ttl_seconds = 60 + (int)(data[1] * 10177u % (2592000 - 59));
	vm.locale = locales[(flags >> 4) & 7];
	vm.brand = &brand;

	memset(&want, 0, sizeof want);
	want.to = vm.email;
	want.subject = vm.subject;
	want.logo_shown = *brand.logo_b64 != '\0';
	want.logo_type = brand.logo_type;
	buf_init(&out, MAIL_MAX_BYTES);
	if (mail_verification_compose(&g_cfg, NULL, &vm, &out) == 0) {
		m.data = out.data;
		m.len = out.len;
		m.want = &want;
		check_message(&m);
	}
	buf_free(&out);
	free(logo);
	fuzz_fields_free(&ff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		compose_verification(data, size);
	else
		compose(data, size);
	return 0;
}
