/*
 * tests/engine/validate.c: eng_dataset_validate on models built in code, one test per
 * cross-row rule, each asserting the exact FILE:LINE and message.
 */
#include "support/test.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "support/files.h"

#define D(y, m, d) jos_day_from_ymd(y, m, d)

/* period 2025-08-01..2026-07-31; 0546 Leiden (in), 0629 Wassenaar (out); school S1 (SO)
 * with costs; key "standard" (prorata) at line 14; no enrolments, no agreements. */
static jos_dataset *base(void)
{
	jos_dataset *ds = eng_dataset_new();
	assert_non_null(ds);
	ds->settings_line = 2;
	ds->set.name = "test";
	ds->set.period_start = D(2025, 8, 1);
	ds->set.period_end = D(2026, 7, 31);
	ds->set.line_period = 6;
	ds->set.default_key = "standard";
	ds->set.line_default_key = 10;
	ds->keys = calloc(2, sizeof *ds->keys);
	assert_int_equal(key_init(&ds->keys[0], "standard"), JOS_OK);
	ds->keys[0].line = 14;
	ds->keys[0].has_method = true;
	ds->keys[0].method = KEY_PRORATA;
	ds->nkeys = 1;
	ds->set.default_key_idx = 0;

	ds->munis = calloc(2, sizeof *ds->munis);
	ds->munis[0] = (jos_muni){ "0546", "Leiden", true, -1, 2 };
	ds->munis[1] = (jos_muni){ "0629", "Wassenaar", false, -1, 3 };
	ds->nmunis = 2;

	ds->schools = calloc(3, sizeof *ds->schools);
	ds->schools[0] = (jos_school){ .id = "S1", .name = "School 1", .muni = 0, .type = "SO",
				       .provider = "", .line = 2, .has_costs = true,
				       .budget = 100000, .cofinancing = 0, .costs_line = 2 };
	ds->nschools = 1;

	ds->enrol = calloc(16, sizeof *ds->enrol);
	ds->agreements = calloc(4, sizeof *ds->agreements);
	ds->muni_agreement = calloc(2, sizeof *ds->muni_agreement);
	ds->muni_agreement[0] = ds->muni_agreement[1] = -1;
	return ds;
}

static void enrol(jos_dataset *ds, uint32_t pupil, jos_day start, jos_day end, uint32_t line)
{
	ds->enrol[ds->nenrol++] = (jos_enrolment){ .pupil = pupil, .school = 0, .residence = 1,
						   .category = 0, .start = start, .end = end,
						   .line = line };
	if (pupil + 1 > ds->npupils)
		ds->npupils = pupil + 1;
}

static void run(jos_dataset *ds, jos_errlist *errs, size_t expect_errors)
{
	jos_errlist_init(errs);
	size_t n = eng_dataset_validate(ds, errs);
	if (n != expect_errors)
		tst_dump(errs);
	assert_int_equal(n, expect_errors);
	assert_int_equal(errs->nerrors, expect_errors);
}

static void done(jos_dataset *ds, jos_errlist *errs)
{
	jos_errlist_free(errs);
	eng_dataset_free(ds);
}

static void test_eng_validate__valid_model(void **state)
{
	jos_errlist errs;
	jos_dataset *ds = base();
	(void)state;
	enrol(ds, 0, D(2025, 8, 1), JOS_DAY_OPEN, 2);
	enrol(ds, 1, D(2025, 8, 1), D(2026, 1, 30), 3);
	enrol(ds, 1, D(2026, 1, 31), JOS_DAY_OPEN, 4);   /* the next day: no overlap */
	enrol(ds, 2, D(2025, 8, 1), JOS_DAY_OPEN, 5);    /* another pupil, same dates */
	run(ds, &errs, 0);
	done(ds, &errs);
}

static void test_eng_validate__end_before_start(void **state)
{
	jos_errlist errs;
	jos_dataset *ds = base();
	(void)state;
	enrol(ds, 0, D(2025, 9, 1), D(2025, 8, 31), 2);
	run(ds, &errs, 1);
	tst_expect_only_error(&errs, "enrolments.csv", 2,
			      "end_date 2025-08-31 is before start_date 2025-09-01");
	done(ds, &errs);
}

static void test_eng_validate__overlap_on_shared_day(void **state)
{
	jos_errlist errs;
	jos_dataset *ds = base();
	(void)state;
	enrol(ds, 0, D(2025, 8, 1), D(2026, 1, 31), 2);
	enrol(ds, 0, D(2026, 1, 31), JOS_DAY_OPEN, 3);
	run(ds, &errs, 1);
	tst_expect_only_error(&errs, "enrolments.csv", 3,
			      "enrolment overlaps the one at line 2 of the same pupil");
	done(ds, &errs);
}

