/*
 * Deliverability of an address (the "deliverability" of docs/openapi.yaml):
 * is its domain on the shipped disposable-domain list, and does it receive
 * mail at all (an MX record, or an address record standing in for one; a
 * null MX or a domain that does not exist does not).  The DNS lookup is a
 * plain UDP exchange with a deadline of dns_timeout_ms, so a slow resolver
 * makes the answer UNKNOWN, never a slow request.
 */
#ifndef MAILPROOF_DELIVERABILITY_H
#define MAILPROOF_DELIVERABILITY_H

struct config;

enum deliverability { DELIVERABILITY_UNKNOWN, DELIVERABILITY_OK, DELIVERABILITY_NO };

/* "UNKNOWN", "DELIVERABLE" or "UNDELIVERABLE". */
const char *deliverability_name(enum deliverability d);

/*
 * True when domain or one of its parent domains is on the list of
 * cfg->disposable_domains_file (read once per process; an unreadable file
 * is logged and treated as empty).
 */
int deliverability_is_disposable(const struct config *cfg, const char *domain);

/* The longest domain deliverability_suggest() compares and suggests. */
#define DELIVERABILITY_DOMAIN_MAX 64

/*
 * Whether domain looks like a typing slip of one of the most common mail
 * domains (cfg->common_domains_file, read once per process, most common
 * first): one letter added, dropped, changed, or two neighbours swapped,
 * and not itself listed.  1 with that domain (the most common of several)
 * in out, else 0.  No network: a suggestion only, the address is used as
 * given.
 */
int deliverability_suggest(const struct config *cfg, const char *domain,
			   char out[DELIVERABILITY_DOMAIN_MAX + 1]);

/* Looks up domain's MX (UNKNOWN when mx_check is off or DNS fails). */
enum deliverability deliverability_mx(const struct config *cfg, const char *domain);

/*
 * What one DNS answer of len bytes (as received from the network: any
 * bytes) says of the question for type (ns_t_mx, ns_t_a, ns_t_aaaa):
 * 1 records of that type (for MX: a real one), 0 none (NXDOMAIN or no
 * data), -1 unknown (malformed, truncated, a server failure).  *nx is set
 * for NXDOMAIN and *null_mx for an RFC 7505 null MX.  Reads nothing
 * outside ans[0..len).  Exposed for tests/fuzz/fuzz_dns.c.
 */
int deliverability_dns_answer(const unsigned char *ans, int len, int type, int *nx,
			      int *null_mx);

#endif
