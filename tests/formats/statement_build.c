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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_stmt_build__header_lines_and_sums),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
