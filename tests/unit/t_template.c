/* Unit tests of the template engine that mail and pages share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "template.h"

static const char *render(struct buf *b, const char *tpl, const struct template_var *v, size_t n,
			  int html)
{
	buf_reset(b);
	ck_assert_int_eq(template_render(tpl, v, n, html, NULL, b), 0);
	return b->data ? b->data : "";
}

START_TEST(values_are_escaped_for_where_they_land)
{
	const struct template_var v[] = { { "name", "<b>\"Tom\" & 'Jerry'</b>", 0 } };
	struct buf b;

	buf_init(&b, 4096);
	ck_assert_str_eq(render(&b, "<p>{{name}}</p>", v, 1, 1),
			 "<p>&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;</p>");
	ck_assert_str_eq(render(&b, "Hi {{name}}!", v, 1, 0), "Hi <b>\"Tom\" & 'Jerry'</b>!");
	buf_free(&b);
}
END_TEST

START_TEST(only_raw_vars_are_inserted_as_they_stand)
{
	const struct template_var v[] = { { "content", "<form></form>", 1 }, { "x", "<i>", 0 } };
	struct buf b;

	buf_init(&b, 4096);
	ck_assert_str_eq(render(&b, "<main>{{content}}{{x}}</main>", v, 2, 1),
			 "<main><form></form>&lt;i&gt;</main>");
	buf_free(&b);
}
END_TEST

START_TEST(placeholders_in_values_are_not_expanded)
{
	const struct template_var v[] = { { "a", "{{b}}", 0 }, { "b", "secret", 0 } };
	struct buf b;

	buf_init(&b, 4096);
	ck_assert_str_eq(render(&b, "{{a}}", v, 2, 1), "{{b}}");
	buf_free(&b);
}
END_TEST

START_TEST(unknown_and_broken_placeholders_stay)
{
	const struct template_var v[] = { { "code", "123456", 0 }, { "none", NULL, 0 } };
	struct buf b;

	buf_init(&b, 4096);
	ck_assert_str_eq(render(&b, "{{cod}} {{code}} {{code {{ }} {{none}}|", v, 2, 1),
			 "{{cod}} 123456 {{code {{ }} |");
	ck_assert_str_eq(render(&b, "{{", v, 2, 1), "{{");
	ck_assert_str_eq(render(&b, "", v, 2, 1), "");
	buf_free(&b);
}
END_TEST

START_TEST(output_is_bounded)
{
	const struct template_var v[] = { { "x", "0123456789", 0 } };
	struct buf b;

	buf_init(&b, 16);
	ck_assert_int_lt(template_render("{{x}}{{x}}{{x}}", v, 1, 0, NULL, &b), 0);
	buf_free(&b);
}
END_TEST

START_TEST(sections_show_only_when_their_value_is_set)
{
	const struct template_var v[] = { { "logo", "cid:x", 0 }, { "support", "", 0 } };
	struct buf b;

	buf_init(&b, 4096);
	ck_assert_str_eq(render(&b, "a{{#logo}}<img src=\"{{logo}}\">{{/logo}}b{{#support}}S{{/support}}"
				    "c{{#nothing}}N{{/nothing}}d", v, 2, 1),
			 "a<img src=\"cid:x\">bcd");
	/* an unclosed section is text, like any unknown placeholder */
	ck_assert_str_eq(render(&b, "{{#logo}}x", v, 2, 1), "{{#logo}}x");
	buf_free(&b);
}
END_TEST

START_TEST(messages_are_rendered_with_escaped_values)
{
	char chain[1][LOCALE_TAG_MAX] = { "en" }, err[256];
	const char *top = getenv("top_srcdir");
	const struct template_var v[] = { { "brand", "<Shop & Co>", 0 }, { "support", "{{msg.help}}", 0 } };
	struct catalog cat;
	char dir[4096];
	struct buf b;

	snprintf(dir, sizeof dir, "%s/templates", top ? top : ".");
	ck_assert_msg(catalog_load(&cat, dir, chain, 1, err, sizeof err) == 0, "%s", err);
	buf_init(&b, 4096);
	buf_reset(&b);
	ck_assert_int_eq(template_render("<h1>{{msg.page.for}}</h1>{{msg.no.such}}", v, 2, 1, &cat,
					 &b), 0);
	ck_assert_str_eq(b.data, "<h1>Email verification for &lt;Shop &amp; Co&gt;</h1>{{msg.no.such}}");
	/* a value that looks like a message stays a value */
	buf_reset(&b);
	ck_assert_int_eq(template_render("{{msg.help}}", v, 2, 0, &cat, &b), 0);
	ck_assert_str_eq(b.data, "Questions? Contact <Shop & Co>: {{msg.help}}");
	buf_free(&b);
	catalog_free(&cat);
}
END_TEST

START_TEST(a_tenant_template_is_found_before_the_shipped_one)
{
	const char *top = getenv("top_srcdir");
	char chain[2][LOCALE_TAG_MAX] = { "pt-BR", "pt" }, dir[4096], err[256];
	const struct template_custom mine[] = {
		{ "otp.txt", "pt", "pt's {{code}}" }, { "otp.txt", "", "anyone's {{code}}" },
		{ "link.txt", "", "anyone's {{link}}" }, { "otp.html", "de", "de's {{code}}" },
	};
	struct template_src src = { dir, (const char (*)[LOCALE_TAG_MAX])chain, 2, mine, 4 };
	struct buf b;

	snprintf(dir, sizeof dir, "%s/templates", top ? top : ".");
	buf_init(&b, 1 << 16);
	ck_assert_int_eq(template_find(&src, "otp.txt", &b, err, sizeof err), 0);
	ck_assert_str_eq(b.data, "pt's {{code}}");
	buf_reset(&b);
	ck_assert_int_eq(template_find(&src, "link.txt", &b, err, sizeof err), 0);
	ck_assert_str_eq(b.data, "anyone's {{link}}");
	buf_reset(&b);
	/* de's is not pt-BR's: the shipped file */
	ck_assert_int_eq(template_find(&src, "otp.html", &b, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "{{msg.otp.intro}}"));
	buf_reset(&b);
	ck_assert_int_eq(template_find(&src, "otp.subject", &b, err, sizeof err), 1);
	ck_assert_int_eq(template_find(&src, "nothing.html", &b, err, sizeof err), -1);
	buf_free(&b);
}
END_TEST

UNIT_MAIN("template",
	  a_tenant_template_is_found_before_the_shipped_one,
	  sections_show_only_when_their_value_is_set,
	  messages_are_rendered_with_escaped_values,
	  values_are_escaped_for_where_they_land, only_raw_vars_are_inserted_as_they_stand,
	  placeholders_in_values_are_not_expanded, unknown_and_broken_placeholders_stay,
	  output_is_bounded)
