/*
 * tests/engine/dataset.c: the dataset model's look-ups and life cycle.
 */
#include "support/test.h"

#include "support/dsbuild.h"

static void test_eng_dataset__find_in_spec_order(void **state)
{
	(void)state;
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	dsb_muni(ds, "0003", true);
	dsb_muni(ds, "0546", false);
	dsb_muni(ds, "1900", false);
	dsb_school(ds, "S10", "0546", "SO", 100, 0);  /* byte order: S10 < S9 */
	dsb_school(ds, "S9", "0003", "VSO", 100, 0);
	dsb_school(ds, "s1", "0003", "VSO", 100, 0);
	dsb_key(ds, "standard", "prorata");
	dsb_key(ds, "Standard", "pooled");
	assert_int_equal(eng_muni_find(ds, "0003"), 0);
	assert_int_equal(eng_muni_find(ds, "0546"), 1);
	assert_int_equal(eng_muni_find(ds, "1900"), 2);
	assert_int_equal(eng_muni_find(ds, "546"), -1);
	assert_int_equal(eng_muni_find(ds, "0547"), -1);
	assert_int_equal(eng_school_find(ds, "S10"), 0);
	assert_int_equal(eng_school_find(ds, "S9"), 1);
	assert_int_equal(eng_school_find(ds, "s1"), 2);
	assert_int_equal(eng_school_find(ds, "S1"), -1);
	assert_int_equal(eng_key_find(ds, "standard"), 0);   /* key ids: case-sensitive */
	assert_int_equal(eng_key_find(ds, "Standard"), 1);
	assert_int_equal(eng_key_find(ds, "STANDARD"), -1);
	assert_int_equal(eng_period_days(ds), 365);
	eng_dataset_free(ds);
	eng_dataset_free(NULL);
}

static void test_eng_dataset__new_is_empty(void **state)
{
	(void)state;
	jos_dataset *ds = eng_dataset_new();
	assert_non_null(ds);
	assert_non_null(ds->arena);
	assert_int_equal(ds->set.default_key_idx, -1);
	assert_int_equal(ds->set.payment_days, -1);
	assert_int_equal(eng_muni_find(ds, "0001"), -1);
	assert_int_equal(eng_school_find(ds, "A"), -1);
	assert_int_equal(eng_key_find(ds, "k"), -1);
	ds->set.period_start = jos_day_from_ymd(2024, 1, 1);
	ds->set.period_end = jos_day_from_ymd(2024, 12, 31);
	assert_int_equal(eng_period_days(ds), 366);
	eng_dataset_free(ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eng_dataset__find_in_spec_order),
		cmocka_unit_test(test_eng_dataset__new_is_empty),
	};
	return cmocka_run_group_tests_name("engine/dataset", tests, NULL, NULL);
}
