/*
 * tests/engine/apply.c: one key over every municipality: G, min_pupils, discount and
 * phase_in with half-up rounding, the cap (N == cap is invoiced), and the line
 * amounts split by largest remainder. Cents derived in the comments. Period
 * 2025-08-01..2026-07-31; every pupil is enrolled the whole period.
 */
#include "support/test.h"

#include <string.h>

#include "support/dsbuild.h"

static jos_dataset *base(void)
{
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	dsb_muni(ds, "0100", true);
	dsb_muni(ds, "0200", false);
	dsb_muni(ds, "0300", false);
	return ds;
}

static void pupils(jos_dataset *ds, uint32_t *next, const char *school, const char *code, int n)
{
	for (int i = 0; i < n; i++)
		dsb_enrol(ds, (*next)++, school, code, "2025-08-01", NULL, NULL);
}

typedef struct {
	eng_measures *m;
	eng_key_result *r;
} applied;

static applied apply(const jos_dataset *ds, const char *key)
{
	applied a;
	jos_err err;
	int k = eng_key_find(ds, key);
	assert_true(k >= 0);
	assert_int_equal(eng_measures_build(&a.m, ds, &err), JOS_OK);
	int rc = eng_key_apply(&a.r, ds, a.m, &ds->keys[k], &err);
	if (rc != JOS_OK)
		fail_msg("eng_key_apply: %s", err.msg);
	return a;
}

static void applied_free(applied *a)
{
	eng_key_result_free(a->r);
	eng_measures_free(a->m);
}

static jos_cents amount_of(const applied *a, const jos_dataset *ds, const char *school,
			   const char *code)
{
	long i = dsb_cell(ds, a->m, school, code);
	return i < 0 ? -1 : a->r->amount[i];
}

static void test_eng_key_apply__threshold(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	uint32_t p = 0;
	dsb_school(ds, "A", "0100", "SO", 10000, 0);
	pupils(ds, &p, "A", "0200", 1);
	pupils(ds, &p, "A", "0300", 2);
	dsb_key(ds, "k", "prorata");
	dsb_param(ds, "k", "min_pupils", "2");
	applied a = apply(ds, "k");
	/* 10000 over 1:2 = 3333.33 and 6666.67 -> 3333 and 6667 */
	assert_int_equal(a.r->muni_gross[1], 3333);
	assert_int_equal(a.r->muni_gross[2], 6667);
	/* 0200 has 1 pupil < 2: nothing owed, the gross is still shown */
	assert_int_equal(a.r->muni_status[1], JOS_STATUS_BELOW_THRESHOLD);
	assert_int_equal(a.r->muni_net[1], 0);
	assert_int_equal(amount_of(&a, ds, "A", "0200"), 0);
	/* 0300 has exactly 2: invoiced in full */
	assert_int_equal(a.r->muni_status[2], JOS_STATUS_INVOICED);
	assert_int_equal(a.r->muni_net[2], 6667);
	assert_int_equal(amount_of(&a, ds, "A", "0300"), 6667);
	applied_free(&a);
	eng_dataset_free(ds);
}

static void test_eng_key_apply__threshold_counts_distinct_pupils(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	dsb_school(ds, "A", "0100", "SO", 10000, 0);
	dsb_school(ds, "B", "0100", "SO", 10000, 0);
	/* one pupil changes school within 0200: one distinct pupil, not two */
	dsb_enrol(ds, 0, "A", "0200", "2025-08-01", "2025-12-31", NULL);
	dsb_enrol(ds, 0, "B", "0200", "2026-01-01", NULL, NULL);
	/* a mover counts once in each municipality */
	dsb_enrol(ds, 1, "A", "0300", "2025-08-01", "2025-12-31", NULL);
	dsb_enrol(ds, 1, "A", "0100", "2026-01-01", NULL, NULL);
	dsb_enrol(ds, 2, "B", "0300", "2025-08-01", NULL, NULL);
	dsb_key(ds, "k", "prorata");
	dsb_param(ds, "k", "min_pupils", "2");
	applied a = apply(ds, "k");
	assert_int_equal(a.m->muni_pupils[1], 1);
	assert_int_equal(a.r->muni_status[1], JOS_STATUS_BELOW_THRESHOLD);
	assert_int_equal(a.m->muni_pupils[2], 2);
	assert_int_equal(a.r->muni_status[2], JOS_STATUS_INVOICED);
	assert_int_equal(a.m->muni_pupils[0], 1);
	applied_free(&a);
	eng_dataset_free(ds);
}

static void test_eng_key_apply__discount_times_phase_in(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	uint32_t p = 0;
	dsb_school(ds, "A", "0100", "SO", 123457, 0);
	dsb_school(ds, "B", "0100", "SO", 2, 0);
	pupils(ds, &p, "A", "0200", 3);   /* G(0200) = 123457 */
	pupils(ds, &p, "B", "0300", 1);   /* G(0300) = 2 */
	dsb_key(ds, "half", "prorata");
	dsb_param(ds, "half", "discount", "0.1");
	dsb_param(ds, "half", "phase_in", "0.5");
	dsb_key(ds, "quarter", "prorata");
	dsb_param(ds, "quarter", "discount", "0.75");
	dsb_key(ds, "thirds", "prorata");
	dsb_param(ds, "thirds", "discount", "0.333333");
	dsb_param(ds, "thirds", "phase_in", "0.333333");
	/* 123457 * 0.9 * 0.5 = 55555.65 -> 55556; 2 * 0.45 = 0.9 -> 1 */
	applied a = apply(ds, "half");
	assert_int_equal(a.r->muni_net[1], 55556);
	assert_int_equal(a.r->muni_net[2], 1);
	applied_free(&a);
	/* 123457 * 0.25 = 30864.25 -> 30864; 2 * 0.25 = 0.5 exactly -> 1 (half-up) */
	a = apply(ds, "quarter");
	assert_int_equal(a.r->muni_net[1], 30864);
	assert_int_equal(a.r->muni_net[2], 1);
	assert_int_equal(amount_of(&a, ds, "B", "0300"), 1);
	applied_free(&a);
	/* 123457 * 0.666667 * 0.333333 = 27434.875171... -> 27435 (exact, no floats) */
	a = apply(ds, "thirds");
	assert_int_equal(a.r->muni_net[1], 27435);
	assert_int_equal(a.r->muni_gross[1], 123457);
	applied_free(&a);
	eng_dataset_free(ds);
}

