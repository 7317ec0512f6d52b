/*
 * Webhook delivery (Standard Webhooks): the body, the signature headers,
 * and one POST with libcurl.  Private and loopback addresses are refused
 * when curl opens the socket, after DNS, so a name cannot be re-pointed at
 * an internal host between a check and the connect; webhook_allow_private
 * turns that off for hosts that deliver to their own network.
 */
#ifndef MAILPROOF_WEBHOOK_H
#define MAILPROOF_WEBHOOK_H

#include <stddef.h>

#include "buf.h"
#include "token.h"

struct config;
struct sockaddr;

#define WEBHOOK_ERROR_MAX 200

struct webhook_result {
	int status;		/* HTTP status, 0 when none came */
	int retry_after;	/* seconds from Retry-After, 0 when absent */
	char error[WEBHOOK_ERROR_MAX];	/* what went wrong, "" on a 2xx */
};

/* Once per process, before any send; cleanup at exit. */
int webhook_global_init(void);
void webhook_global_cleanup(void);

/*
 * True when url may be a webhook endpoint: http or https, a host, no user
 * name, a port of 80, 443 or 1024-65535.  why says what is wrong.
 */
int webhook_url_ok(const char *url, const char **why);

/*
 * Whether host resolves, to addresses a delivery may connect to (no
 * private or loopback one unless webhook_allow_private).  0, or -1 with
 * why.  A delivery checks again, address by address, as it connects.
 */
int webhook_host_check(const struct config *cfg, const char *host, const char **why);

/*
 * Whether a delivery may connect to sa: a public unicast address, not a
 * private, loopback, link-local, site-local, shared, documentation,
 * multicast or reserved one, nor a private IPv4 address wrapped in IPv6
 * (mapped, NAT64, 6to4), nor Teredo.  Any other family is refused.
 */
int webhook_addr_is_public(const struct sockaddr *sa);

/* The host of url, without user, port or path (which may hold a token), for logs and checks. */
void webhook_url_host(const char *url, char *out, size_t len);

/*
 * A tenant's whsec_ secret as it is stored: sealed under a key derived
 * from secret_key (token_seal), so that a copy of the database does not
 * sign webhooks.  Returns 0, or -1 when out is full.
 */
int webhook_secret_seal(const struct config *cfg, const char *whsec, struct buf *out);

/*
 * The whsec_ secret of stored ("" stays ""): 0 when sealed under
 * secret_key; 1 when sealed under secret_key_previous, or still in clear
 * from before version 11 (mailproofctl migrate seals it again); -1 when it
 * cannot be opened (sealed under a key this config does not have).
 */
int webhook_secret_open(const struct config *cfg, const char *stored,
			char out[TOKEN_WHSEC_LEN + 1]);

/* {"type":...,"timestamp":...,"data":payload}; payload is JSON text. */
int webhook_body(const char *type, const char *timestamp, const char *payload, struct buf *out);

/*
 * "v1," + base64 HMAC-SHA256 of "id.timestamp.body" keyed with the decoded
 * whsec_ secret.  Returns 0, or -1 when the secret is malformed.
 */
int webhook_signature(const char *whsec, const char *id, long long timestamp, const char *body,
		      char *out, size_t outlen);

/*
 * POSTs body to url with the signature headers; fills res.  During a
 * rotation whsec_previous ("" or NULL otherwise) signs too: the header
 * then holds both signatures, space separated.
 */
void webhook_send(const struct config *cfg, const char *url, const char *whsec,
		  const char *whsec_previous, const char *event_id, const char *body,
		  struct webhook_result *res);

#endif
