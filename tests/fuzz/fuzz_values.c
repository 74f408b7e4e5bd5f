/*
 * fuzz_values.c: libFuzzer harness for the strict value parsers (formats/values.c).
 *
 * Every fmt_parse_* gets the input as written and trimmed (as the readers pass it).
 * Besides "no crash, no overread" it checks invariants: a refusal always explains
 * itself (why is a NUL-terminated, non-empty sentence), and an accepted value
 * formatted back (jos_cents_format, jos_day_format, jos_micro_format, %lld) parses
 * again to the same value: what the program prints it can read back.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A refusal must say why: non-empty, terminated inside JOS_WHY_MAX. */
static void check_why(int rc, const char *why)
{
	if (rc == JOS_OK)
		return;
	if (rc != JOS_EINVALID)
		abort();
	if (memchr(why, '\0', JOS_WHY_MAX) == NULL || why[0] == '\0')
		abort();
}

static void fresh(char *why)
{
	memset(why, 'X', JOS_WHY_MAX);   /* an unterminated why is then caught */
}

static void values(const char *s, size_t n)
{
	char why[JOS_WHY_MAX], buf[JOS_FMT_BUF];
	int rc;

	/* amounts, in ',' files and in ';' files */
	for (int comma = 0; comma < 2; comma++) {
		jos_cents c = 0, c2 = 0;
		fresh(why);
		rc = fmt_parse_amount(&c, s, n, comma, why);
		check_why(rc, why);
		if (rc == JOS_OK) {
			jos_cents_format(buf, c);
			fresh(why);
			if (fmt_parse_amount(&c2, buf, strlen(buf), false, why) != JOS_OK || c2 != c)
				abort();
			/* what ',' files accept, ';' files accept too */
			if (!comma && fmt_parse_amount(&c2, s, n, true, why) != JOS_OK)
				abort();
		}
	}

	/* dates */
	{
		jos_day d = 0, d2 = 0;
		fresh(why);
		rc = fmt_parse_date(&d, s, n, why);
		check_why(rc, why);
		if (rc == JOS_OK) {
			char db[16];
			jos_day_format(db, d);
			if (strlen(db) != 10)
				abort();
			if (fmt_parse_date(&d2, db, 10, why) != JOS_OK || d2 != d)
				abort();
		}
	}

	/* booleans */
	{
		bool b = false;
		fresh(why);
		rc = fmt_parse_bool(&b, s, n, why);
		check_why(rc, why);
	}

	/* municipality codes: 4 digits, never 0000, and the result reads back to itself */
	{
		char code[5], code2[5];
		fresh(why);
		rc = fmt_parse_code(code, s, n, why);
		check_why(rc, why);
		if (rc == JOS_OK) {
			for (int i = 0; i < 4; i++)
				if (!jos_isdigit(code[i]))
					abort();
			if (code[4] != '\0' || memcmp(code, "0000", 4) == 0)
				abort();
			if (fmt_parse_code(code2, code, 4, why) != JOS_OK || memcmp(code, code2, 5))
				abort();
		}
	}

	/* exact fractions, with and without a sign */
	for (int neg = 0; neg < 2; neg++) {
		jos_micro m = 0, m2 = 0;
		fresh(why);
		rc = fmt_parse_micro(&m, s, n, neg, why);
		check_why(rc, why);
		if (rc == JOS_OK) {
			if (!neg && m < 0)
				abort();
			jos_micro_format(buf, m);
			if (fmt_parse_micro(&m2, buf, strlen(buf), true, why) != JOS_OK || m2 != m)
				abort();
		}
	}

	/* counts */
	{
		int64_t v = 0, v2 = 0;
		fresh(why);
		rc = fmt_parse_count(&v, s, n, why);
		check_why(rc, why);
		if (rc == JOS_OK) {
			if (v < 0)
				abort();
			snprintf(buf, sizeof buf, "%" PRId64, v);
			if (fmt_parse_count(&v2, buf, strlen(buf), why) != JOS_OK || v2 != v)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so that reading one byte too far is caught by ASan. */
	char *s = malloc(size ? size : 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	values(s, size);
	const char *t = s;
	size_t n = size;
	jos_trim(&t, &n);
	if (n != size)
		values(t, n);
	free(s);
	return 0;
}
