/*
 * Fuzz target: the config file.  The input is the whole file, which
 * config_load() reads through a path (a memfd's /proc/self/fd/N, so that
 * no file is written).  A file it accepts must give a config that holds
 * its table's promises (no control characters in strings, URLs and
 * prefixes of the right shape, numbers in bounds); one it refuses must be
 * refused with a message that names the file.  The environment sets no
 * key, so the file must set secret_key itself.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

static int g_fd = -1;
static char g_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init(0);
	unsetenv("MAILPROOF_TEMPLATE_DIR");
	unsetenv("MAILPROOF_DISPOSABLE_DOMAINS_FILE");
	unsetenv("MAILPROOF_MX_CHECK");
	if ((g_fd = memfd_create("mailproof.conf", MFD_CLOEXEC)) < 0)
		fuzz_fail("memfd_create", NULL, 0);
	snprintf(g_path, sizeof g_path, "/proc/self/fd/%d", g_fd);
	return 0;
}

static void check_string(const char *s)
{
	FUZZ_ASSERT(s != NULL, NULL, 0);
	for (const char *c = s; *c; c++)
		FUZZ_ASSERT((unsigned char)*c >= 0x20 && *c != 0x7f, s, strlen(s));
}

static void check(const struct config *c)
{
	const char *strings[] = { c->database_url, c->mount_prefix, c->public_base_url,
				  c->smtp_host, c->smtp_user, c->smtp_password, c->smtp_ca_file,
				  c->mail_from, c->mail_from_name, c->template_dir,
				  c->trusted_proxies, c->disposable_domains_file, c->dns_server };
	size_t n = strlen(c->public_base_url), m = strlen(c->mount_prefix);
	int secret = 0;

	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
		check_string(strings[i]);
	for (size_t i = 0; i < CONFIG_KEY_BYTES; i++)
		secret |= c->secret_key[i];
	FUZZ_ASSERT(secret && c->database_url[0], NULL, 0);
	FUZZ_ASSERT((strncmp(c->public_base_url, "http://", 7) == 0 ||
		     strncmp(c->public_base_url, "https://", 8) == 0) &&
		    c->public_base_url[n - 1] != '/', c->public_base_url, n);
	FUZZ_ASSERT(m == 0 || (c->mount_prefix[0] == '/' && c->mount_prefix[m - 1] != '/'),
		    c->mount_prefix, m);
	FUZZ_ASSERT(c->smtp_port >= 1 && c->smtp_port <= 65535, NULL, 0);
	FUZZ_ASSERT(c->max_body_bytes >= 256 && c->max_body_bytes <= 1048576, NULL, 0);
	FUZZ_ASSERT(c->default_code_length >= 4 && c->default_code_length <= 12, NULL, 0);
	FUZZ_ASSERT(c->smtp_starttls >= 0 && c->smtp_starttls <= 2, NULL, 0);
	FUZZ_ASSERT(c->mail_delivery == MAIL_SYNC || c->mail_delivery == MAIL_QUEUE, NULL, 0);
	FUZZ_ASSERT(c->log_level >= 0 && c->log_level <= 3, NULL, 0);
	FUZZ_ASSERT(c->link_confirm_page == 0 || c->link_confirm_page == 1, NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char err[512];

	if (ftruncate(g_fd, 0) < 0 || (size && pwrite(g_fd, data, size, 0) != (ssize_t)size))
		fuzz_fail("could not write the memfd", NULL, 0);
	if (config_load(g_path, &c, err, sizeof err) == 0) {
		check(&c);
		config_free(&c);
	} else {
		FUZZ_ASSERT(strncmp(err, g_path, strlen(g_path)) == 0, err, strlen(err));
	}
	return 0;
}