static void test_eng_validate__overlap_identical_rows(void **state)
{
	jos_errlist errs;
	jos_dataset *ds = base();
	(void)state;
	enrol(ds, 0, D(2025, 8, 1), JOS_DAY_OPEN, 4);
	enrol(ds, 1, D(2025, 8, 1), JOS_DAY_OPEN, 5);
	enrol(ds, 0, D(2025, 8, 1), JOS_DAY_OPEN, 7);
	run(ds, &errs, 1);
	tst_expect_only_error(&errs, "enrolments.csv", 7,
			      "enrolment overlaps the one at line 4 of the same pupil");
	done(ds, &errs);
}

/* The later LINE is reported even when it holds the earlier start. */
static void test_eng_validate__overlap_at_later_line(void **state)
{
	jos_errlist errs;
	jos_dataset *ds = base();
	(void)state;
	enrol(ds, 0, D(2026, 3, 1), JOS_DAY_OPEN, 3);
	enrol(ds, 0, D(2025, 8, 1), D(2026, 3, 1), 9);
	run(ds, &errs, 1);
	tst_expect_only_error(&errs, "enrolments.csv", 9,
			      "enrolment overlaps the one at line 3 of the same pupil");
	done(ds, &errs);
}

/* Intervals entirely outside the period are checked too (over all time). */
static void test_eng_validate__overlap_outside_period(void **state)
{
	jos_errlist errs;
	jos_dataset *ds = base();
	(void)state;
	enrol(ds, 0, D(2020, 8, 1), D(2021, 7, 31), 2);
	enrol(ds, 0, D(2021, 1, 1), D(2021, 6, 30), 3);
	run(ds, &errs, 1);
	tst_expect_only_error(&errs, "enrolments.csv", 3,
			      "enrolment overlaps the one at line 2 of the same pupil");
	done(ds, &errs);
}

/* A long enrolment overlaps a later short one even after an intermediate one ended. */
static void test_eng_validate__overlap_with_long_enrolment(void **state)
{
	jos_errlist errs;
	jos_dataset *ds = base();
	(void)state;
	enrol(ds, 0, D(2025, 1, 1), JOS_DAY_OPEN, 2);
	enrol(ds, 0, D(2025, 2, 1), D(2025, 2, 28), 3);
	enrol(ds, 0, D(2025, 5, 1), D(2025, 5, 31), 4);
	run(ds, &errs, 2);
	tst_expect_problem(&errs, JOS_SEV_ERROR, "enrolments.csv", 3,
			   "enrolment overlaps the one at line 2 of the same pupil");
	tst_expect_problem(&errs, JOS_SEV_ERROR, "enrolments.csv", 4,
			   "enrolment overlaps the one at line 2 of the same pupil");
	done(ds, &errs);
}

/* Random enrolments of 3000 pupils, many with several (so thousands of rows are grouped
 * by the radix sort): every overlap reported is real (same pupil, shared day, at the
 * later line naming the earlier), and a pupil gets one exactly when a check of every
 * pair of its enrolments finds one. */
static void test_eng_validate__overlaps_equal_every_pair(void **state)
{
	enum { N = 6000, P = 3000 };
	jos_dataset *ds = base();
	jos_errlist errs;
	uint32_t seed = 12345;
	bool *expect = calloc(P, sizeof *expect), *got = calloc(P, sizeof *got);
	size_t pupils_with = 0;
	(void)state;
	assert_non_null(expect);
	assert_non_null(got);
	free(ds->enrol);
	ds->enrol = calloc(N, sizeof *ds->enrol);
	assert_non_null(ds->enrol);
	for (uint32_t i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		uint32_t pupil = (seed >> 8) % P;
		seed = seed * 1103515245u + 12345u;
		jos_day start = 20000 + (jos_day)((seed >> 8) % 3000);
		seed = seed * 1103515245u + 12345u;
		enrol(ds, pupil, start, start + (jos_day)((seed >> 8) % 300), i + 2);
	}
	for (uint32_t i = 0; i < N; i++)
		for (uint32_t j = 0; j < i; j++) {
			const jos_enrolment *x = &ds->enrol[i], *y = &ds->enrol[j];
			if (x->pupil == y->pupil && x->start <= y->end && y->start <= x->end)
				expect[x->pupil] = true;
		}
	jos_errlist_init(&errs);
	eng_dataset_validate(ds, &errs);
	assert_int_equal(errs.dropped, 0);
	for (size_t k = 0; k < errs.n; k++) {
		unsigned other = 0;
		assert_int_equal(sscanf(errs.items[k].msg, "enrolment overlaps the one at line %u", &other), 1);
		assert_true(other >= 2 && other < errs.items[k].line);
		const jos_enrolment *x = &ds->enrol[errs.items[k].line - 2], *y = &ds->enrol[other - 2];
		assert_int_equal(x->pupil, y->pupil);
		assert_true(x->start <= y->end && y->start <= x->end);
		got[x->pupil] = true;
	}
	for (uint32_t p = 0; p < P; p++) {
		assert_int_equal(got[p], expect[p]);
		pupils_with += expect[p];
	}
	assert_true(pupils_with > 100);
	free(expect);
	free(got);
	jos_errlist_free(&errs);
	eng_dataset_free(ds);
}

