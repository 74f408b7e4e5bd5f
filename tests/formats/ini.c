/*
 * tests/formats/ini.c: the INI reader (formats/ini.c) against SPEC "settlement.ini":
 * sections, options, comments, BOM, CRLF, empty values, and syntax errors with lines.
 */
#include "support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/formats.h"

/* Records every callback as "LINE [section]" or "LINE section|name|value". */
typedef struct {
	char out[4096];
	int fail_at;    /* line at which the callback reports a problem, 0 = never */
	int abort_at;   /* line at which the callback returns JOS_ENOMEM */
} rec_ctx;

static int record_cb(void *vctx, const char *section, const char *name, const char *value,
		     uint32_t line, jos_errlist *errs)
{
	rec_ctx *c = vctx;
	size_t n = strlen(c->out);
	if (name)
		snprintf(c->out + n, sizeof c->out - n, "%u %s|%s|%s\n", (unsigned)line, section,
			 name, value);
	else
		snprintf(c->out + n, sizeof c->out - n, "%u [%s]\n", (unsigned)line, section);
	if ((int)line == c->fail_at) {
		jos_errlist_add(errs, JOS_SEV_ERROR, "s.ini", line, "callback refused");
		return JOS_EINVALID;
	}
	if ((int)line == c->abort_at)
		return JOS_ENOMEM;
	return JOS_OK;
}

static char *problems(const jos_errlist *l)
{
	static char buf[4096];
	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		size_t n = strlen(buf);
		snprintf(buf + n, sizeof buf - n, "%s:%u: %s\n", l->items[i].file,
			 (unsigned)l->items[i].line, l->items[i].msg);
	}
	return buf;
}

static void run(const char *ini, size_t len, int want_rc, const char *want_calls,
		const char *want_errs)
{
	rec_ctx ctx = { .out = "" };
	jos_errlist errs;
	jos_errlist_init(&errs);
	assert_int_equal(fmt_ini_parse_mem(ini, len, "s.ini", record_cb, &ctx, &errs), want_rc);
	assert_string_equal(ctx.out, want_calls);
	assert_string_equal(problems(&errs), want_errs);
	jos_errlist_free(&errs);
}

#define RUN(ini, rc, calls, errs) run(ini, strlen(ini), rc, calls, errs)

static void test_fmt_ini__spec_example(void **state)
{
	(void)state;
	RUN("[settlement]\n"
	    "name = JOS Holland Rijnland 2025-2026\n"
	    "issuer = Holland Rijnland        ; issuing body\n"
	    "issuer_id = 0546                 ; its identifier\n"
	    "measure = days                   # days | headcount\n"
	    "\n"
	    "[key standard]\n"
	    "method = prorata                 ; prorata | pooled | tariff\n"
	    "cap =                            ; euros per municipality per period, empty = none\n"
	    "min_school_share = 0             ; fraction 0..1: a school whose outside-region is a\n"
	    "                                 ; smaller share of its total measure charges no one\n"
	    "weight.special needs = 1.5\n"
	    "tariff.SO/VSO = 4500.00\n",
	    JOS_OK,
	    "1 [settlement]\n"
	    "2 settlement|name|JOS Holland Rijnland 2025-2026\n"
	    "3 settlement|issuer|Holland Rijnland\n"
	    "4 settlement|issuer_id|0546\n"
	    "5 settlement|measure|days\n"
	    "7 [key standard]\n"
	    "8 key standard|method|prorata\n"
	    "9 key standard|cap|\n"
	    "10 key standard|min_school_share|0\n"
	    "12 key standard|weight.special needs|1.5\n"
	    "13 key standard|tariff.SO/VSO|4500.00\n",
	    "");
}

static void test_fmt_ini__comments(void **state)
{
	(void)state;
	RUN("; a comment\n"
	    "# another\n"
	    "   ; indented\n"
	    "[s]   ; after a header\n"
	    "a = b;c\n"
	    "b = b ;c\n"
	    "c = b#c\n"
	    "d = b\t#c\n"
	    "e = ;only a comment\n"
	    "f =\n"
	    "g=h\n"
	    "h = x = y\n"
	    "i = \"quoted ; kept?\"\n",
	    JOS_OK,
	    "4 [s]\n"
	    "5 s|a|b;c\n"
	    "6 s|b|b\n"
	    "7 s|c|b#c\n"
	    "8 s|d|b\n"
	    "9 s|e|\n"
	    "10 s|f|\n"
	    "11 s|g|h\n"
	    "12 s|h|x = y\n"
	    "13 s|i|\"quoted\n",
	    "");
}

static void test_fmt_ini__bom_crlf_and_case(void **state)
{
	(void)state;
	RUN("\xef\xbb\xbf[Settlement]\r\nName = X\r\n\r\n[ KEY  Standard ]\r\nMethod=Pooled\r\n",
	    JOS_OK,
	    "1 [Settlement]\n2 Settlement|Name|X\n4 [KEY  Standard]\n5 KEY  Standard|Method|Pooled\n",
	    "");
	RUN("", JOS_OK, "", "");
	RUN("[s]\na = 1", JOS_OK, "1 [s]\n2 s|a|1\n", "");
}

