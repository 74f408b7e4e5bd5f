/*
 * tests/engine/measures.c: days inside the period, headcount on count_date, cells,
 * distinct pupils per cell and per municipality (movers count once in each), and a
 * randomised comparison with a brute-force count.
 */
#include "support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/dsbuild.h"

/* Period 2025-08-01..2026-07-31: D = 365. Municipalities 0100 (inside), 0200, 0300.
 * School A (index 0) and B (index 1). */
static jos_dataset *example(void)
{
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	dsb_muni(ds, "0100", true);
	dsb_muni(ds, "0200", false);
	dsb_muni(ds, "0300", false);
	dsb_school(ds, "A", "0100", "SO", 100000, 0);
	dsb_school(ds, "B", "0100", "VSO", 100000, 0);
	/* pupil 0 crosses both period edges: d = 365 */
	dsb_enrol(ds, 0, "A", "0200", "2025-01-01", "2027-01-01", NULL);
	/* pupil 1 starts 1 September, open end: d = 365 - 31 (August) = 334; category LVB */
	dsb_enrol(ds, 1, "A", "0200", "2025-09-01", NULL, "LVB");
	/* pupil 2 moves house on 1 January: 0200 for Aug..Dec = 31+30+31+30+31 = 153 days,
	 * 0300 for Jan..Jul = 365 - 153 = 212 days */
	dsb_enrol(ds, 2, "A", "0200", "2025-08-01", "2025-12-31", "");
	dsb_enrol(ds, 2, "A", "0300", "2026-01-01", "2026-07-31", " lvb ");
	/* pupil 3 leaves and returns: two enrolments in one cell, 10 + 10 days */
	dsb_enrol(ds, 3, "B", "0200", "2025-08-01", "2025-08-10", NULL);
	dsb_enrol(ds, 3, "B", "0200", "2025-09-01", "2025-09-10", NULL);
	/* pupil 4 entirely before the period: d = 0, no cell, not counted */
	dsb_enrol(ds, 4, "B", "0300", "2024-01-01", "2024-12-31", NULL);
	return ds;
}

static int64_t catx_of(const eng_measures *m, size_t cell, uint16_t cat)
{
	const eng_cell *c = &m->cells[cell];
	for (uint32_t j = c->cat_first; j < c->cat_first + c->ncat; j++)
		if (m->catx[j].category == cat)
			return m->catx[j].x;
	return -1;
}

static void test_eng_measures__days(void **state)
{
	(void)state;
	jos_dataset *ds = example();
	eng_measures *m;
	jos_err err;
	assert_int_equal(eng_measures_build(&m, ds, &err), JOS_OK);
	assert_int_equal(m->period_days, 365);
	assert_int_equal(m->ncells, 3);
	/* (A,0200): pupils 0,1,2; days 365 + 334 + 153 = 852 */
	assert_int_equal(m->cells[0].school, 0);
	assert_int_equal(m->cells[0].muni, 1);
	assert_int_equal(m->cells[0].pupils, 3);
	assert_int_equal(m->cells[0].pupil_days, 852);
	assert_int_equal(m->cells[0].ncat, 2);
	assert_int_equal(catx_of(m, 0, 0), 365 + 153);
	assert_int_equal(catx_of(m, 0, 1), 334);   /* "LVB" and " lvb " are one category */
	/* (A,0300): the mover's second half */
	assert_int_equal(m->cells[1].muni, 2);
	assert_int_equal(m->cells[1].pupils, 1);
	assert_int_equal(m->cells[1].pupil_days, 212);
	assert_int_equal(catx_of(m, 1, 1), 212);
	/* (B,0200): one pupil, two enrolments */
	assert_int_equal(m->cells[2].school, 1);
	assert_int_equal(m->cells[2].pupils, 1);
	assert_int_equal(m->cells[2].pupil_days, 20);
	/* municipalities: the mover counts once in 0200 and once in 0300 */
	assert_int_equal(m->muni_pupils[0], 0);
	assert_int_equal(m->muni_pupils[1], 4);
	assert_int_equal(m->muni_pupils[2], 1);
	assert_int_equal(m->muni_pupil_days[1], 872);
	assert_int_equal(m->muni_pupil_days[2], 212);
	/* indices */
	assert_int_equal(m->school_first[0], 0);
	assert_int_equal(m->school_first[1], 2);
	assert_int_equal(m->school_first[2], 3);
	assert_int_equal(m->muni_first[0], 0);
	assert_int_equal(m->muni_first[1], 0);
	assert_int_equal(m->muni_first[2], 2);
	assert_int_equal(m->muni_first[3], 3);
	assert_int_equal(m->by_muni[0], 0);
	assert_int_equal(m->by_muni[1], 2);
	assert_int_equal(m->by_muni[2], 1);
	eng_measures_free(m);
	eng_dataset_free(ds);
}

