/*
 * The secret of one verification mail: its code (OTP), its link token
 * (MAGIC_LINK), or both (CODE_AND_LINK), the link made from the token, and
 * the keyed hashes under which they are stored.  The worker makes it for a
 * start or resend; it is sealed for whoever writes the mail later (the
 * notifier's mail queue, a verification.deliver event, a same_code
 * resend) and opened there.  Sealed, it is "CODE TOKEN", either part
 * empty; what version 18 and before sealed is the code or the token alone.
 */
#ifndef MAILPROOF_SECRET_H
#define MAILPROOF_SECRET_H

#include "buf.h"
#include "mail.h"
#include "token.h"

struct config;
struct mail_verification;

#define SECRET_TOKEN_LEN 43		/* base64url of 32 bytes */

/* What a verification's method asks for; see secret_kind_of(). */
enum secret_kind { SECRET_CODE = 1, SECRET_LINK = 2, SECRET_CODE_AND_LINK = 3 };

struct secret {
	char code[TOKEN_HEX_CODE_LEN + 1];	/* "" without one */
	char token[SECRET_TOKEN_LEN + 1];	/* "" without one */
	char link[MAIL_URL_MAX];		/* the token's link, else "" */
	char hash[TOKEN_HASH_HEX_LEN];		/* secret_hash: the code's, else the token's */
	char link_hash[TOKEN_HASH_HEX_LEN];	/* link_hash: the token's beside a code, else "" */
};

/* The kind of a method as stored (OTP, MAGIC_LINK, CODE_AND_LINK); OTP for any other. */
enum secret_kind secret_kind_of(const char *method);

/*
 * A new secret of kind for verification id.  Its code is custom (normalized
 * by the caller) when that is not NULL; else TOKEN_HEX_CODE_LEN hex digits
 * when hex; else length characters of alphabet.
 */
void secret_new(const struct config *cfg, const char *id, enum secret_kind kind,
		const char *alphabet, int length, int hex, const char *custom, struct secret *s);

/* Seals s for storage (a bytea literal, token_seal()) into out.  0, or -1 (logged). */
int secret_seal(const struct config *cfg, const char *id, const struct secret *s,
		struct buf *out);

/*
 * Opens hex, what secret_seal() made for verification id of kind (or a
 * version 18 seal), into s, with its link and its hashes under the key
 * that opened it.  Returns 0, or -1 when neither secret_key nor
 * secret_key_previous opens it or it is damaged (not logged).
 */
int secret_open(const struct config *cfg, const char *id, enum secret_kind kind,
		const char *hex, struct secret *s);

/* Whether s is still the secret of a verification whose secret_hash is hash_hex. */
int secret_current(const struct secret *s, const char *hash_hex);

/* Points vm's code and link at s (NULL for what it lacks). */
void secret_mail(const struct secret *s, struct mail_verification *vm);

void secret_wipe(struct secret *s);

#endif
