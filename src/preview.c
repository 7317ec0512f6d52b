/* See preview.h. */
#include "preview.h"

#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "template.h"

#define SAMPLE_ID "ev_0123456789ABCDEFGHJKMNPQRS"
#define SAMPLE_TOKEN "SAMPLE-link-token-of-43-characters-000000000"

/* A mail template: the part of a sample mail that it makes. */
static int preview_mail(const struct config *cfg, const char *name, const char *locale,
			const struct mail_brand *brand, struct buf *out, char *err, size_t errlen)
{
	const char *dot = strchr(name, '.');
	char link[MAIL_URL_MAX];
	struct mail_verification vm;

	memset(&vm, 0, sizeof vm);
	vm.id = SAMPLE_ID;
	vm.email = "person@example.com";
	vm.ttl_seconds = 900;
	vm.locale = locale;
	vm.brand = brand;
	if (strncmp(name, "otp.", 4) != 0) {
		mail_link_url(cfg, SAMPLE_TOKEN, link);
		vm.link = link;
	}
	if (strncmp(name, "link.", 5) != 0)
		vm.code = "123456";
	if (mail_verification_part(cfg, &vm, strcmp(dot, ".subject") == 0 ? "subject" :
					      strcmp(dot, ".html") == 0 ? "html" : "text", out) < 0) {
		snprintf(err, errlen, "%s could not be rendered (see the log line above)", name);
		return -1;
	}
	return 0;
}

/* A page template, with the code page's words. */
static int preview_page(const char *name, const struct template_src *src,
			const struct catalog *cat, const struct mail_brand *brand, struct buf *out,
			char *err, size_t errlen)
{
	struct buf tpl, css, style, inner, body, logo;
	const char *dir = catalog_get(cat, "language.dir");
	int rc = -1;

	buf_init(&tpl, 64 * 1024);
	buf_init(&css, 64 * 1024);
	buf_init(&style, 64 * 1024);
	buf_init(&inner, 64 * 1024);
	buf_init(&body, 64 * 1024);
	buf_init(&logo, 64 * 1024);
	if (*brand->logo_b64)
		buf_printf(&logo, "data:%s;base64,%s", brand->logo_type, brand->logo_b64);

	const struct template_var v[] = {
		{ "title", catalog_get(cat, "page.otp.title"), 0 }, { "class", "", 0 },
		{ "message", catalog_get(cat, "page.otp.text"), 0 }, { "inputmode", "numeric", 0 },
		{ "brand", brand->name, 0 }, { "support", brand->support, 0 },
		{ "logo", logo.data, 0 },
		{ "accent_color", *brand->accent ? brand->accent : MAIL_ACCENT_DEFAULT, 0 },
		{ "lang", cat->locale, 0 }, { "dir", dir && strcmp(dir, "rtl") == 0 ? "rtl" : "ltr", 0 },
	};
	size_t nv = sizeof v / sizeof v[0];

	if (template_find(src, "page.css", &css, err, errlen) != 0 ||
	    template_find(src, strcmp(name, "page.html") == 0 || strcmp(name, "page.css") == 0 ?
			  "page-otp.html" : name, &inner, err, errlen) != 0 ||
	    template_render(css.data, v, nv, 0, NULL, &style) < 0 ||
	    template_render(inner.data, v, nv, 1, cat, &body) < 0)
		goto fail;
	if (strcmp(name, "page.css") == 0) {
		rc = buf_append(out, style.data ? style.data : "", style.len);
		goto out;
	}
	if (strcmp(name, "page.html") != 0) {
		rc = buf_append(out, body.data ? body.data : "", body.len);
		goto out;
	}

	struct template_var lv[sizeof v / sizeof v[0] + 2];
	memcpy(lv, v, sizeof v);
	lv[nv] = (struct template_var){ "style", style.data, 1 };
	lv[nv + 1] = (struct template_var){ "content", body.data, 1 };
	if (template_find(src, "page.html", &tpl, err, errlen) != 0 ||
	    template_render(tpl.data, lv, nv + 2, 1, cat, out) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	if (*err == '\0')
		snprintf(err, errlen, "%s is too large to render", name);
out:
	buf_free(&tpl);
	buf_free(&css);
	buf_free(&style);
	buf_free(&inner);
	buf_free(&body);
	buf_free(&logo);
	return rc;
}

int preview_render(const struct config *cfg, const char *name, const char *locale,
		   const struct mail_brand *brand, struct buf *out, char *err, size_t errlen)
{
	char chain[LOCALE_CHAIN_MAX][LOCALE_TAG_MAX];
	struct template_src src = { cfg->template_dir, (const char (*)[LOCALE_TAG_MAX])chain,
				    locale_chain(locale, chain, LOCALE_CHAIN_MAX),
				    brand->templates, brand->ntemplates };
	struct catalog cat;
	int rc;

	*err = '\0';
	if (strncmp(name, "page", 4) != 0)
		return preview_mail(cfg, name, locale, brand, out, err, errlen);
	if (catalog_load(&cat, cfg->template_dir, src.chain, src.nchain, err, errlen) < 0) {
		catalog_free(&cat);
		return -1;
	}
	rc = preview_page(name, &src, &cat, brand, out, err, errlen);
	catalog_free(&cat);
	return rc;
}
