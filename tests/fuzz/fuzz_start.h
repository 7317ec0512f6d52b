/*
 * What must hold of every start body api_verification_parse_start()
 * accepts, whichever target fed it (fuzz_json: the body alone;
 * fuzz_request: a whole FastCGI request).  Header-only, like fuzz.h.
 */
#ifndef MAILPROOF_FUZZ_START_H
#define MAILPROOF_FUZZ_START_H

#include "fuzz.h"

#include "locale.h"
#include "mail.h"
#include "verify.h"

static inline int fuzz_no_controls(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static inline void fuzz_check_start(const struct verify_start_req *sr)
{
	char canon[LOCALE_TAG_MAX];

	FUZZ_ASSERT(mail_address_valid(sr->email), sr->email, strlen(sr->email));
	FUZZ_ASSERT(fuzz_no_controls(sr->user_id) && fuzz_no_controls(sr->subject) &&
		    fuzz_no_controls(sr->verification_line), NULL, 0);
	FUZZ_ASSERT(sr->user_id == NULL || strlen(sr->user_id) <= 4 * 128, NULL, 0);
	FUZZ_ASSERT(sr->max_attempts >= 1 && sr->max_attempts <= 10, NULL, 0);
	FUZZ_ASSERT(sr->expires_seconds >= 60 && sr->expires_seconds <= 2592000, NULL, 0);
	/* a format of its own alphabet and length, or hex, 64 long */
	FUZZ_ASSERT(sr->token_format != NULL, NULL, 0);
	FUZZ_ASSERT(sr->alphabet ? sr->code_length >= 4 && sr->code_length <= 12 :
				   strcmp(sr->token_format, "hex") == 0 && sr->code_length == 64,
		    sr->token_format, strlen(sr->token_format));
	FUZZ_ASSERT(sr->custom_code[0] == '\0' ||
		    (sr->alphabet && (sr->kind & SECRET_CODE) &&
		     strspn(sr->custom_code, sr->alphabet) == strlen(sr->custom_code) &&
		     (int)strlen(sr->custom_code) == sr->code_length),
		    sr->custom_code, strlen(sr->custom_code));
	FUZZ_ASSERT(strcmp(sr->delivery, "smtp") == 0 || strcmp(sr->delivery, "none") == 0 ||
		    strcmp(sr->delivery, "webhook") == 0, sr->delivery, strlen(sr->delivery));
	FUZZ_ASSERT((sr->kind & SECRET_LINK) || sr->redirect_url == NULL, NULL, 0);
	FUZZ_ASSERT(sr->locale[0] == '\0' || (locale_canonical(sr->locale, canon) == 0 &&
					      strcmp(canon, sr->locale) == 0),
		    sr->locale, strlen(sr->locale));
	FUZZ_ASSERT(sr->metadata == NULL || strlen(sr->metadata) <= 2048, NULL, 0);
	FUZZ_ASSERT(sr->idem_key == NULL || (strlen(sr->idem_key) >= 1 &&
					     strlen(sr->idem_key) <= 255), NULL, 0);
}

#endif