static void test_fmt_ini__syntax_errors(void **state)
{
	(void)state;
	RUN("name = x\n"
	    "[s]\n"
	    "discount 0.5\n"
	    "= 3\n"
	    "[broken\n"
	    "a = 1\n"
	    "[]\n"
	    "[t] x\n"
	    "[u]\n"
	    "ok = yes\n",
	    JOS_EINVALID,
	    "2 [s]\n9 [u]\n10 u|ok|yes\n",
	    "s.ini:1: 'name' is outside any section: put it under a [section] header\n"
	    "s.ini:3: expected 'name = value', a [section] or a comment\n"
	    "s.ini:4: a setting needs a name before '=': write name = value\n"
	    "s.ini:5: a section header needs a closing ']': write [name]\n"
	    "s.ini:7: empty section name: write [name]\n"
	    "s.ini:8: unexpected text after the section header ']'\n");
}

static void test_fmt_ini__bad_bytes(void **state)
{
	(void)state;
	static const char nul[] = "[s]\na = 1\nb = \0\nc = 3\n";
	run(nul, sizeof nul - 1, JOS_EINVALID, "1 [s]\n2 s|a|1\n4 s|c|3\n",
	    "s.ini:3: NUL byte: the file must be UTF-8 text\n");
	RUN("[s]\r\nname = Gemeente Zo\xe9terwoude\r\nok = Zo\xc3\xa9terwoude\r\n", JOS_EINVALID,
	    "1 [s]\n3 s|ok|Zo\xc3\xa9terwoude\n",
	    "s.ini:2: invalid UTF-8 (byte 0xE9): save the file as UTF-8\n");
}

/* Fuzz finding (fuzz_dataset, 2026-11-25): texts with a C0 control character passed
 * the readers and `check`, then broke `settle` (XML 1.0 cannot hold them). The INI
 * reader refuses them at their line, like a NUL; a tab inside a value stays text. */
static void test_fmt_ini__control_characters(void **state)
{
	(void)state;
	RUN("[s]\nname = Test\x04region\nb = x\x1b\nc = t\tu\n", JOS_EINVALID,
	    "1 [s]\n4 s|c|t\tu\n",
	    "s.ini:2: control character 0x04: the file must be plain text (statements, which "
	    "are XML, cannot hold it): remove it\n"
	    "s.ini:3: control character 0x1B: the file must be plain text (statements, which "
	    "are XML, cannot hold it): remove it\n");
	/* the same finding for U+FFFF: valid UTF-8, no XML character */
	RUN("[s]\nname = Test\xef\xbf\xbf\nok = \xef\xbf\xbd\n", JOS_EINVALID,
	    "1 [s]\n3 s|ok|\xef\xbf\xbd\n",
	    "s.ini:2: character U+FFFF is not text (statements, which are XML, cannot hold it): "
	    "remove it\n");
}

static void test_fmt_ini__callback_results(void **state)
{
	rec_ctx ctx = { .out = "", .fail_at = 2 };
	jos_errlist errs;
	const char *ini = "[s]\na = 1\nb = 2\n";
	(void)state;
	jos_errlist_init(&errs);
	/* a refusal is reported by the callback, and reading goes on */
	assert_int_equal(fmt_ini_parse_mem(ini, strlen(ini), "s.ini", record_cb, &ctx, &errs),
			 JOS_EINVALID);
	assert_string_equal(ctx.out, "1 [s]\n2 s|a|1\n3 s|b|2\n");
	assert_string_equal(problems(&errs), "s.ini:2: callback refused\n");
	/* any other failure stops reading and is passed up */
	ctx = (rec_ctx){ .out = "", .abort_at = 2 };
	assert_int_equal(fmt_ini_parse_mem(ini, strlen(ini), "s.ini", record_cb, &ctx, &errs),
			 JOS_ENOMEM);
	assert_string_equal(ctx.out, "1 [s]\n2 s|a|1\n");
	jos_errlist_free(&errs);
}

static void test_fmt_ini__file(void **state)
{
	rec_ctx ctx = { .out = "" };
	jos_errlist errs;
	char path[] = "/tmp/jos-ini-test-XXXXXX";
	(void)state;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	/* longer than one read: 5000 options */
	FILE *f = fdopen(fd, "w");
	fputs("[key big]\n", f);
	for (int i = 0; i < 5000; i++)
		fprintf(f, "weight.c%d = %d.5 ; note\n", i, i);
	fclose(f);
	jos_errlist_init(&errs);
	assert_int_equal(fmt_ini_parse_file(path, "big.ini", record_cb, &ctx, &errs), JOS_OK);
	assert_int_equal(errs.n, 0);
	assert_non_null(strstr(ctx.out, "2 key big|weight.c0|0.5\n"));
	unlink(path);
	assert_int_equal(fmt_ini_parse_file(path, "big.ini", record_cb, &ctx, &errs), JOS_EIO);
	assert_int_equal(errs.nerrors, 1);
	assert_string_equal(errs.items[0].file, "big.ini");
	jos_errlist_free(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_ini__spec_example),
		cmocka_unit_test(test_fmt_ini__comments),
		cmocka_unit_test(test_fmt_ini__bom_crlf_and_case),
		cmocka_unit_test(test_fmt_ini__syntax_errors),
		cmocka_unit_test(test_fmt_ini__bad_bytes),
		cmocka_unit_test(test_fmt_ini__control_characters),
		cmocka_unit_test(test_fmt_ini__callback_results),
		cmocka_unit_test(test_fmt_ini__file),
	};
	return cmocka_run_group_tests_name("formats/ini", tests, NULL, NULL);
}
