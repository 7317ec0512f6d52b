/* See secret.h. */
#include "secret.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "log.h"
#include "mail_verification.h"

enum secret_kind secret_kind_of(const char *method)
{
	return strcmp(method, "MAGIC_LINK") == 0 ? SECRET_LINK :
	       strcmp(method, "CODE_AND_LINK") == 0 ? SECRET_CODE_AND_LINK : SECRET_CODE;
}

/* The link and the hashes of s's code and token, under key. */
static void secret_hashes(const struct config *cfg, const unsigned char *key, const char *id,
			  struct secret *s)
{
	s->link[0] = '\0';
	s->link_hash[0] = '\0';
	if (s->token[0]) {
		mail_link_url(cfg, s->token, s->link);
		token_hash_hex(key, "link", s->token, NULL, s->code[0] ? s->link_hash : s->hash);
	}
	if (s->code[0])
		token_code_hash_hex(key, id, s->code, s->hash);
}

void secret_new(const struct config *cfg, const char *id, enum secret_kind kind,
		const char *alphabet, int length, int hex, const char *custom, struct secret *s)
{
	unsigned char raw[32];

	memset(s, 0, sizeof *s);
	if (kind & SECRET_CODE) {
		if (custom)
			snprintf(s->code, sizeof s->code, "%s", custom);
		else if (hex)
			token_hex_code(s->code);
		else
			token_code(alphabet, length, s->code);
	}
	if (kind & SECRET_LINK) {
		token_random(raw, sizeof raw);
		sodium_bin2base64(s->token, sizeof s->token, raw, sizeof raw,
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		sodium_memzero(raw, sizeof raw);
	}
	secret_hashes(cfg, cfg->secret_key, id, s);
}

int secret_seal(const struct config *cfg, const char *id, const struct secret *s,
		struct buf *out)
{
	char text[sizeof s->code + 1 + sizeof s->token];
	int n = snprintf(text, sizeof text, "%s %s", s->code, s->token), rc = 0;

	if (token_seal(cfg->secret_key, text, (size_t)n, out) < 0) {
		log_errx("verification %s: could not seal its code", id);
		rc = -1;
	}
	sodium_memzero(text, sizeof text);
	return rc;
}

int secret_open(const struct config *cfg, const char *id, enum secret_kind kind,
		const char *hex, struct secret *s)
{
	struct buf b;
	const char *sp;
	size_t clen;
	int which, rc = -1;

	memset(s, 0, sizeof *s);
	buf_init(&b, 256);
	if ((which = token_unseal_any(cfg->secret_key, CONFIG_PREVIOUS_KEY(cfg), hex, &b)) < 0)
		goto out;
	if ((sp = strchr(b.data, ' ')) != NULL) {
		clen = (size_t)(sp - b.data);
		sp++;
	} else {
		/* version 18: the code, or the token of a magic link, alone */
		clen = kind == SECRET_LINK ? 0 : b.len;
		sp = kind == SECRET_LINK ? b.data : "";
	}
	if (clen >= sizeof s->code || strlen(sp) >= sizeof s->token)
		goto out;
	memcpy(s->code, b.data, clen);
	memcpy(s->token, sp, strlen(sp) + 1);
	secret_hashes(cfg, which == 0 ? cfg->secret_key : cfg->secret_key_previous, id, s);
	rc = 0;
out:
	sodium_memzero(b.data, b.len);
	buf_free(&b);
	return rc;
}

int secret_current(const struct secret *s, const char *hash_hex)
{
	/* the stored hash as PostgreSQL writes bytea in hex, with or without its "\x" */
	const char *mine = s->hash + 2;

	if (strncmp(hash_hex, "\\x", 2) == 0)
		hash_hex += 2;
	return strlen(hash_hex) == strlen(mine) && sodium_memcmp(hash_hex, mine, strlen(mine)) == 0;
}

void secret_mail(const struct secret *s, struct mail_verification *vm)
{
	vm->code = s->code[0] ? s->code : NULL;
	vm->link = s->link[0] ? s->link : NULL;
}

void secret_wipe(struct secret *s)
{
	sodium_memzero(s, sizeof *s);
}