static void test_eng_validate__negative_budget(void **state)
{
	jos_errlist errs;
	jos_dataset *ds = base();
	(void)state;
	ds->schools[0].budget = -100;
	run(ds, &errs, 1);
	tst_expect_only_error(&errs, "costs.csv", 2, "budget -1.00 is negative");
	done(ds, &errs);
}

static void test_eng_validate__negative_cofinancing(void **state)
{
	jos_errlist errs;
	jos_dataset *ds = base();
	(void)state;
	ds->schools[0].cofinancing = -1;
	run(ds, &errs, 1);
	tst_expect_only_error(&errs, "costs.csv", 2, "cofinancing -0.01 is negative");
	done(ds, &errs);
}

static void test_eng_validate__cofinancing_above_budget(void **state)
{
	jos_errlist errs;
	jos_dataset *ds = base();
	(void)state;
	ds->schools[0].cofinancing = 100001;
	run(ds, &errs, 1);
	tst_expect_only_error(&errs, "costs.csv", 2, "cofinancing 1000.01 exceeds budget 1000.00");
	ds->schools[0].cofinancing = 100000;   /* equal: fine (net cost 0) */
	jos_errlist_free(&errs);
	run(ds, &errs, 0);
	done(ds, &errs);
}

static void test_eng_validate__agreement_inside_region(void **state)
{
	jos_errlist errs;
	jos_dataset *ds = base();
	(void)state;
	ds->agreements[0] = (jos_agreement){ .muni = 0, .key = 0, .key_id = "standard", .line = 2 };
	ds->agreements[1] = (jos_agreement){ .muni = 1, .key = 0, .key_id = "standard", .line = 3 };
	ds->nagreements = 2;
	run(ds, &errs, 1);
	tst_expect_only_error(&errs, "agreements.csv", 2,
			      "agreement with municipality 0546 (Leiden), which is inside the region: "
			      "agreements are only for municipalities outside it");
	done(ds, &errs);
}

static void test_eng_validate__agreement_unknown_key(void **state)
{
	jos_errlist errs;
	jos_dataset *ds = base();
	(void)state;
	ds->agreements[0] = (jos_agreement){ .muni = 1, .key = -1, .key_id = "Standard", .line = 2 };
	ds->nagreements = 1;
	run(ds, &errs, 1);
	tst_expect_only_error(&errs, "agreements.csv", 2,
			      "unknown key 'Standard' (no [key Standard] in settlement.ini)");
	done(ds, &errs);
}

static void test_eng_validate__default_key_unknown(void **state)
{
	jos_errlist errs;
	jos_dataset *ds = base();
	(void)state;
	ds->set.default_key = "standaard";
	ds->set.default_key_idx = -1;
	run(ds, &errs, 1);
	tst_expect_only_error(&errs, "settlement.ini", 10,
			      "default_key 'standaard' has no [key standaard] section");
	done(ds, &errs);
}

static void test_eng_validate__count_date_outside_period(void **state)
{
	jos_errlist errs;
	jos_dataset *ds = base();
	(void)state;
	ds->set.measure = JOS_MEASURE_HEADCOUNT;
	ds->set.count_date = D(2026, 8, 1);
	ds->set.line_count_date = 9;
	run(ds, &errs, 1);
	tst_expect_only_error(&errs, "settlement.ini", 9,
			      "count_date 2026-08-01 is outside the period 2025-08-01 to 2026-07-31");
	jos_errlist_free(&errs);
	ds->set.count_date = D(2026, 7, 31);   /* the last day is inside */
	run(ds, &errs, 0);
	done(ds, &errs);
}

