/*
 * The pages a person sees: the magic link confirmation page and its result,
 * the hosted page where an OTP can be typed, and the "Didn't ask for
 * this?" page of every mail.  Mail scanners fetch links
 * before people do, and some submit forms that script submits, so GET and
 * HEAD only show a page with a button (they count linkViews and change
 * nothing else) and only the POST from that button verifies.  Pages are
 * templates of template_dir (page.html around page-*.html, styled by
 * page.css), rendered by template.c like the mail.  They have no
 * external assets and no script; every answer carries a strict CSP,
 * no-store, no-referrer and DENY framing, and each client address is
 * limited to rate_per_ip_per_minute requests.
 */
#ifndef MAILPROOF_HOSTED_H
#define MAILPROOF_HOSTED_H

#include "router.h"

struct request;

void hosted_link_get(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
void hosted_link_post(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
void hosted_report_get(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
void hosted_report_post(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
void hosted_otp_get(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
void hosted_otp_post(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);

#endif