static void test_eng_measures__headcount_on_count_date(void **state)
{
	(void)state;
	jos_dataset *ds = example();
	eng_measures *m;
	jos_err err;
	dsb_headcount(ds, "2025-10-01");
	assert_int_equal(eng_measures_build(&m, ds, &err), JOS_OK);
	assert_int_equal(m->measure, JOS_MEASURE_HEADCOUNT);
	assert_int_equal(m->ncells, 3);
	/* (A,0200): pupils 0, 1, 2 are enrolled on 1 October: x = 2 (no category) + 1 (LVB) */
	assert_int_equal(m->cells[0].pupils, 3);
	assert_int_equal(catx_of(m, 0, 0), 2);
	assert_int_equal(catx_of(m, 0, 1), 1);
	assert_int_equal(m->cells[0].pupil_days, 852);   /* PupilYears stays sum d_e / D */
	/* (A,0300) and (B,0200): nobody on 1 October; the cells keep their days */
	assert_int_equal(m->cells[1].pupils, 0);
	assert_int_equal(catx_of(m, 1, 1), 0);
	assert_int_equal(m->cells[1].pupil_days, 212);
	assert_int_equal(m->cells[2].pupils, 0);
	assert_int_equal(m->muni_pupils[1], 3);
	assert_int_equal(m->muni_pupils[2], 0);
	eng_measures_free(m);
	eng_dataset_free(ds);
}

static void test_eng_measures__count_date_is_inclusive(void **state)
{
	(void)state;
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	eng_measures *m;
	jos_err err;
	dsb_muni(ds, "0100", true);
	dsb_school(ds, "A", "0100", "SO", 0, 0);
	dsb_enrol(ds, 0, "A", "0100", "2025-08-01", "2026-02-01", NULL);  /* ends on it */
	dsb_enrol(ds, 1, "A", "0100", "2026-02-01", NULL, NULL);          /* starts on it */
	dsb_enrol(ds, 2, "A", "0100", "2026-02-02", NULL, NULL);          /* the day after */
	dsb_headcount(ds, "2026-02-01");
	assert_int_equal(eng_measures_build(&m, ds, &err), JOS_OK);
	assert_int_equal(m->ncells, 1);
	assert_int_equal(m->cells[0].pupils, 2);
	assert_int_equal(catx_of(m, 0, 0), 2);
	eng_measures_free(m);
	eng_dataset_free(ds);
}

/* One pupil with many enrolments takes the sorted path of the pupil deduplication. */
static void test_eng_measures__pupil_with_many_enrolments(void **state)
{
	(void)state;
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	eng_measures *m;
	jos_err err;
	dsb_muni(ds, "0100", true);
	dsb_muni(ds, "0200", false);
	dsb_school(ds, "A", "0100", "SO", 0, 0);
	dsb_school(ds, "B", "0100", "SO", 0, 0);
	jos_day d0 = ds->set.period_start;
	for (int i = 0; i < 40; i++)
		dsb_enrol_raw(ds, 7, (uint32_t)(i % 2), (uint16_t)(i / 20), d0 + 2 * i, d0 + 2 * i,
			      0);
	dsb_enrol_raw(ds, 0, 0, 0, d0, d0, 0);
	assert_int_equal(eng_measures_build(&m, ds, &err), JOS_OK);
	assert_int_equal(m->ncells, 4);
	assert_int_equal(m->cells[0].pupils, 2);      /* (A,0100): pupils 0 and 7 */
	assert_int_equal(m->cells[0].pupil_days, 11);
	assert_int_equal(m->cells[1].pupils, 1);      /* (A,0200) */
	assert_int_equal(m->cells[1].pupil_days, 10);
	assert_int_equal(m->muni_pupils[0], 2);
	assert_int_equal(m->muni_pupils[1], 1);
	eng_measures_free(m);
	eng_dataset_free(ds);
}

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)((rng_state >> 33) % n);
}