static void test_eng_validate__tariff_missing_for_type(void **state)
{
	jos_errlist errs;
	jos_err err;
	jos_dataset *ds = base();
	(void)state;
	ds->schools[1] = (jos_school){ .id = "S2", .name = "School 2", .type = "SO/VSO",
				       .provider = "", .line = 3, .has_costs = true,
				       .costs_line = 3 };
	ds->schools[2] = (jos_school){ .id = "S3", .name = "School 3", .type = "so",
				       .provider = "", .line = 4, .has_costs = true,
				       .costs_line = 4 };
	ds->nschools = 3;
	assert_int_equal(key_init(&ds->keys[1], "tarief"), JOS_OK);
	ds->keys[1].line = 20;
	ds->nkeys = 2;
	assert_int_equal(key_param_set(&ds->keys[1], "method", "tariff", "settlement.ini", 21, &err),
			 JOS_OK);
	/* "so" matches tariff.SO (case-insensitive); SO/VSO is a type of its own */
	assert_int_equal(key_param_set(&ds->keys[1], "tariff.SO", "4500.00", "settlement.ini", 22,
				       &err), JOS_OK);
	run(ds, &errs, 1);
	tst_expect_only_error(&errs, "settlement.ini", 20,
			      "[key tarief] has no tariff for school type 'SO/VSO' (schools.csv line 3): "
			      "add tariff.SO/VSO = ...");
	jos_errlist_free(&errs);
	assert_int_equal(key_param_set(&ds->keys[1], "tariff. so/vso ", "5000", "settlement.ini", 23,
				       &err), JOS_OK);
	run(ds, &errs, 0);
	done(ds, &errs);
}

static void test_eng_validate__weight_for_absent_category(void **state)
{
	jos_errlist errs;
	jos_err err;
	jos_dataset *ds = base();
	static const char *cats[] = { "", "intensief" };
	(void)state;
	ds->categories = malloc(sizeof cats);
	memcpy(ds->categories, cats, sizeof cats);
	ds->ncategories = 2;
	enrol(ds, 0, D(2025, 8, 1), JOS_DAY_OPEN, 2);
	assert_int_equal(key_param_set(&ds->keys[0], "weight.Intensief", "1.5", "settlement.ini", 15,
				       &err), JOS_OK);
	assert_int_equal(key_param_set(&ds->keys[0], "weight.intensif", "2", "settlement.ini", 16,
				       &err), JOS_OK);
	run(ds, &errs, 0);   /* a warning, not an error */
	assert_int_equal(errs.nwarnings, 1);
	tst_expect_problem(&errs, JOS_SEV_WARNING, "settlement.ini", 16,
			   "[key standard] weight.intensif: no enrolment has category 'intensif'");
	done(ds, &errs);
}

/* A big model (enough rows and pupils with several for the threads): pupils with 1-4
 * enrolments in random order, consecutive or, with overlaps, some overlapping; with
 * bad, a few that end before they start. */
static jos_dataset *big(uint64_t seed, bool overlaps, bool bad)
{
	jos_dataset *ds = base();
	const size_t n = 200000;
	free(ds->enrol);
	ds->enrol = calloc(n, sizeof *ds->enrol);
	assert_non_null(ds->enrol);
	ds->nenrol = 0;
	uint64_t x = seed * 2654435761u + 1;
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
	uint32_t pupil = 0;
	while (ds->nenrol < n) {
		size_t k = 1 + RND() % 4;
		jos_day d = D(2025, 1, 1) + (jos_day)(RND() % 300);
		for (size_t j = 0; j < k && ds->nenrol < n; j++) {
			jos_day len = (jos_day)(RND() % 90);
			jos_day start = d, end = d + len;
			if (overlaps && RND() % 50 == 0)
				start = d - 1 - (jos_day)(RND() % 5);   /* into the previous one */
			if (bad && RND() % 20000 == 0)
				end = start - 1;
			ds->enrol[ds->nenrol] = (jos_enrolment){ .pupil = pupil, .school = 0,
								 .residence = 1, .start = start,
								 .end = end, .line = 0 };
			ds->nenrol++;
			d = end + 1 + (jos_day)(RND() % 30);
		}
		pupil++;
	}
	ds->npupils = pupil;
	/* rows in random order; lines are the file order */
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = RND() % (i + 1);
		jos_enrolment t = ds->enrol[i];
		ds->enrol[i] = ds->enrol[j];
		ds->enrol[j] = t;
	}
#undef RND
	for (size_t i = 0; i < n; i++)
		ds->enrol[i].line = (uint32_t)i + 2;
	return ds;
}

