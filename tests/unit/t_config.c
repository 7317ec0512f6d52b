/* Unit tests of the config table, file parser and environment overrides. */
#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"

#define SECRET "secret_key = 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"

static char g_path[64];

static const char *write_conf(const char *text)
{
	FILE *f;

	snprintf(g_path, sizeof g_path, "/tmp/t_config.%ld.conf", (long)getpid());
	f = fopen(g_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return g_path;
}

static int load(const char *text, struct config *c, char *err)
{
	int rc = config_load(write_conf(text), c, err, 512);
	unlink(g_path);
	return rc;
}

START_TEST(defaults_and_values)
{
	struct config c;
	char err[512];

	ck_assert_int_eq(load("# comment\n\n" SECRET "smtp_port = 2525\n"
			      "mail_from_name = \"Shop  Team\"\nlink_confirm_page = off\n", &c, err), 0);
	ck_assert_int_eq(c.smtp_port, 2525);
	ck_assert_str_eq(c.mail_from_name, "Shop  Team");
	ck_assert_int_eq(c.link_confirm_page, 0);
	ck_assert_int_eq(c.max_body_bytes, 16384);
	ck_assert_int_eq(c.rate_per_email_per_hour, 5);
	ck_assert_int_eq(c.rate_per_key_per_minute, 600);
	ck_assert_int_eq(c.rate_per_ip_per_minute, 60);
	ck_assert_int_eq(c.failed_attempts_per_email_per_day, 10);
	ck_assert_int_eq(c.retention_days, 30);
	ck_assert_int_eq(c.sweep_interval_seconds, 60);
	ck_assert_int_eq(c.mail_delivery, MAIL_SYNC);
	ck_assert_str_eq(c.mount_prefix, "");
	ck_assert_int_eq(c.secret_key[31], 0x1f);
	ck_assert_int_eq(c.have_secret_key_previous, 0);
	config_free(&c);
}
END_TEST

START_TEST(errors_name_file_line_and_key)
{
	struct config c;
	char err[512];

	ck_assert_int_eq(load(SECRET "\nbogus = 1\n", &c, err), -1);
	ck_assert_ptr_nonnull(strstr(err, ":3: unknown key 'bogus'"));
	ck_assert_ptr_nonnull(strstr(err, g_path));
	ck_assert_int_eq(load(SECRET "smtp_port = 70000\n", &c, err), -1);
	ck_assert_ptr_nonnull(strstr(err, ":2: key 'smtp_port' must be an integer from 1 to 65535"));
	ck_assert_int_eq(load(SECRET "smtp_port = 25x\n", &c, err), -1);
	ck_assert_int_eq(load(SECRET "smtp_starttls = sometimes\n", &c, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "no, try, required"));
	ck_assert_int_eq(load(SECRET "link_confirm_page = perhaps\n", &c, err), -1);
	ck_assert_int_eq(load(SECRET "just words\n", &c, err), -1);
	ck_assert_ptr_nonnull(strstr(err, ":2: expected 'key = value'"));
	ck_assert_int_eq(load(SECRET "public_base_url = ftp://x\n", &c, err), -1);
	ck_assert_int_eq(load(SECRET "public_base_url = https://x.example/\n", &c, err), -1);
	ck_assert_int_eq(load(SECRET "mount_prefix = verify\n", &c, err), -1);
	ck_assert_int_eq(load(SECRET "mount_prefix = /verify/\n", &c, err), -1);
	ck_assert_int_eq(load(SECRET "smtp_port = 25\nsmtp_port = 26\n", &c, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "already set on line 2"));
}
END_TEST

START_TEST(secret_key_is_required_and_checked)
{
	struct config c;
	char err[512];

	ck_assert_int_eq(load("smtp_port = 25\n", &c, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "'secret_key' is required"));
	ck_assert_int_eq(load("secret_key = abcd\n", &c, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "64 hexadecimal"));
	ck_assert_int_eq(load("secret_key = 00000000000000000000000000000000000000000000000000000000000000zz\n",
			      &c, err), -1);
	ck_assert_int_eq(load(SECRET "secret_key_previous = " "ff" "00000000000000000000000000000000"
			      "000000000000000000000000000000\n", &c, err), 0);
	ck_assert_int_eq(c.have_secret_key_previous, 1);
	ck_assert_int_eq(c.secret_key_previous[0], 0xff);
	config_free(&c);
}
END_TEST

START_TEST(environment_overrides_file)
{
	struct config c;
	char err[512];

	setenv("MAILPROOF_SMTP_PORT", "587", 1);
	ck_assert_int_eq(load(SECRET "smtp_port = 25\n", &c, err), 0);
	ck_assert_int_eq(c.smtp_port, 587);
	config_free(&c);
	setenv("MAILPROOF_SMTP_PORT", "zero", 1);
	ck_assert_int_eq(load(SECRET, &c, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "MAILPROOF_SMTP_PORT"));
	unsetenv("MAILPROOF_SMTP_PORT");
	setenv("MAILPROOF_SMTP_PROT", "25", 1);
	ck_assert_int_eq(load(SECRET, &c, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown variable MAILPROOF_SMTP_PROT"));
	unsetenv("MAILPROOF_SMTP_PROT");
	ck_assert_int_eq(config_load(NULL, &c, err, sizeof err), -1);
	setenv("MAILPROOF_SECRET_KEY", "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", 1);
	ck_assert_int_eq(config_load(NULL, &c, err, sizeof err), 0);
	ck_assert_int_eq(c.secret_key[0], 1);
	config_free(&c);
	unsetenv("MAILPROOF_SECRET_KEY");
}
END_TEST

/* The shipped sample documents every key, and every documented value loads. */
START_TEST(sample_config_matches_the_table)
{
	const char *top = getenv("top_srcdir");
	char path[1024], line[1024];
	FILE *in, *out;
	struct config c;
	char err[512];
	struct { char name[64]; } seen[128];
	size_t nseen = 0;

	snprintf(path, sizeof path, "%s/etc/mailproof.conf.sample", top ? top : "../..");
	in = fopen(path, "r");
	ck_assert_msg(in != NULL, "cannot open %s", path);
	out = fopen(write_conf(""), "w");
	/* Uncomment every "# key = value" line, keeping the first of each key. */
	while (fgets(line, sizeof line, in)) {
		char name[64];
		const char *p = line;
		int dup = 0;
		if (strncmp(p, "# ", 2) == 0 && sscanf(p + 2, "%63[a-z_] = ", name) == 1 &&
		    strstr(p, " = ")) {
			for (size_t i = 0; i < nseen; i++)
				dup |= strcmp(seen[i].name, name) == 0;
			if (dup)
				continue;
			snprintf(seen[nseen++].name, sizeof seen[0].name, "%s", name);
			p += 2;
		}
		fputs(p, out);
	}
	fclose(in);
	fclose(out);
	for (size_t i = 0; config_key_name(i); i++) {
		int found = 0;
		for (size_t j = 0; j < nseen; j++)
			found |= strcmp(seen[j].name, config_key_name(i)) == 0;
		ck_assert_msg(found, "key %s is not documented in the sample", config_key_name(i));
	}
	setenv("MAILPROOF_SECRET_KEY", "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", 1);
	ck_assert_msg(config_load(g_path, &c, err, sizeof err) == 0, "%s", err);
	unsetenv("MAILPROOF_SECRET_KEY");
	unlink(g_path);
	config_free(&c);
}
END_TEST

UNIT_MAIN("config",
	  defaults_and_values,
	  errors_name_file_line_and_key,
	  secret_key_is_required_and_checked,
	  environment_overrides_file,
	  sample_config_matches_the_table)