/* The measures of ds against a brute-force O(n^2) count. */
static void check_brute_force(const jos_dataset *ds, const eng_measures *m, bool hc)
{
	const size_t S = ds->nschools, NM = ds->nmunis;
	jos_day ps = ds->set.period_start, pe = ds->set.period_end, cd = ds->set.count_date;
	const jos_enrolment *E = ds->enrol;
	size_t ncells = 0;
	for (size_t s = 0; s < S; s++)
		for (size_t mu = 0; mu < NM; mu++) {
			int64_t days = 0, x = 0, pupils = 0;
			bool any = false;
			for (size_t i = 0; i < ds->nenrol; i++) {
				if (E[i].school != s || E[i].residence != mu)
					continue;
				int64_t a = E[i].start > ps ? E[i].start : ps;
				int64_t b = E[i].end < pe ? E[i].end : pe;
				int64_t d = b >= a ? b - a + 1 : 0;
				bool act = hc ? (E[i].start <= cd && cd <= E[i].end) : d > 0;
				any |= d > 0 || act;
				days += d;
				x += hc ? act : d;
				if (!act)
					continue;
				bool seen = false;
				for (size_t j = 0; j < i; j++)
					if (E[j].pupil == E[i].pupil && E[j].school == s &&
					    E[j].residence == mu &&
					    (hc ? (E[j].start <= cd && cd <= E[j].end)
						: (E[j].end >= ps && E[j].start <= pe)))
						seen = true;
				pupils += !seen;
			}
			if (!any)
				continue;
			assert_true(ncells < m->ncells);
			const eng_cell *c = &m->cells[ncells++];
			assert_int_equal(c->school, s);
			assert_int_equal(c->muni, mu);
			assert_int_equal(c->pupil_days, days);
			assert_int_equal(c->pupils, pupils);
			int64_t cx = 0;
			for (uint32_t j = c->cat_first; j < c->cat_first + c->ncat; j++) {
				if (j > c->cat_first)   /* categories sorted, each once */
					assert_true(m->catx[j - 1].category < m->catx[j].category);
				cx += m->catx[j].x;
			}
			assert_int_equal(cx, x);
		}
	assert_int_equal(ncells, m->ncells);
	for (size_t mu = 0; mu < NM; mu++) {
		int64_t pupils = 0;
		for (uint32_t p = 0; p < ds->npupils; p++) {
			bool in = false;
			for (size_t i = 0; i < ds->nenrol && !in; i++) {
				int64_t a = E[i].start > ps ? E[i].start : ps;
				int64_t b = E[i].end < pe ? E[i].end : pe;
				in = E[i].pupil == p && E[i].residence == mu &&
				     (hc ? (E[i].start <= cd && cd <= E[i].end) : b >= a);
			}
			pupils += in;
		}
		assert_int_equal(m->muni_pupils[mu], pupils);
	}
}

static int enrol_by_school(const void *pa, const void *pb)
{
	const jos_enrolment *a = pa, *b = pb;
	if (a->school != b->school)
		return a->school < b->school ? -1 : 1;
	return (a->line > b->line) - (a->line < b->line);   /* stable: file order */
}

/* Random datasets against a brute-force O(n^2) count; every third one lists the
 * enrolments school by school (the path without an order array). */
