/*
 * tests/keys/methods.c: the gross shares of prorata, pooled and tariff, and the
 * min_school_share rule, worked by hand (the cents are derived in the comments).
 * Unless said otherwise the period is 2025-08-01..2026-07-31 (D = 365) and every
 * enrolment covers the whole period, so each pupil weighs 365 days.
 */
#include "support/test.h"

#include <stdlib.h>
#include <string.h>

#include "support/dsbuild.h"

typedef struct {
	eng_measures *m;
	jos_i128 *w;
	jos_cents *g;
	bool *unap, *zero;
	int rc;
	jos_err err;
} run_t;

static run_t run(const jos_dataset *ds, int key)
{
	run_t r;
	memset(&r, 0, sizeof r);
	assert_int_equal(eng_measures_build(&r.m, ds, &r.err), JOS_OK);
	size_t nc = r.m->ncells ? r.m->ncells : 1;
	r.w = calloc(nc, sizeof *r.w);
	r.g = calloc(nc, sizeof *r.g);
	r.unap = calloc(ds->nschools + 1, sizeof *r.unap);
	r.zero = calloc(ds->nschools + 1, sizeof *r.zero);
	r.rc = key_weighted_measure(r.w, ds, r.m, &ds->keys[key], &r.err);
	if (r.rc == JOS_OK)
		r.rc = key_gross_shares(r.g, r.unap, r.zero, ds, r.m, &ds->keys[key], r.w, &r.err);
	return r;
}

static void run_free(run_t *r)
{
	eng_measures_free(r->m);
	free(r->w);
	free(r->g);
	free(r->unap);
	free(r->zero);
}

/* g(s,m) of a school id and municipality code; -1 when there is no such cell. */
static jos_cents g_of(const run_t *r, const jos_dataset *ds, const char *school,
		      const char *code)
{
	long i = dsb_cell(ds, r->m, school, code);
	return i < 0 ? -1 : r->g[i];
}

static jos_dataset *base(void)
{
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	dsb_muni(ds, "0100", true);
	dsb_muni(ds, "0200", false);
	dsb_muni(ds, "0300", false);
	return ds;
}

/* n full-period pupils of school at residence; pupils numbered from *next */
static void pupils(jos_dataset *ds, uint32_t *next, const char *school, const char *code,
		   int n, const char *cat)
{
	for (int i = 0; i < n; i++)
		dsb_enrol(ds, (*next)++, school, code, "2025-08-01", NULL, cat);
}

static void test_key_prorata__tie_to_smaller_code(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	uint32_t p = 0;
	dsb_school(ds, "A", "0100", "SO", 10000, 0);
	pupils(ds, &p, "A", "0100", 1, NULL);
	pupils(ds, &p, "A", "0200", 1, NULL);
	pupils(ds, &p, "A", "0300", 1, NULL);
	dsb_key(ds, "k", "prorata");
	run_t r = run(ds, 0);
	assert_int_equal(r.rc, JOS_OK);
	/* 10000 cents over 1:1:1: quotas 3333.33 each, floors 9999; the last cent goes to
	 * an exact tie of fractional parts, so to the smallest code, 0100 (inside: it is
	 * shared all the same, and charged to no one) */
	assert_int_equal(g_of(&r, ds, "A", "0100"), 3334);
	assert_int_equal(g_of(&r, ds, "A", "0200"), 3333);
	assert_int_equal(g_of(&r, ds, "A", "0300"), 3333);
	assert_false(r.unap[0]);
	run_free(&r);
	eng_dataset_free(ds);
}

static void test_key_prorata__remainder_cent_and_cofinancing(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	uint32_t p = 0;
	dsb_school(ds, "A", "0100", "SO", 1000, 0);
	dsb_school(ds, "B", "0100", "SO", 100000, 40000);   /* C = 1000.00 - 400.00 */
	dsb_school(ds, "C", "0100", "SO", 50000, 0);        /* nobody: apportions nothing */
	pupils(ds, &p, "A", "0200", 1, NULL);
	pupils(ds, &p, "A", "0300", 2, NULL);
	pupils(ds, &p, "B", "0200", 1, NULL);
	pupils(ds, &p, "B", "0300", 2, NULL);
	dsb_key(ds, "k", "prorata");
	run_t r = run(ds, 0);
	assert_int_equal(r.rc, JOS_OK);
	/* A: 1000 cents over 1:2: quotas 333.33 and 666.67, floors 999; the cent goes to
	 * the larger fraction .67 of 0300, although 0200 is the smaller code */
	assert_int_equal(g_of(&r, ds, "A", "0200"), 333);
	assert_int_equal(g_of(&r, ds, "A", "0300"), 667);
	/* B: C = 60000 cents over 1:2 = 20000 and 40000 */
	assert_int_equal(g_of(&r, ds, "B", "0200"), 20000);
	assert_int_equal(g_of(&r, ds, "B", "0300"), 40000);
	assert_false(r.unap[1]);
	assert_true(r.unap[2]);
	run_free(&r);
	eng_dataset_free(ds);
}