/* Overlaps counted the plain way: each pupil's rows (by scanning), sorted by (start,
 * line), swept as SPEC says; for checking the grouping of the fast way. */
static int span_cmp_t(const void *a, const void *b)
{
	const jos_enrolment *x = *(const jos_enrolment *const *)a, *y = *(const jos_enrolment *const *)b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->line > y->line) - (x->line < y->line);
}

static size_t plain_overlaps(const jos_dataset *ds)
{
	size_t found = 0, n = ds->nenrol;
	const jos_enrolment **by = malloc(n * sizeof *by);
	size_t *first = calloc(ds->npupils + 1, sizeof *first);
	assert_non_null(by);
	assert_non_null(first);
	for (size_t i = 0; i < n; i++)   /* counting sort by pupil */
		first[ds->enrol[i].pupil + 1]++;
	for (size_t p = 0; p < ds->npupils; p++)
		first[p + 1] += first[p];
	size_t *at = malloc((ds->npupils + 1) * sizeof *at);
	assert_non_null(at);
	memcpy(at, first, (ds->npupils + 1) * sizeof *at);
	for (size_t i = 0; i < n; i++)
		by[at[ds->enrol[i].pupil]++] = &ds->enrol[i];
	for (size_t p = 0; p < ds->npupils; p++) {
		const jos_enrolment **g = by + first[p];
		size_t k = first[p + 1] - first[p];
		qsort(g, k, sizeof *g, span_cmp_t);
		for (size_t j = 1, r = 0; j < k; j++) {
			if (g[j]->start <= g[r]->end)
				found++;
			if (g[j]->end > g[r]->end)
				r = j;
		}
	}
	free(at);
	free(first);
	free(by);
	return found;
}

/* The same problems, in the same order, whatever the thread count. */
static void test_eng_validate__threads_same_problems(void **state)
{
	(void)state;
	for (int v = 0; v < 4; v++) {
		jos_dataset *ds = big((uint64_t)v + 7, v >= 1, v >= 2);
		if (v == 3)
			ds->enrol[12345].pupil = ds->npupils + 3;   /* not a pupil: not checked */
		jos_errlist one;
		jos_errlist_init(&one);
		size_t n1 = eng_dataset_validate(ds, &one);
		if (v == 0)
			assert_int_equal(n1, 0);
		else
			assert_true(n1 > 0);
		if (v == 1)   /* overlaps only: as many as the plain way finds */
			assert_int_equal(n1, plain_overlaps(ds));
		for (int nt = 2; nt <= 8; nt += nt == 3 ? 5 : 1) {
			jos_errlist many;
			jos_errlist_init(&many);
			size_t n2 = eng_dataset_validate_mt(ds, &many, nt);
			assert_int_equal(n2, n1);
			assert_int_equal(many.n, one.n);
			assert_int_equal(many.nwarnings, one.nwarnings);
			for (size_t i = 0; i < one.n; i++) {
				assert_int_equal(many.items[i].sev, one.items[i].sev);
				assert_int_equal(many.items[i].line, one.items[i].line);
				assert_string_equal(many.items[i].file, one.items[i].file);
				assert_string_equal(many.items[i].msg, one.items[i].msg);
			}
			jos_errlist_free(&many);
		}
		done(ds, &one);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eng_validate__valid_model),
		cmocka_unit_test(test_eng_validate__end_before_start),
		cmocka_unit_test(test_eng_validate__overlap_on_shared_day),
		cmocka_unit_test(test_eng_validate__overlap_identical_rows),
		cmocka_unit_test(test_eng_validate__overlap_at_later_line),
		cmocka_unit_test(test_eng_validate__overlap_outside_period),
		cmocka_unit_test(test_eng_validate__overlap_with_long_enrolment),
		cmocka_unit_test(test_eng_validate__overlaps_equal_every_pair),
		cmocka_unit_test(test_eng_validate__negative_budget),
		cmocka_unit_test(test_eng_validate__negative_cofinancing),
		cmocka_unit_test(test_eng_validate__cofinancing_above_budget),
		cmocka_unit_test(test_eng_validate__agreement_inside_region),
		cmocka_unit_test(test_eng_validate__agreement_unknown_key),
		cmocka_unit_test(test_eng_validate__default_key_unknown),
		cmocka_unit_test(test_eng_validate__count_date_outside_period),
		cmocka_unit_test(test_eng_validate__tariff_missing_for_type),
		cmocka_unit_test(test_eng_validate__weight_for_absent_category),
		cmocka_unit_test(test_eng_validate__threads_same_problems),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
