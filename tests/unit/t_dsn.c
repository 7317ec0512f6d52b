/*
 * Unit tests of the bounce reader: the corpus of tests/data/bounces/
 * (Postfix, Exim, Sendmail, Microsoft 365, Gmail, qmail, a plain-text
 * bounce, an auto-reply, a reply) read to what expected.txt says, and
 * malformed input read without harm.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "buf.h"
#include "dsn.h"

static void corpus_path(char *out, size_t n, const char *file)
{
	const char *top = getenv("top_srcdir");

	snprintf(out, n, "%s/tests/data/bounces/%s", top ? top : ".", file);
}

START_TEST(the_corpus_reads_as_expected)
{
	char path[4096], line[256], file[128], kind[32], status[16];
	int guessed, n = 0;
	FILE *f;

	corpus_path(path, sizeof path, "expected.txt");
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	while (fgets(line, sizeof line, f)) {
		struct buf msg;
		struct dsn d;
		char err[256];
		if (line[0] == '#' || line[0] == '\n')
			continue;
		ck_assert_int_eq(sscanf(line, "%127s %31s %15s %d", file, kind, status, &guessed), 4);
		corpus_path(path, sizeof path, file);
		buf_init(&msg, 1 << 20);
		ck_assert_msg(buf_read_file(&msg, path, err, sizeof err) == 0, "%s", err);
		dsn_parse(msg.data, msg.len, &d);
		ck_assert_msg(strcmp(dsn_kind_name(d.kind), kind) == 0, "%s: %s, want %s", file,
			      dsn_kind_name(d.kind), kind);
		ck_assert_msg(strcmp(d.status, strcmp(status, "-") == 0 ? "" : status) == 0,
			      "%s: status %s, want %s", file, d.status, status);
		ck_assert_msg(d.guessed == guessed, "%s: guessed %d", file, d.guessed);
		if (d.kind == DSN_FAILED || d.kind == DSN_DELAYED)
			ck_assert_msg(d.diagnostic[0] != '\0', "%s: no diagnostic", file);
		for (const char *p = d.diagnostic; *p; p++)
			ck_assert_msg(*p >= 0x20 && *p < 0x7f, "%s: byte %d in the diagnostic", file, *p);
		buf_free(&msg);
		n++;
	}
	fclose(f);
	ck_assert_int_ge(n, 10);
}
END_TEST

START_TEST(a_base64_report_and_folded_fields_read)
{
	/* "Action: failed\r\nStatus: 5.2.2\r\n" in base64, inside a report */
	static const char msg[] =
		"From: MAILER-DAEMON@x\r\nContent-Type: multipart/report;\r\n"
		" report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\n"
		"Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		"UmVwb3J0aW5nLU1UQTogZG5zOyB4DQoNCkFjdGlvbjogZmFpbGVkDQpTdGF0dXM6IDUuMi4yDQo=\r\n"
		"--b--\r\n";
	struct dsn d;

	dsn_parse(msg, sizeof msg - 1, &d);
	ck_assert_str_eq(dsn_kind_name(d.kind), "FAILED");
	ck_assert_str_eq(d.status, "5.2.2");
	ck_assert_int_eq(d.guessed, 0);
}
END_TEST

START_TEST(malformed_input_is_read_without_harm)
{
	static const char *const inputs[] = {
		"", "\n", "\r\n\r\n", "Subject: x", "Content-Type: multipart/report; boundary=",
		"Content-Type: multipart/report; boundary=\"x\"\r\n\r\n--x\r\nno end",
		"Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; "
		"boundary=a\n\n--a\n--a--\n",
		"Content-Type: message/delivery-status\n\nAction: failed\nStatus: 5.",
		"Content-Type: message/delivery-status\n\nStatus: 9.9.9\n",
		"From: MAILER-DAEMON\nSubject: failure notice\n\n5",
		"From: postmaster\n\n550",
		"Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n=",
	};
	struct dsn d;

	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		dsn_parse(inputs[i], strlen(inputs[i]), &d);
		ck_assert_msg(d.kind == DSN_UNKNOWN || d.kind == DSN_FAILED,
			      "input %zu: %s", i, dsn_kind_name(d.kind));
	}
	dsn_parse(NULL, 0, &d);
	ck_assert_int_eq(d.kind, DSN_UNKNOWN);
	/* a status without an Action decides by its class; a bad one is none */
	dsn_parse(inputs[8], strlen(inputs[8]), &d);
	ck_assert_int_eq(d.kind, DSN_UNKNOWN);
}
END_TEST

START_TEST(headers_are_unfolded)
{
	static const char msg[] = "X-Original-To: bounces+ev_1.abc@\r\n example.com\r\n"
				  "Delivered-To: other@example.com\r\n\r\nbody";
	char out[128];

	ck_assert_int_eq(dsn_header(msg, sizeof msg - 1, "x-original-to", out, sizeof out), 0);
	ck_assert_str_eq(out, "bounces+ev_1.abc@ example.com");
	ck_assert_int_eq(dsn_header(msg, sizeof msg - 1, "Envelope-To", out, sizeof out), -1);
}
END_TEST

UNIT_MAIN("dsn", the_corpus_reads_as_expected, a_base64_report_and_folded_fields_read,
	  malformed_input_is_read_without_harm, headers_are_unfolded)
