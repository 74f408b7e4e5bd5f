/*
 * Tests of formats/statement_build.c: a statement's content from a settled dataset
 * (built in code with tests/support/dsbuild.h): id, header, reference, lines in
 * school_id byte order, pupil-years, sums, and a schema-valid XML.
 */
#include "support/test.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "formats/formats.h"
#include "formats/sign_int.h"
#include "formats/text_int.h"
#include "support/dsbuild.h"

/* Schools S10 and S9 (S10 first in byte order), both in region 0100, cost 1000.00 and
 * 300.00. 0200 (agreement with reference) has a pupil at each school, 0300 (agreement
 * without) one at S9 for half the period, 0100 pupils live in the region. */
static jos_dataset *sample(void)
{
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	ds->set.issuer_id = "HR 0546";
	ds->set.statement_date = dsb_day("2026-09-15");
	memset(ds->input_digest, 'a', 64);
	ds->input_digest[64] = '\0';
	dsb_muni(ds, "0100", true);
	dsb_muni(ds, "0200", false);
	dsb_muni(ds, "0300", false);
	dsb_school(ds, "S10", "0100", "SO", 100000, 0);
	dsb_school(ds, "S9", "0100", "SO/VSO", 30000, 0);
	dsb_key(ds, "standard", "prorata");
	dsb_param(ds, "standard", "weight.lwoo", "1.5");
	dsb_enrol(ds, 0, "S10", "0100", "2025-08-01", NULL, NULL);
	dsb_enrol(ds, 1, "S10", "0200", "2025-08-01", NULL, NULL);
	dsb_enrol(ds, 2, "S9", "0200", "2025-08-01", NULL, "lwoo");
	dsb_enrol(ds, 3, "S9", "0300", "2025-08-01", "2026-01-30", NULL);
	dsb_enrol(ds, 4, "S9", "0100", "2025-08-01", NULL, NULL);
	dsb_agree(ds, "0200", "standard", "REF-1");
	dsb_agree(ds, "0300", "standard", NULL);
	return ds;
}

static const eng_row *row_of(const eng_settlement *s, const jos_dataset *ds, const char *code)
{
	int m = eng_muni_find(ds, code);
	for (size_t i = 0; i < s->nrows; i++)
		if (s->rows[i].muni == (uint16_t)m)
			return &s->rows[i];
	return NULL;
}