static void test_key_prorata__weight(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	uint32_t p = 0;
	dsb_school(ds, "A", "0100", "SO", 10001, 0);
	pupils(ds, &p, "A", "0200", 1, "LVB");
	pupils(ds, &p, "A", "0300", 1, NULL);
	dsb_key(ds, "k", "prorata");
	dsb_param(ds, "k", "weight.lvb", "1.5");
	run_t r = run(ds, 0);
	assert_int_equal(r.rc, JOS_OK);
	/* M = 365 * 1.5 and 365 * 1: quotas 10001 * 1.5/2.5 = 6000.6 and 4000.4 */
	assert_true(r.w[0] == (jos_i128)365 * 1500000);
	assert_int_equal(g_of(&r, ds, "A", "0200"), 6001);
	assert_int_equal(g_of(&r, ds, "A", "0300"), 4000);
	run_free(&r);
	eng_dataset_free(ds);
}

static void test_key_prorata__weight_zero_unapportions(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	uint32_t p = 0;
	dsb_school(ds, "A", "0100", "SO", 10000, 0);
	pupils(ds, &p, "A", "0200", 2, "x");
	dsb_key(ds, "k", "prorata");
	dsb_param(ds, "k", "weight.X", "0");
	run_t r = run(ds, 0);
	assert_int_equal(r.rc, JOS_OK);
	assert_true(r.unap[0]);   /* sum M = 0: nothing apportioned, a warning upstream */
	assert_int_equal(g_of(&r, ds, "A", "0200"), 0);
	run_free(&r);
	eng_dataset_free(ds);
}

static void test_key_pooled__two_stage_split(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	uint32_t p = 0;
	dsb_school(ds, "A", "0100", "SO", 30000, 0);
	dsb_school(ds, "B", "0100", "SO", 10000, 0);
	dsb_school(ds, "C", "0100", "SO", 99900, 0);  /* no pupils: not in the pool */
	pupils(ds, &p, "A", "0200", 1, NULL);
	pupils(ds, &p, "B", "0200", 1, NULL);
	pupils(ds, &p, "B", "0300", 1, NULL);
	dsb_key(ds, "k", "pooled");
	run_t r = run(ds, 0);
	assert_int_equal(r.rc, JOS_OK);
	/* pool 30000 + 10000 = 40000 over 0200:0300 = 2:1: quotas 26666.67 and 13333.33,
	 * floors 39999, the cent to 0200 (.67): 26667 and 13333.
	 * 0200's 26667 over A:B = 1:1: 13333.5 each, an exact tie: the cent to A. */
	assert_int_equal(g_of(&r, ds, "A", "0200"), 13334);
	assert_int_equal(g_of(&r, ds, "B", "0200"), 13333);
	assert_int_equal(g_of(&r, ds, "B", "0300"), 13333);
	assert_true(r.unap[2]);
	run_free(&r);
	eng_dataset_free(ds);
}

static void test_key_tariff__days_half_up(void **state)
{
	(void)state;
	/* 2024 is a leap year: D = 366, even, so exact halves exist */
	jos_dataset *ds = dsb_new("2024-01-01", "2024-12-31");
	dsb_muni(ds, "0100", true);
	dsb_muni(ds, "0200", false);
	dsb_muni(ds, "0300", false);
	dsb_school(ds, "A", "0100", "SO/VSO", 0, 0);
	dsb_school(ds, "B", "0100", "VSO", 0, 0);
	dsb_enrol(ds, 0, "A", "0200", "2024-03-01", "2024-03-01", NULL);  /* 1 day */
	dsb_enrol(ds, 1, "A", "0300", "2024-03-01", "2024-03-03", NULL);  /* 3 days */
	dsb_enrol(ds, 2, "B", "0200", "2023-12-01", "2025-01-31", NULL);  /* 366 days */
	dsb_key(ds, "k", "tariff");
	dsb_param(ds, "k", "tariff.so/vso", "1.83");
	dsb_param(ds, "k", "tariff.VSO", "4500.00");
	run_t r = run(ds, 0);
	assert_int_equal(r.rc, JOS_OK);
	/* 183 cents * 1/366 = 0.5 -> 1 (half-up); 183 * 3/366 = 1.5 -> 2 */
	assert_int_equal(g_of(&r, ds, "A", "0200"), 1);
	assert_int_equal(g_of(&r, ds, "A", "0300"), 2);
	/* a full year at 4500.00 */
	assert_int_equal(g_of(&r, ds, "B", "0200"), 450000);
	run_free(&r);
	eng_dataset_free(ds);
}

