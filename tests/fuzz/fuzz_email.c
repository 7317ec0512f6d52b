/*
 * Fuzz target: email addresses.  mail_address_valid() decides which
 * addresses mailproof mails (they go into the To: header and the SMTP
 * envelope), so it is checked against a second, independent reading of
 * its contract in mail.h; the domain of a valid address then goes through
 * the disposable-domain lookup, which must be case-blind and cover
 * subdomains.
 */
#include "fuzz.h"

#include "deliverability.h"
#include "mail.h"

static struct config g_cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init(1);
	fuzz_config(&g_cfg);
	return 0;
}

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* mail.h's contract, read again: local@domain, dot-atom local part, LDH labels. */
static int contract_valid(const char *s)
{
	size_t len = strlen(s), at = len, labels = 0;

	for (size_t i = 0; i < len; i++)
		if (s[i] == '@') {
			if (at != len)
				return 0;	/* a second '@' */
			at = i;
		}
	if (at == len || at == 0 || at > 64 || len > 254)
		return 0;
	for (size_t i = 0; i < at; i++) {
		if (s[i] == '.') {
			if (i == 0 || i + 1 == at || s[i + 1] == '.')
				return 0;
		} else if (!is_alnum(s[i]) && strchr("!#$%&'*+-/=?^_`{|}~", s[i]) == NULL) {
			return 0;
		}
	}
	for (size_t i = at + 1; i <= len; labels++) {
		size_t n = strcspn(s + i, ".");
		if (n == 0 || n > 63 || s[i] == '-' || s[i + n - 1] == '-')
			return 0;
		for (size_t j = i; j < i + n; j++)
			if (!is_alnum(s[j]) && s[j] != '-')
				return 0;
		i += n + 1;
	}
	return labels >= 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), sub[300];
	int valid;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	valid = mail_address_valid(s);
	FUZZ_ASSERT(valid == contract_valid(s), s, strlen(s));
	if (valid) {
		const char *domain = strchr(s, '@') + 1;
		int disposable = deliverability_is_disposable(&g_cfg, domain);
		size_t i;

		/* a subdomain of a disposable domain is disposable; case does not matter */
		if (disposable && snprintf(sub, sizeof sub, "mx.%s", domain) < (int)sizeof sub)
			FUZZ_ASSERT(deliverability_is_disposable(&g_cfg, sub), sub, strlen(sub));
		for (i = 0; domain[i] && i + 1 < sizeof sub; i++)
			sub[i] = (char)(domain[i] >= 'a' && domain[i] <= 'z' ? domain[i] - 32 : domain[i]);
		sub[i] = '\0';
		FUZZ_ASSERT(deliverability_is_disposable(&g_cfg, sub) == disposable, sub, strlen(sub));
	}
	free(s);
	return 0;
}