static void test_eng_key_apply__cap(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	uint32_t p = 0;
	dsb_school(ds, "A", "0100", "SO", 10000, 0);
	dsb_school(ds, "B", "0100", "SO", 10001, 0);
	pupils(ds, &p, "A", "0200", 1);   /* N(0200) = 100.00 */
	pupils(ds, &p, "B", "0300", 1);   /* N(0300) = 100.01 */
	dsb_key(ds, "k", "prorata");
	dsb_param(ds, "k", "cap", "100.00");
	applied a = apply(ds, "k");
	/* N == cap is invoiced; N > cap is capped at the cap */
	assert_int_equal(a.r->muni_status[1], JOS_STATUS_INVOICED);
	assert_int_equal(a.r->muni_net[1], 10000);
	assert_int_equal(a.r->muni_status[2], JOS_STATUS_CAPPED);
	assert_int_equal(a.r->muni_net[2], 10000);
	assert_int_equal(a.r->muni_gross[2], 10001);
	assert_int_equal(amount_of(&a, ds, "B", "0300"), 10000);
	applied_free(&a);
	eng_dataset_free(ds);
}

static void test_eng_key_apply__amounts_split_by_largest_remainder(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	uint32_t p = 0;
	dsb_school(ds, "A", "0100", "SO", 10001, 0);
	dsb_school(ds, "B", "0100", "SO", 5000, 0);
	dsb_school(ds, "C", "0100", "SO", 5000, 0);
	dsb_school(ds, "D", "0100", "SO", 5000, 0);
	pupils(ds, &p, "A", "0200", 1);
	pupils(ds, &p, "B", "0200", 1);
	pupils(ds, &p, "C", "0300", 1);
	pupils(ds, &p, "D", "0300", 1);
	dsb_key(ds, "half", "prorata");
	dsb_param(ds, "half", "discount", "0.5");
	dsb_key(ds, "tie", "prorata");
	dsb_param(ds, "tie", "phase_in", "0.5001");
	/* 0200: G = 15001, N = 7500.5 -> 7501 over 10001:5000 = 5000.83 and 2500.17:
	 * the cent to A -> 5001 and 2500 */
	applied a = apply(ds, "half");
	assert_int_equal(a.r->muni_net[1], 7501);
	assert_int_equal(amount_of(&a, ds, "A", "0200"), 5001);
	assert_int_equal(amount_of(&a, ds, "B", "0200"), 2500);
	applied_free(&a);
	/* 0300: G = 10000, N = 10000 * 0.5001 = 5001 over 1:1 = 2500.5 each: an exact tie,
	 * the cent to the smaller school_id C */
	a = apply(ds, "tie");
	assert_int_equal(a.r->muni_net[2], 5001);
	assert_int_equal(amount_of(&a, ds, "C", "0300"), 2501);
	assert_int_equal(amount_of(&a, ds, "D", "0300"), 2500);
	applied_free(&a);
	eng_dataset_free(ds);
}

static void test_eng_key_apply__gross_overflow_refused(void **state)
{
	(void)state;
	jos_dataset *ds = base();
	uint32_t p = 0;
	jos_err err;
	eng_measures *m;
	eng_key_result *r = NULL;
	/* two schools of 5e18 cents each, all pupils in 0200: G = 1e19 > INT64_MAX */
	dsb_school(ds, "A", "0100", "SO", 5000000000000000000LL, 0);
	dsb_school(ds, "B", "0100", "SO", 5000000000000000000LL, 0);
	pupils(ds, &p, "A", "0200", 1);
	pupils(ds, &p, "B", "0200", 1);
	dsb_key(ds, "k", "prorata");
	assert_int_equal(eng_measures_build(&m, ds, &err), JOS_OK);
	assert_int_equal(eng_key_apply(&r, ds, m, &ds->keys[0], &err), JOS_EOVERFLOW);
	assert_null(r);
	assert_non_null(strstr(err.msg, "0200"));
	eng_measures_free(m);
	eng_dataset_free(ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eng_key_apply__threshold),
		cmocka_unit_test(test_eng_key_apply__threshold_counts_distinct_pupils),
		cmocka_unit_test(test_eng_key_apply__discount_times_phase_in),
		cmocka_unit_test(test_eng_key_apply__cap),
		cmocka_unit_test(test_eng_key_apply__amounts_split_by_largest_remainder),
		cmocka_unit_test(test_eng_key_apply__gross_overflow_refused),
	};
	return cmocka_run_group_tests_name("engine/apply", tests, NULL, NULL);
}
