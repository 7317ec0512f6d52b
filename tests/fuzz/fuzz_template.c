/*
 * Fuzz target: template rendering.  The input is a flags byte, then fields
 * cut at NUL bytes: the template (a tenant's own, or a file of
 * template_dir), then the values of code, link, brand, support, logo and
 * the raw content.  Rendering must stay within its output cap, and in HTML
 * no value may become markup: when neither the template nor the raw value
 * has a '<', neither has the output.  The catalogue (German over English)
 * answers {{msg.KEY}}; mail_duration() renders a lifetime from it.
 */
#include "fuzz.h"

#include "catalog.h"
#include "mail_verification.h"
#include "template.h"

static struct catalog g_cat;
static int g_cat_has_lt;	/* some message has a '<' of its own */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char chain[][LOCALE_TAG_MAX] = { "de", "en" };
	struct config cfg;
	char err[512];

	(void)argc;
	(void)argv;
	fuzz_init(1);
	fuzz_config(&cfg);
	if (catalog_load(&g_cat, cfg.template_dir, chain, 2, err, sizeof err) < 0)
		fuzz_fail(err, NULL, 0);
	for (size_t i = 0; i < g_cat.n; i++)
		g_cat_has_lt |= strchr(g_cat.entries[i].text, '<') != NULL;
	config_free(&cfg);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_fields ff;
	struct buf out;
	int html, use_cat, rc;
	const char *tpl;

	if (size < 1)
		return 0;
	html = data[0] & 1;
	use_cat = (data[0] & 2) != 0;
	fuzz_split(&ff, data + 1, size - 1, '\0', 7);
	tpl = ff.f[0];
	{
		const struct template_var v[] = {
			{ "code", ff.f[1], 0 }, { "link", ff.f[2], 0 }, { "brand", ff.f[3], 0 },
			{ "support", ff.f[4], 0 }, { "logo", ff.f[5], 0 }, { "content", ff.f[6], 1 },
			{ "none", NULL, 0 },
		};
		/* a small cap sometimes, so that running out of room is exercised */
		buf_init(&out, data[0] & 4 ? 64 : 1024 * 1024);
		rc = template_render(tpl, v, sizeof v / sizeof v[0], html, use_cat ? &g_cat : NULL, &out);
		FUZZ_ASSERT(rc == 0 || rc == -1, NULL, 0);
		FUZZ_ASSERT(out.len <= out.max, NULL, 0);
		if (rc == 0 && html && strchr(tpl, '<') == NULL && strchr(ff.f[6], '<') == NULL &&
		    !(use_cat && g_cat_has_lt))
			FUZZ_ASSERT(out.data == NULL || strchr(out.data, '<') == NULL, out.data, out.len);
		buf_free(&out);
	}
	/* a lifetime as the API allows it: 60 s to 30 days */
	if (size >= 5) {
		uint32_t s;
		memcpy(&s, data + size - 4, 4);
		buf_init(&out, 256);
		FUZZ_ASSERT(mail_duration(&g_cat, (int)(60 + s % (2592000 - 59)), &out) == 0, NULL, 0);
		FUZZ_ASSERT(out.len > 0, NULL, 0);
		buf_free(&out);
	}
	fuzz_fields_free(&ff);
	return 0;
}
