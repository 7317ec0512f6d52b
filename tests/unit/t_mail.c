/* Unit tests of address validation, templates, quoted-printable and MIME. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "config.h"
#include "mail.h"
#include "mail_verification.h"

START_TEST(addresses)
{
	const char *good[] = { "a@example.com", "first.last+tag@sub.example.co.uk",
			       "x_y-z@a-b.example", "o'brien@example.ie", "1@2.io" };
	const char *bad[] = { "", "a", "a@b", "@example.com", "a@", "a@@b.com", "a b@example.com",
			      "a@exa mple.com", "a@example.com\r\nBcc: x@y.z", "\"q\"@example.com",
			      "<a@example.com>", "a@example.com,b@example.com", ".a@example.com",
			      "a.@example.com", "a..b@example.com", "a@-x.com", "a@x-.com",
			      "a@x..com", "a@.x.com", "a@x.com.", "\xc3\xa4@example.com",
			      "a@\xc3\xa4.com", "a\t@example.com" };
	char longlocal[80], longall[300];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(mail_address_valid(good[i]), "refused %s", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!mail_address_valid(bad[i]), "accepted %s", bad[i]);
	memset(longlocal, 'a', 65);
	memcpy(longlocal + 65, "@example.com", 13);
	ck_assert(!mail_address_valid(longlocal));
	longlocal[64] = '\0';
	memcpy(longlocal + 64, "@example.com", 13);
	ck_assert(mail_address_valid(longlocal));
	memset(longall, 'b', sizeof longall);
	memcpy(longall, "a@", 2);
	for (int i = 60; i < 250; i += 60)
		longall[i] = '.';
	memcpy(longall + 251, ".com", 5);
	ck_assert(!mail_address_valid(longall));	/* 255 octets */
}
END_TEST