static void test_key_tariff__fraction_of_year(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	dsb_school(ds, "A", "0100", "SO", 0, 0);
	dsb_enrol(ds, 0, "A", "0200", "2025-09-01", NULL, NULL);   /* 334 days */
	dsb_key(ds, "k", "tariff");
	dsb_param(ds, "k", "tariff.SO", "4500.00");
	run_t r = run(ds, 0);
	/* 450000 * 334 / 365 = 411780.82 -> 411781 */
	assert_int_equal(g_of(&r, ds, "A", "0200"), 411781);
	run_free(&r);
	eng_dataset_free(ds);
}

static void test_key_tariff__headcount_with_weight(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	dsb_school(ds, "A", "0100", "SO", 0, 0);
	dsb_enrol(ds, 0, "A", "0200", "2025-09-01", NULL, "zware");
	dsb_enrol(ds, 1, "A", "0200", "2025-08-01", "2026-02-01", NULL);
	dsb_enrol(ds, 2, "A", "0200", "2026-02-02", NULL, NULL);      /* after count date */
	dsb_headcount(ds, "2026-02-01");
	dsb_key(ds, "k", "tariff");
	dsb_param(ds, "k", "tariff.SO", "4500.00");
	dsb_param(ds, "k", "weight.zware", "1.5");
	run_t r = run(ds, 0);
	/* on 1 February: pupil 0 (weight 1.5) and pupil 1: 4500.00 * 2.5 = 11250.00 */
	assert_int_equal(g_of(&r, ds, "A", "0200"), 1125000);
	run_free(&r);
	eng_dataset_free(ds);
}

static void test_key_tariff__missing_type_is_an_error(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	dsb_school(ds, "A", "0100", "SBO", 0, 0);
	dsb_enrol(ds, 0, "A", "0200", "2025-09-01", NULL, NULL);
	dsb_key(ds, "k", "tariff");
	dsb_param(ds, "k", "tariff.SO", "4500.00");
	run_t r = run(ds, 0);
	assert_int_equal(r.rc, JOS_EINVALID);
	assert_non_null(strstr(r.err.msg, "SBO"));
	run_free(&r);
	eng_dataset_free(ds);
}

static void test_key_min_school_share__exact_boundary(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	uint32_t p = 0;
	dsb_school(ds, "A", "0100", "SO", 100000, 0);
	pupils(ds, &p, "A", "0100", 9, NULL);
	pupils(ds, &p, "A", "0200", 1, NULL);
	dsb_key(ds, "ten", "prorata");
	dsb_param(ds, "ten", "min_school_share", "0.1");
	dsb_key(ds, "more", "prorata");
	dsb_param(ds, "more", "min_school_share", "0.100001");
	/* outside share 1/10: not smaller than 0.1, so 0200 keeps 100000 / 10 = 10000 */
	run_t r = run(ds, 0);
	assert_int_equal(g_of(&r, ds, "A", "0200"), 10000);
	assert_int_equal(g_of(&r, ds, "A", "0100"), 90000);
	assert_false(r.zero[0]);
	run_free(&r);
	/* 0.1 < 0.100001: 0200's share becomes 0 and is not redistributed */
	r = run(ds, 1);
	assert_int_equal(g_of(&r, ds, "A", "0200"), 0);
	assert_int_equal(g_of(&r, ds, "A", "0100"), 90000);
	assert_true(r.zero[0]);
	run_free(&r);
	eng_dataset_free(ds);
}

static void test_key_prorata__overflow_refused(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	uint32_t p = 0;
	dsb_school(ds, "A", "0100", "SO", INT64_MAX / 2, 0);
	pupils(ds, &p, "A", "0200", 1, "huge");
	pupils(ds, &p, "A", "0300", 1, NULL);
	dsb_key(ds, "k", "prorata");
	/* weight 1e12: M = 365 * 1e18 millionths; C * M = 4.6e18 * 3.65e20 > 2^127 */
	dsb_param(ds, "k", "weight.huge", "1000000000000");
	run_t r = run(ds, 0);
	assert_int_equal(r.rc, JOS_EOVERFLOW);
	assert_non_null(strstr(r.err.msg, "A"));
	run_free(&r);
	eng_dataset_free(ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_prorata__tie_to_smaller_code),
		cmocka_unit_test(test_key_prorata__remainder_cent_and_cofinancing),
		cmocka_unit_test(test_key_prorata__weight),
		cmocka_unit_test(test_key_prorata__weight_zero_unapportions),
		cmocka_unit_test(test_key_pooled__two_stage_split),
		cmocka_unit_test(test_key_tariff__days_half_up),
		cmocka_unit_test(test_key_tariff__fraction_of_year),
		cmocka_unit_test(test_key_tariff__headcount_with_weight),
		cmocka_unit_test(test_key_tariff__missing_type_is_an_error),
		cmocka_unit_test(test_key_min_school_share__exact_boundary),
		cmocka_unit_test(test_key_prorata__overflow_refused),
	};
	return cmocka_run_group_tests_name("keys/methods", tests, NULL, NULL);
}
