/* See template_check.h. */
#include "template_check.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A name a tenant may replace, what it is given, and what it needs. */
struct kind {
	const char *name;
	const char *vars;	/* space separated */
	const char *needs[2];	/* placeholders, or markup, it must have; NULL for none */
};

#define MAIL_VARS "link expires expires_minutes verification_line subject brand support " \
		  "accent_color logo lang dir report"
#define PAGE_VARS "title class message brand support logo accent_color lang dir"

static const struct kind g_kinds[] = {
	{ "otp.txt", "code " MAIL_VARS, { "{{code}}" } },
	{ "otp.html", "code " MAIL_VARS, { "{{code}}" } },
	{ "otp.subject", "brand expires", { NULL } },
	{ "link.txt", MAIL_VARS, { "{{link}}" } },
	{ "link.html", MAIL_VARS, { "{{link}}" } },
	{ "link.subject", "brand expires", { NULL } },
	{ "code_and_link.txt", "code " MAIL_VARS, { "{{code}}", "{{link}}" } },
	{ "code_and_link.html", "code " MAIL_VARS, { "{{code}}", "{{link}}" } },
	{ "code_and_link.subject", "brand expires", { NULL } },
	{ "page.html", PAGE_VARS " style content", { "{{content}}" } },
	{ "page.css", "accent_color", { NULL } },
	{ "page-otp.html", PAGE_VARS " inputmode", { "name=\"code\"" } },
	{ "page-link.html", PAGE_VARS, { "<form" } },
	{ "page-report.html", PAGE_VARS, { "<form" } },
	{ "page-message.html", PAGE_VARS, { "{{message}}" } },
};

const char template_check_names[] = "otp.txt otp.html otp.subject link.txt link.html "
				    "link.subject code_and_link.txt code_and_link.html "
				    "code_and_link.subject page.html page.css page-otp.html "
				    "page-link.html page-report.html page-message.html";

static const struct kind *kind_of(const char *name)
{
	for (size_t i = 0; i < sizeof g_kinds / sizeof g_kinds[0]; i++)
		if (strcmp(g_kinds[i].name, name) == 0)
			return &g_kinds[i];
	return NULL;
}

int template_check_name(const char *name)
{
	return kind_of(name) != NULL;
}

static int word_in(const char *word, size_t len, const char *list)
{
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, " ");
		if (n == len && strncmp(p, word, len) == 0)
			return 1;
		p += n + (p[n] == ' ');
	}
	return 0;
}

/* Every {{...}} of body is one the kind is given; sections are closed. */
static int check_placeholders(const struct kind *k, const char *body, const struct catalog *en,
			      char *err, size_t errlen)
{
	for (const char *p = body; (p = strstr(p, "{{")) != NULL;) {
		const char *end = strstr(p + 2, "}}"), *name = p + 2;
		size_t len;
		int ok;

		if (end == NULL) {
			snprintf(err, errlen, "a \"{{\" without its \"}}\"");
			return -1;
		}
		len = (size_t)(end - name);
		if (len > 4 && strncmp(name, "msg.", 4) == 0) {
			char key[128];
			snprintf(key, sizeof key, "%.*s", (int)(len - 4), name + 4);
			ok = len - 4 < sizeof key && catalog_get(en, key) != NULL;
		} else if (len > 1 && (*name == '#' || *name == '/')) {
			ok = word_in(name + 1, len - 1, k->vars);
			if (ok && *name == '#') {
				char closing[80];
				snprintf(closing, sizeof closing, "{{/%.*s}}", (int)(len - 1), name + 1);
				ok = len < 64 && strstr(end, closing) != NULL;
			}
		} else {
			ok = word_in(name, len, k->vars);
		}
		if (!ok) {
			snprintf(err, errlen, "unknown or unclosed placeholder {{%.*s}}; %s knows %s, "
				 "{{#name}}...{{/name}} and {{msg.KEY}} of templates/en/messages.txt",
				 (int)(len < 60 ? len : 60), name, k->name, k->vars);
			return -1;
		}
		p = end + 2;
	}
	return 0;
}

static int is_void(const char *tag, size_t n)
{
	return word_in(tag, n, "area base br col embed hr img input link meta source track wbr");
}

/* Elements whose end tag HTML lets a writer leave out. */
static int end_optional(const char *tag, size_t n)
{
	return word_in(tag, n, "p li dt dd tr td th thead tbody tfoot option colgroup");
}