static void test_fmt_stmt_build__header_lines_and_sums(void **state)
{
	(void)state;
	jos_dataset *ds = sample();
	eng_settlement *s = NULL;
	jos_errlist w;
	jos_err err;
	fmt_stmt st;
	jos_errlist_init(&w);
	assert_int_equal(eng_settle(&s, ds, &w, &err), JOS_OK);
	const eng_row *r = row_of(s, ds, "0200");
	assert_non_null(r);
	assert_true(r->statement);
	assert_int_equal(fmt_stmt_build(&st, ds, s, r, &err), JOS_OK);
	/* the space of "HR 0546" cannot be in an XML Id */
	assert_string_equal(st.statement_id, "JOS-HR_0546-20250801-0200");
	assert_string_equal(st.issuer_id, "HR 0546");
	assert_string_equal(st.recipient_code, "0200");
	assert_string_equal(st.recipient_name, "Gemeente 0200");
	assert_string_equal(st.reference, "REF-1");
	assert_int_equal(st.issue_date, dsb_day("2026-09-15"));
	assert_string_equal(st.key.id, "standard");
	assert_int_equal(st.nlines, 2);
	assert_string_equal(st.lines[0].school, "S10");
	assert_string_equal(st.lines[1].school, "S9");
	assert_string_equal(st.lines[1].type, "SO/VSO");
	assert_string_equal(st.lines[0].pupil_years, "1.0000");
	assert_int_equal(st.lines[0].school_net_cost, 100000);
	/* S10: 0100 and 0200 one pupil each all year: 500.00 each */
	assert_int_equal(st.lines[0].gross, 50000);
	assert_int_equal(st.lines[0].amount + st.lines[1].amount, st.net);
	assert_int_equal(st.lines[0].gross + st.lines[1].gross, st.gross);
	assert_int_equal(st.status, JOS_STATUS_INVOICED);

	/* its XML, with the signature template, is valid against the schema */
	void *doc = NULL;
	fmt_schema *sc = NULL;
	assert_int_equal(fmt_stmt_to_xml(&doc, &st, &err), JOS_OK);
	assert_int_equal(fmt_sign_template(doc, false, NULL, &err), JOS_OK);
	assert_int_equal(fmt_schema_open(&sc, &err), JOS_OK);
	assert_int_equal(fmt_schema_validate(sc, doc, &err), JOS_OK);
	fmt_schema_free(sc);
	xmlFreeDoc(doc);
	fmt_stmt_free(&st);

	/* 0300: no reference, so none in the statement */
	r = row_of(s, ds, "0300");
	assert_non_null(r);
	assert_int_equal(fmt_stmt_build(&st, ds, s, r, &err), JOS_OK);
	assert_null(st.reference);
	assert_int_equal(st.nlines, 1);
	assert_string_equal(st.lines[0].school, "S9");
	/* 2025-08-01 .. 2026-01-30 inclusive: 31+30+31+30+31+30 = 183 days; 183/365 = 0.50137 */
	assert_string_equal(st.lines[0].pupil_years, "0.5014");
	fmt_stmt_free(&st);

	/* a row in the region has no statement */
	r = row_of(s, ds, "0100");
	assert_non_null(r);
	assert_false(r->statement);
	assert_int_equal(fmt_stmt_build(&st, ds, s, r, &err), JOS_EINTERNAL);

	eng_settlement_free(s);
	eng_dataset_free(ds);
	jos_errlist_free(&w);
}

static int setup(void **state)
{
	jos_err err;
	(void)state;
	return fmt_crypto_init(&err) == JOS_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	fmt_crypto_shutdown();
	return 0;
}

/* The pupil-years' fast formatting (fmt_ratio4_text) writes what jos_ratio_format writes
 * with 4 places, and declines outside its range. */
static void test_fmt_stmt_build__ratio4_as_jos_ratio_format(void **state)
{
	(void)state;
	const int64_t lim_n = (int64_t)1 << 44, lim_d = (int64_t)1 << 32;
	int64_t nums[] = { 0, 1, 2, 182, 183, 364, 365, 366, 729, 730, 5000, 99999, lim_n - 1,
			   lim_n, -1, -365, INT64_MAX, INT64_MIN };
	int64_t dens[] = { 1, 2, 3, 7, 365, 366, 730, 20000, 0x0FFFFFFE, lim_d - 1, lim_d, 0, -365 };
	uint64_t x = 88172645463325252ull;
	for (size_t k = 0; k < 300000; k++) {
		int64_t num, den;
		if (k < (sizeof nums / sizeof nums[0]) * (sizeof dens / sizeof dens[0])) {
			num = nums[k / (sizeof dens / sizeof dens[0])];
			den = dens[k % (sizeof dens / sizeof dens[0])];
		} else {   /* xorshift, at every magnitude below and around the limits */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			num = (int64_t)((x >> 1) >> (x % 40 + 19));
			den = (int64_t)((x >> 7) % 4 == 0 ? (x >> 20) % 1000 + 1 : (x >> 30) >> (x % 31));
			if (den == 0)
				den = 365;
		}
		char got[40];
		size_t n = fmt_ratio4_text(got, num, den);
		bool in = num >= 0 && num < lim_n && den > 0 && den < lim_d;
		assert_int_equal(n != 0, in);
		if (!in)
			continue;
		char want[JOS_FMT_BUF];
		got[n] = '\0';
		jos_ratio_format(want, num, den, 4);
		assert_string_equal(got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_stmt_build__header_lines_and_sums),
		cmocka_unit_test(test_fmt_stmt_build__ratio4_as_jos_ratio_format),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