static void test_eng_measures__random_against_brute_force(void **state)
{
	(void)state;
	rng_state = 12345;
	for (int iter = 0; iter < 300; iter++) {
		jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
		size_t NM = 1 + rnd(5), S = 1 + rnd(4), P = 1 + rnd(30), N = rnd(120);
		char code[16], id[16];
		for (size_t i = 0; i < NM; i++) {
			snprintf(code, sizeof code, "%04u", (unsigned)(i + 1) % 10000u);
			dsb_muni(ds, code, rnd(2));
		}
		for (size_t i = 0; i < S; i++) {
			snprintf(id, sizeof id, "S%u", (unsigned)i % 100u);
			dsb_school(ds, id, "0001", "SO", 0, 0);
		}
		dsb_category(ds, "x");
		dsb_category(ds, "y");
		bool hc = rnd(2);
		if (hc)
			dsb_headcount(ds, "2026-02-01");
		jos_day ps = ds->set.period_start;
		for (size_t i = 0; i < N; i++) {
			jos_day st = ps - 100 + (jos_day)rnd(500);
			jos_day en = rnd(5) ? st + (jos_day)rnd(200) : JOS_DAY_OPEN;
			dsb_enrol_raw(ds, rnd((uint32_t)P), rnd((uint32_t)S), (uint16_t)rnd((uint32_t)NM),
				      st, en, (uint16_t)rnd(3));
		}
		if (iter % 3 == 1)
			qsort(ds->enrol, ds->nenrol, sizeof *ds->enrol, enrol_by_school);
		eng_measures *m, *mt;
		jos_err err;
		assert_int_equal(eng_measures_build(&m, ds, &err), JOS_OK);
		check_brute_force(ds, m, hc);
		/* ranges of schools on threads, joined in order: the same measures */
		assert_int_equal(eng_measures_build_mt(&mt, ds, 2 + iter % 3, &err), JOS_OK);
		check_brute_force(ds, mt, hc);
		assert_int_equal(m->ncells, mt->ncells);
		assert_memory_equal(m->cells, mt->cells, m->ncells * sizeof *m->cells);
		assert_memory_equal(m->by_muni, mt->by_muni, m->ncells * sizeof *m->by_muni);
		eng_measures_free(mt);
		eng_measures_free(m);
		eng_dataset_free(ds);
	}
}

/* Municipalities times categories too many for the dense category index: the
 * categories of a cell are found on its list. */
static void test_eng_measures__many_categories(void **state)
{
	(void)state;
	rng_state = 777;
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	char code[16], name[16];
	for (unsigned i = 0; i < 1100; i++) {
		snprintf(code, sizeof code, "%04u", i + 1);
		dsb_muni(ds, code, i % 2);
	}
	dsb_school(ds, "A", "0001", "SO", 0, 0);
	dsb_school(ds, "B", "0001", "SO", 0, 0);
	for (unsigned c = 0; c < 1000; c++) {
		snprintf(name, sizeof name, "c%u", c);
		dsb_category(ds, name);
	}
	jos_day ps = ds->set.period_start;
	for (uint32_t i = 0; i < 300; i++) {
		jos_day st = ps - 30 + (jos_day)rnd(400);
		dsb_enrol_raw(ds, rnd(40), rnd(2), (uint16_t)rnd(4), st, st + (jos_day)rnd(100),
			      (uint16_t)rnd(6));
	}
	eng_measures *m;
	jos_err err;
	assert_true(ds->nmunis * ds->ncategories > ((size_t)1 << 20));
	assert_int_equal(eng_measures_build(&m, ds, &err), JOS_OK);
	check_brute_force(ds, m, false);
	eng_measures_free(m);
	eng_dataset_free(ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eng_measures__days),
		cmocka_unit_test(test_eng_measures__headcount_on_count_date),
		cmocka_unit_test(test_eng_measures__count_date_is_inclusive),
		cmocka_unit_test(test_eng_measures__pupil_with_many_enrolments),
		cmocka_unit_test(test_eng_measures__random_against_brute_force),
		cmocka_unit_test(test_eng_measures__many_categories),
	};
	return cmocka_run_group_tests_name("engine/measures", tests, NULL, NULL);
}