/* Checks one start tag's attributes from p to its ">": quoted values, no on* handlers. */
static const char *attributes(const char *p, char *err, size_t errlen)
{
	while (*p && *p != '>') {
		const char *name;
		size_t n;

		if (isspace((unsigned char)*p) || *p == '/') {
			p++;
			continue;
		}
		name = p;
		while (*p && !isspace((unsigned char)*p) && *p != '=' && *p != '>' && *p != '/')
			p++;
		n = (size_t)(p - name);
		if (n > 2 && strncasecmp(name, "on", 2) == 0) {
			snprintf(err, errlen, "an event handler attribute (%.*s)", (int)n, name);
			return NULL;
		}
		if (*p == '=') {
			char q = *++p;
			if (q != '"' && q != '\'') {
				snprintf(err, errlen, "an attribute value without quotes (%.*s)", (int)n,
					 name);
				return NULL;
			}
			if ((p = strchr(p + 1, q)) == NULL) {
				snprintf(err, errlen, "an attribute value that is not closed");
				return NULL;
			}
			p++;
		}
	}
	if (*p != '>') {
		snprintf(err, errlen, "a tag that is not closed with \">\"");
		return NULL;
	}
	return p + 1;
}

/* A small well-formedness check: what a browser and a mail client read alike. */
static int check_html(const char *body, char *err, size_t errlen)
{
	char stack[64][16], t[16];
	size_t depth = 0;
	const char *p = body;

	while ((p = strchr(p, '<')) != NULL) {
		const char *tag;
		size_t n;
		int closing;

		if (strncmp(p, "<!--", 4) == 0) {
			const char *e = strstr(p + 4, "-->");
			if (e == NULL) {
				snprintf(err, errlen, "a comment that is not closed");
				return -1;
			}
			p = e + 3;
			continue;
		}
		if (strncasecmp(p, "<!DOCTYPE", 9) == 0) {
			p = strchr(p, '>');
			if (p == NULL)
				break;
			continue;
		}
		closing = p[1] == '/';
		tag = p + 1 + closing;
		for (n = 0; isalnum((unsigned char)tag[n]) && n < sizeof t - 1; n++)
			t[n] = (char)tolower((unsigned char)tag[n]);
		t[n] = '\0';
		if (n == 0 || isalnum((unsigned char)tag[n])) {
			snprintf(err, errlen, "a \"<\" that starts no tag (write &lt;)");
			return -1;
		}
		if (word_in(t, n, "script iframe object embed frame frameset applet base")) {
			snprintf(err, errlen, "a <%s> element, which mailproof does not allow", t);
			return -1;
		}
		if (closing) {
			while (depth > 0 && strcmp(stack[depth - 1], t) != 0 &&
			       end_optional(stack[depth - 1], strlen(stack[depth - 1])))
				depth--;
			if (depth == 0 || strcmp(stack[depth - 1], t) != 0) {
				snprintf(err, errlen, "</%s> closes %s%s%s", t,
					 depth ? "<" : "nothing open", depth ? stack[depth - 1] : "",
					 depth ? ">" : "");
				return -1;
			}
			depth--;
			if ((p = strchr(tag, '>')) == NULL)
				break;
			p++;
			continue;
		}
		if ((p = attributes(tag + n, err, errlen)) == NULL)
			return -1;
		if (!is_void(t, n) && p[-2] != '/') {
			if (depth == 64) {
				snprintf(err, errlen, "elements nested too deep");
				return -1;
			}
			memcpy(stack[depth++], t, sizeof t);
		}
	}
	while (depth > 0 && end_optional(stack[depth - 1], strlen(stack[depth - 1])))
		depth--;
	if (depth > 0) {
		snprintf(err, errlen, "<%s> is not closed", stack[depth - 1]);
		return -1;
	}
	return 0;
}

int template_check(const char *name, const char *body, size_t len, const struct catalog *en,
		   char *err, size_t errlen)
{
	const struct kind *k = kind_of(name);
	size_t nlen = strlen(name);
	char why[400];

	if (k == NULL) {
		snprintf(err, errlen, "there is no template %s (there are: %s)", name,
			 template_check_names);
		return -1;
	}
	if (len == 0 || len > TEMPLATE_CHECK_MAX || memchr(body, '\0', len) ||
	    !catalog_utf8_valid(body, len)) {
		snprintf(err, errlen, "%s must be 1 to %d bytes of UTF-8", name, TEMPLATE_CHECK_MAX);
		return -1;
	}
	if (strstr(name, ".subject") && (len > TEMPLATE_SUBJECT_MAX || strpbrk(body, "\r\n"))) {
		snprintf(err, errlen, "%s must be one line of at most %d bytes", name,
			 TEMPLATE_SUBJECT_MAX);
		return -1;
	}
	if (check_placeholders(k, body, en, err, errlen) < 0)
		return -1;
	if (strcmp(name, "page.css") == 0 && memchr(body, '<', len)) {
		snprintf(err, errlen, "page.css must not have \"<\" (it could end its <style>)");
		return -1;
	}
	if ((k->needs[0] && strstr(body, k->needs[0]) == NULL) ||
	    (k->needs[1] && strstr(body, k->needs[1]) == NULL)) {
		snprintf(err, errlen, "%s must have %s%s%s", name, k->needs[0],
			 k->needs[1] ? " and " : "", k->needs[1] ? k->needs[1] : "");
		return -1;
	}
	if (nlen > 5 && strcmp(name + nlen - 5, ".html") == 0 && check_html(body, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s is not HTML that parses: %s", name, why);
		return -1;
	}
	return 0;
}