/* Decodes quoted-printable (soft breaks, =XX) to check the round trip. */
static void qp_decode(const char *in, char *out)
{
	while (*in) {
		if (in[0] == '=' && in[1] == '\r' && in[2] == '\n') {
			in += 3;
		} else if (in[0] == '=') {
			char hex[3] = { in[1], in[2], 0 };
			*out++ = (char)strtol(hex, NULL, 16);
			in += 3;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
}

START_TEST(quoted_printable)
{
	struct buf out;
	char decoded[4096], text[2048];
	const char *line;

	buf_init(&out, 1 << 16);
	ck_assert_int_eq(mail_qp_encode("caf\xc3\xa9 = 100%\ntrailing \nend", &out), 0);
	ck_assert_str_eq(out.data, "caf=C3=A9 =3D 100%\r\ntrailing=20\r\nend");
	buf_reset(&out);
	/* a long line is broken at spaces, never inside the code */
	{
		size_t o = 0;
		for (int i = 0; i < 30; i++)
			o += (size_t)snprintf(text + o, sizeof text - o, "%s", i == 17 ? "739201 " : "word ");
	}
	ck_assert_int_eq(mail_qp_encode(text, &out), 0);
	for (line = out.data; *line;) {
		size_t n = strcspn(line, "\r");
		ck_assert_uint_le(n, 76);
		line += n + (line[n] ? 2 : 0);
	}
	ck_assert_ptr_nonnull(strstr(out.data, "739201"));
	qp_decode(out.data, decoded);
	ck_assert_str_eq(decoded, text);
	/* a word longer than a line is split, but never inside an escape */
	buf_reset(&out);
	memset(text, 0, sizeof text);
	for (int i = 0; i < 100; i++)
		memcpy(text + 2 * i, "\xc3\xa9", 2);
	ck_assert_int_eq(mail_qp_encode(text, &out), 0);
	for (line = out.data; *line;) {
		size_t n = strcspn(line, "\r");
		ck_assert_uint_le(n, 76);
		line += n + (line[n] ? 2 : 0);
	}
	qp_decode(out.data, decoded);
	ck_assert_str_eq(decoded, text);
	buf_free(&out);
}
END_TEST

START_TEST(compose_headers_and_parts)
{
	struct mail_msg m = { "noreply@shop.example", "Caf\xc3\xa9 \"Team\"", "a@example.com",
			      "Best\xc3\xa4tigen", "code 123456\n", "<p>123456</p>", NULL, NULL };
	struct buf out;
	const char *b;
	char boundary[80];

	buf_init(&out, 1 << 16);
	ck_assert_int_eq(mail_compose(&m, &out), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "From: =?UTF-8?B?"));
	ck_assert_ptr_nonnull(strstr(out.data, " <noreply@shop.example>\r\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "\r\nTo: <a@example.com>\r\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "\r\nSubject: =?UTF-8?B?QmVzdMOkdGlnZW4=?=\r\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "\r\nAuto-Submitted: auto-generated\r\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "\r\nMIME-Version: 1.0\r\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "@shop.example>\r\n"));
	b = strstr(out.data, "boundary=\"");
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(sscanf(b, "boundary=\"%79[^\"]\"", boundary), 1);
	ck_assert_int_eq(strncmp(boundary, "=_", 2), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "text/plain; charset=UTF-8"));
	ck_assert_ptr_nonnull(strstr(out.data, "text/html; charset=UTF-8"));
	ck_assert_ptr_nonnull(strstr(out.data + strlen(out.data) - strlen(boundary) - 6, "--\r\n"));
	for (const char *p = out.data; (p = strchr(p, '\n')) != NULL; p++)
		ck_assert_msg(p > out.data && p[-1] == '\r', "bare LF");
	buf_free(&out);
}
END_TEST

START_TEST(ascii_from_name_is_quoted)
{
	struct mail_msg m = { "n@x.example", "Shop Team", "a@example.com", "Hello", "t", "h", NULL, NULL };
	struct buf out;

	buf_init(&out, 1 << 16);
	ck_assert_int_eq(mail_compose(&m, &out), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "From: \"Shop Team\" <n@x.example>\r\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "Subject: Hello\r\n"));
	buf_free(&out);
}
END_TEST

START_TEST(logo_is_an_inline_part_beside_the_html)
{
	struct mail_msg m = { "n@x.example", NULL, "a@example.com", "Hi", "t", "<img src=\"cid:"
			      MAIL_LOGO_CID "\">", "image/png", "iVBORw0KGgo=" };
	struct buf out;
	const char *rel, *png;

	buf_init(&out, 1 << 16);
	ck_assert_int_eq(mail_compose(&m, &out), 0);
	rel = strstr(out.data, "Content-Type: multipart/related; type=\"text/html\"; boundary=\"=_related_");
	ck_assert_ptr_nonnull(rel);
	png = strstr(rel, "Content-Type: image/png; name=\"logo.png\"\r\n"
			  "Content-Transfer-Encoding: base64\r\nContent-ID: <" MAIL_LOGO_CID ">\r\n"
			  "Content-Disposition: inline; filename=\"logo.png\"\r\n\r\niVBORw0KGgo=\r\n");
	ck_assert_ptr_nonnull(png);
	ck_assert_ptr_nonnull(strstr(rel, "text/html; charset=UTF-8"));
	ck_assert_ptr_null(strstr(out.data, "data:"));
	buf_free(&out);
}
END_TEST

/*
 * Found by tests/fuzz/fuzz_mime.c: a header value that ends inside a UTF-8
 * sequence (a config value or a brand need not be UTF-8) made the encoder
 * copy the NUL and read past the end of the string.
 */
START_TEST(truncated_utf8_is_encoded_without_reading_past_it)
{
	char *name = strdup("Caf\xc3"), *subject = strdup("ab\xe2");
	struct mail_msg m = { "n@x.example", name, "a@example.com", subject, "t", "h", NULL, NULL };
	struct buf out;

	buf_init(&out, 1 << 16);
	ck_assert_int_eq(mail_compose(&m, &out), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "From: =?UTF-8?B?Q2Fmww==?= <n@x.example>\r\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "\r\nSubject: =?UTF-8?B?YWLi?=\r\n"));
	buf_free(&out);
	free(name);
	free(subject);
}
END_TEST

/* Found by tests/fuzz/fuzz_mime.c: a long ASCII display name made a From line over 998 octets. */
START_TEST(a_long_from_name_is_folded)
{
	char name[1200];
	struct mail_msg m = { "n@x.example", name, "a@example.com", "Hi", "t", "h", NULL, NULL };
	struct buf out;

	memset(name, 'x', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	buf_init(&out, 1 << 16);
	ck_assert_int_eq(mail_compose(&m, &out), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "From: =?UTF-8?B?"));
	for (const char *p = out.data; *p;) {
		size_t n = strcspn(p, "\r");
		ck_assert_uint_le(n, 998);
		p += n + (p[n] ? 2 : 0);
	}
	buf_free(&out);
}
END_TEST

/*
 * Found by tests/fuzz/fuzz_mime.c: a part rendered from an empty template
 * (an empty message of a catalogue, an empty file of template_dir; here a
 * tenant's) has no data, and the builder was handed NULL for it.
 */
START_TEST(a_part_that_renders_empty_is_an_empty_part)
{
	const struct template_custom mine[] = {
		{ "otp.subject", "", "" },
		{ "otp.txt", "", "" },
	};
	const struct mail_brand brand = { "Shop", "", "", "", "", "t_1", 1, mine, 2 };
	const struct mail_verification vm = { "ev_0123456789ABCDEFGHJKMNPQRS", "a@example.com",
					      "123456", NULL, NULL, NULL, 900, "en", &brand };
	const char *top = getenv("top_srcdir");
	char dir[4096];
	struct config cfg;
	struct buf out;

	snprintf(dir, sizeof dir, "%s/templates", top ? top : ".");
	memset(&cfg, 0, sizeof cfg);
	cfg.template_dir = dir;
	cfg.mail_from = "n@x.example";
	cfg.mail_from_name = "Shop";
	cfg.public_base_url = "https://v.example";
	buf_init(&out, MAIL_MAX_BYTES);
	ck_assert_int_eq(mail_verification_compose(&cfg, NULL, &vm, &out), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "\r\nSubject: \r\n"));
	/* nothing but the line every mail carries, which is added to it */
	ck_assert_ptr_nonnull(strstr(out.data, "text/plain; charset=UTF-8\r\n"
				     "Content-Transfer-Encoding: quoted-printable\r\n\r\n\r\n"
				     "Didn't ask for this? Tell us.\r\nhttps://v.example/v1/report/"));
	buf_free(&out);
}
END_TEST

UNIT_MAIN("mail",
	  addresses,
	  quoted_printable,
	  compose_headers_and_parts,
	  ascii_from_name_is_quoted,
	  logo_is_an_inline_part_beside_the_html,
	  truncated_utf8_is_encoded_without_reading_past_it,
	  a_part_that_renders_empty_is_an_empty_part,
	  a_long_from_name_is_folded)
