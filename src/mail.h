/*
 * Mail as MIME: libESMTP does no MIME, so this module writes the whole
 * RFC 5322 message: CRLF lines, multipart/alternative with quoted-
 * printable UTF-8 parts (the HTML one in multipart/related with an inline
 * logo when there is one), an RFC 2047 subject when it is not ASCII.
 * What a verification's mail says is mail_verification.c's.
 * No value can add a header or a MIME part: header values are validated or
 * encoded, and the boundary cannot occur in quoted-printable text.
 */
#ifndef MAILPROOF_MAIL_H
#define MAILPROOF_MAIL_H

#include "buf.h"

/* The largest message, and rendered part, that we build or send, queued or not. */
#define MAIL_MAX_BYTES (256 * 1024)

/* Room for a URL of mail_link_url() or mail_hosted_url(). */
#define MAIL_URL_MAX 600

struct mail_msg {
	const char *from;	/* addr-spec */
	const char *from_name;	/* display name, any UTF-8 */
	const char *to;		/* addr-spec, validated by mail_address_valid */
	const char *subject;	/* UTF-8 without CR or LF */
	const char *text;	/* plain part, UTF-8 */
	const char *html;	/* HTML part, UTF-8 */
	/* an image the HTML shows as cid:MAIL_LOGO_CID, or NULLs */
	const char *logo_type;	/* image/png or image/svg+xml */
	const char *logo_b64;	/* its bytes in base64, one line */
};

/* The Content-ID of the logo part, which src="cid:..." names. */
#define MAIL_LOGO_CID "logo@mailproof"

/*
 * True when s is one addr-spec we send to: local@domain, ASCII, at most 254
 * octets with a local part of at most 64, no whitespace, quotes, brackets or
 * control characters, a dotted domain of letters, digits and hyphens.
 */
int mail_address_valid(const char *s);

/* Writes the whole message into out; -1 when it does not fit. */
int mail_compose(const struct mail_msg *m, struct buf *out);

/* Quoted-printable with CRLF lines, breaking only at spaces where it can. */
int mail_qp_encode(const char *in, struct buf *out);

#endif
