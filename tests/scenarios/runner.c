/*
 * tests/scenarios/runner.c: the scenario runner against a hand-worked example, to the
 * cent, and against the settlement itself (a variant equal to a settlement key gives
 * exactly the settlement's amounts).
 *
 * The example (period 2025-08-01..2026-07-31, D = 365, every enrolment the whole year):
 *   0100 in region, 0200 and 0300 outside, 0400 outside without pupils.
 *   S1 (C = 10000.00): 0100 x2, 0200 x1, 0300 x1   prorata: 5000.00 / 2500.00 / 2500.00
 *   S2 (C = 6000.00 - 1000.00 = 5000.00): 0100 x1, 0200 x2
 *      prorata 1666.67 (largest remainder .67 wins the cent) / 3333.33
 *   key standard (prorata): G(0200) = 5833.33 (3 pupils), G(0300) = 2500.00 (1 pupil)
 *   outside cost (unit-weight prorata) = 5833.33 + 2500.00 = 8333.33
 *   A = standard + min_pupils 2: 0200 5833.33 invoiced, 0300 0.00 below_threshold
 *      recovered 5833.33, share 583333/833333 = 69.99998.. -> 70.00 %, 1 paying
 *   B = pooled, discount 0.25: pool 15000.00 over 3:3:1 units ->
 *      642857.14 / 642857.14 / 214285.71 cents -> 6428.57 / 6428.57 / 2142.86 (the
 *      leftover cent to 0300's .71); N = G * 0.75 half-up: 4821.43 (482142.75),
 *      1607.15 (160714.5); recovered 6428.58, share 642858/833333 -> 77.14 %
 *      deltas vs A: -1011.90, +1607.15
 *   sweep A.min_pupils = 0, 1, 2, 4: 8333.33 (100.00 %, 2), 8333.33, 5833.33 (70.00 %, 1),
 *      0.00 (0.00 %, 0 paying, nobody largest)
 */
#include "support/test.h"

#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "scenarios/scenarios.h"
#include "support/dsbuild.h"

static jos_dataset *example(void)
{
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	dsb_muni(ds, "0100", true);
	dsb_muni(ds, "0200", false);
	dsb_muni(ds, "0300", false);
	dsb_muni(ds, "0400", false);
	dsb_school(ds, "S1", "0100", "SO", 1000000, 0);
	dsb_school(ds, "S2", "0100", "VSO", 600000, 100000);
	dsb_enrol(ds, 0, "S1", "0100", "2025-08-01", NULL, NULL);
	dsb_enrol(ds, 1, "S1", "0100", "2025-08-01", NULL, NULL);
	dsb_enrol(ds, 2, "S1", "0200", "2025-08-01", NULL, NULL);
	dsb_enrol(ds, 3, "S1", "0300", "2025-08-01", NULL, NULL);
	dsb_enrol(ds, 4, "S2", "0100", "2025-08-01", NULL, NULL);
	dsb_enrol(ds, 5, "S2", "0200", "2025-08-01", "2026-07-31", NULL);
	dsb_enrol(ds, 6, "S2", "0200", "2024-01-01", NULL, NULL);
	dsb_key(ds, "standard", "prorata");
	dsb_key(ds, "capped", "prorata");
	dsb_param(ds, "capped", "cap", "5000.00");
	dsb_agree(ds, "0200", "standard", "REF-1");
	return ds;
}

static const char scenario_text[] =
	"[scenario]\n"
	"name = Keys for the 2026 negotiation\n"
	"baseline = A\n"
	"apply_to = all\n"
	"\n"
	"[variant A]\n"
	"label = Per school, actual cost\n"
	"key = standard\n"
	"min_pupils = 2\n"
	"\n"
	"[variant B]\n"
	"label = Region-wide average\n"
	"method = pooled\n"
	"discount = 0.25\n"
	"\n"
	"[sweep]\n"
	"variant = A\n"
	"parameter = min_pupils\n"
	"values = 0, 1, 2, 4\n";

static scn_scenario *parse(const char *text, const jos_dataset *ds)
{
	scn_scenario *sc = NULL;
	jos_errlist errs;
	jos_errlist_init(&errs);
	int rc = scn_scenario_parse_mem(&sc, text, strlen(text), "scenario.ini", ds, &errs);
	if (rc != JOS_OK)
		for (size_t i = 0; i < errs.n; i++)
			print_error("%s:%u: %s\n", errs.items[i].file, errs.items[i].line,
				    errs.items[i].msg);
	assert_int_equal(rc, JOS_OK);
	jos_errlist_free(&errs);
	return sc;
}

static scn_result *run(const jos_dataset *ds, const scn_scenario *sc)
{
	scn_result *r = NULL;
	jos_err err;
	jos_err_clear(&err);
	int rc = scn_run(&r, ds, sc, &err);
	if (rc != JOS_OK)
		print_error("%s\n", err.msg);
	assert_int_equal(rc, JOS_OK);
	return r;
}

static void check_totals(const scn_result *r, const scn_totals *t, jos_cents rec, const char *share,
			 size_t paying, jos_cents largest, const char *who)
{
	char buf[JOS_FMT_BUF];
	assert_int_equal(t->recovered, rec);
	assert_string_equal(scn_share_format(buf, t->recovered, r->outside_cost), share);
	assert_int_equal(t->paying, paying);
	assert_int_equal(t->largest, largest);
	if (who)
		assert_string_equal(r->ds->munis[t->largest_muni].code, who);
	else
		assert_int_equal(t->largest_muni, -1);
}

static void test_scn_runner__hand_worked(void **state)
{
	(void)state;
	jos_dataset *ds = example();
	scn_scenario *sc = parse(scenario_text, ds);
	scn_result *r = run(ds, sc);
	char buf[JOS_FMT_BUF];

	assert_int_equal(r->nmunis, 2); /* 0200 and 0300; not 0100 (in region), not 0400 */
	assert_string_equal(ds->munis[r->munis[0]].code, "0200");
	assert_string_equal(ds->munis[r->munis[1]].code, "0300");
	assert_int_equal(r->pupils[0], 3);
	assert_int_equal(r->pupils[1], 1);
	assert_string_equal(scn_pupil_years_format(buf, r->pupil_days[0], r->period_days), "3.0000");
	assert_int_equal(r->outside_cost, 833333);

	const scn_cell *a0 = scn_result_cell(r, 0, 0), *a1 = scn_result_cell(r, 0, 1);
	assert_int_equal(a0->gross, 583333);
	assert_int_equal(a0->net, 583333);
	assert_int_equal(a0->status, JOS_STATUS_INVOICED);
	assert_int_equal(a0->delta, 0);
	assert_int_equal(a1->gross, 250000);
	assert_int_equal(a1->net, 0);
	assert_int_equal(a1->status, JOS_STATUS_BELOW_THRESHOLD);

	const scn_cell *b0 = scn_result_cell(r, 1, 0), *b1 = scn_result_cell(r, 1, 1);
	assert_int_equal(b0->gross, 642857);
	assert_int_equal(b0->net, 482143);
	assert_int_equal(b0->delta, -101190);
	assert_int_equal(b1->gross, 214286);
	assert_int_equal(b1->net, 160715);
	assert_int_equal(b1->delta, 160715);
	assert_int_equal(b1->status, JOS_STATUS_INVOICED);

	check_totals(r, &r->totals[0], 583333, "70.00", 1, 583333, "0200");
	check_totals(r, &r->totals[1], 642858, "77.14", 2, 482143, "0200");

	assert_int_equal(r->nsweep, 4);
	check_totals(r, &r->sweep_totals[0], 833333, "100.00", 2, 583333, "0200");
	check_totals(r, &r->sweep_totals[1], 833333, "100.00", 2, 583333, "0200");
	check_totals(r, &r->sweep_totals[2], 583333, "70.00", 1, 583333, "0200");
	check_totals(r, &r->sweep_totals[3], 0, "0.00", 0, 0, NULL);

	scn_result_free(r);
	scn_scenario_free(sc);
	eng_dataset_free(ds);
}

static void test_scn_runner__apply_to_agreements(void **state)
{
	(void)state;
	jos_dataset *ds = example();
	scn_scenario *sc = parse("[scenario]\nbaseline = B\napply_to = agreements\n"
				 "[variant A]\nkey = standard\n[variant B]\nkey = capped\n", ds);
	scn_result *r = run(ds, sc);
	assert_int_equal(r->nmunis, 1);
	assert_string_equal(ds->munis[r->munis[0]].code, "0200");
	assert_int_equal(r->outside_cost, 583333);
	assert_int_equal(scn_result_cell(r, 1, 0)->net, 500000);
	assert_int_equal(scn_result_cell(r, 1, 0)->status, JOS_STATUS_CAPPED);
	assert_int_equal(scn_result_cell(r, 0, 0)->delta, 83333);  /* vs baseline B */
	assert_int_equal(scn_result_cell(r, 1, 0)->delta, 0);
	check_totals(r, &r->totals[1], 500000, "85.71", 1, 500000, "0200");
	assert_string_equal(sc->name, "scenario"); /* from the file name */
	scn_result_free(r);
	scn_scenario_free(sc);
	eng_dataset_free(ds);
}

/* A variant that is a settlement key unchanged gives the settlement's amounts. */
static void test_scn_runner__variant_equals_settlement(void **state)
{
	(void)state;
	jos_dataset *ds = example();
	scn_scenario *sc = parse("[variant S]\nkey = standard\n", ds);
	scn_result *r = run(ds, sc);
	eng_settlement *s = NULL;
	jos_errlist warnings;
	jos_err err;
	jos_errlist_init(&warnings);
	assert_int_equal(eng_settle(&s, ds, &warnings, &err), JOS_OK);
	size_t compared = 0;
	for (size_t k = 0; k < s->nrows; k++) {
		const eng_row *row = &s->rows[k];
		for (size_t i = 0; i < r->nmunis; i++) {
			if (r->munis[i] != row->muni)
				continue;
			const scn_cell *c = scn_result_cell(r, 0, i);
			assert_int_equal(c->gross, row->gross);
			if (row->statement) {
				assert_int_equal(c->net, row->net);
				assert_int_equal(c->status, row->status);
			}
			assert_int_equal(r->pupils[i], row->pupils);
			assert_int_equal(r->pupil_days[i], row->pupil_days);
			compared++;
		}
	}
	assert_int_equal(compared, 2);
	eng_settlement_free(s);
	jos_errlist_free(&warnings);
	scn_result_free(r);
	scn_scenario_free(sc);
	eng_dataset_free(ds);
}

/* A sweep over weight.<category> replaces the variant's weight, not adds to it. */
static void test_scn_runner__sweep_replaces_weight(void **state)
{
	(void)state;
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	dsb_muni(ds, "0100", true);
	dsb_muni(ds, "0200", false);
	dsb_school(ds, "S1", "0100", "SO", 300000, 0);
	dsb_enrol(ds, 0, "S1", "0100", "2025-08-01", NULL, NULL);
	dsb_enrol(ds, 1, "S1", "0200", "2025-08-01", NULL, "LVB");
	dsb_key(ds, "w", "prorata");
	dsb_param(ds, "w", "weight.lvb", "2");
	scn_scenario *sc = parse("[variant A]\nkey = w\nweight.LVB = 3\n"
				 "[sweep]\nvariant = A\nparameter = weight.lvb\nvalues = 1, 2, 0\n", ds);
	scn_result *r = run(ds, sc);
	assert_int_equal(scn_result_cell(r, 0, 0)->net, 225000);  /* 3/4 of 3000.00 */
	assert_int_equal(r->sweep_totals[0].recovered, 150000);   /* 1/2 */
	assert_int_equal(r->sweep_totals[1].recovered, 200000);   /* 2/3 */
	assert_int_equal(r->sweep_totals[2].recovered, 0);        /* weight 0 */
	assert_int_equal(r->outside_cost, 150000);                /* unit weights */
	scn_result_free(r);
	scn_scenario_free(sc);
	eng_dataset_free(ds);
}

/* On a bundled example region: one variant per settlement key; every statement row of
 * the settlement equals the variant of its key, and every no_agreement row's exposure
 * equals the default key's gross. */
static void test_scn_runner__example_region_matches_settlement(void **state)
{
	(void)state;
	jos_dataset *ds = NULL;
	jos_errlist errs;
	jos_err err;
	char text[4096] = "";
	jos_errlist_init(&errs);
	if (fmt_dataset_load(&ds, "scenarios/holland-rijnland", &errs) != JOS_OK) {
		eng_dataset_free(ds);
		jos_errlist_free(&errs);
		skip(); /* the example region is not there (run from the repository root) */
	}
	for (size_t k = 0; k < ds->nkeys; k++) {
		size_t n = strlen(text);
		snprintf(text + n, sizeof text - n, "[variant V%zu]\nkey = %s\n", k, ds->keys[k].id);
	}
	scn_scenario *sc = parse(text, ds);
	scn_result *r = run(ds, sc);
	eng_settlement *s = NULL;
	assert_int_equal(eng_settle(&s, ds, &errs, &err), JOS_OK);
	size_t statements = 0, exposures = 0;
	for (size_t k = 0; k < s->nrows; k++) {
		const eng_row *row = &s->rows[k];
		size_t i = 0;
		while (i < r->nmunis && r->munis[i] != row->muni)
			i++;
		if (ds->munis[row->muni].in_region) {
			assert_int_equal(i, r->nmunis); /* never covered */
			continue;
		}
		assert_true(i < r->nmunis);
		assert_int_equal(r->pupils[i], row->pupils);
		assert_int_equal(r->pupil_days[i], row->pupil_days);
		const scn_cell *c = scn_result_cell(r, (size_t)row->key, i);
		assert_int_equal(c->gross, row->gross);
		if (row->statement) {
			assert_int_equal(c->net, row->net);
			assert_int_equal(c->status, row->status);
			statements++;
		} else {
			assert_int_equal(row->status, JOS_STATUS_NO_AGREEMENT);
			assert_int_equal(row->key, ds->set.default_key_idx);
			exposures++;
		}
	}
	assert_true(statements > 0);
	print_message("compared %zu statements and %zu exposures\n", statements, exposures);
	eng_settlement_free(s);
	scn_result_free(r);
	scn_scenario_free(sc);
	jos_errlist_free(&errs);
	eng_dataset_free(ds);
}

/* The sweep on threads: the same measures, cells and totals per value as one thread, for
 * 2, 3 and 8 threads (a value skipped or written twice by a job would differ). */
static void test_scn_runner__threads_same_result(void **state)
{
	(void)state;
	jos_dataset *ds = NULL;
	jos_errlist errs;
	char text[4096];
	jos_errlist_init(&errs);
	if (fmt_dataset_load(&ds, "scenarios/holland-rijnland", &errs) != JOS_OK) {
		eng_dataset_free(ds);
		jos_errlist_free(&errs);
		skip(); /* the example region is not there (run from the repository root) */
	}
	int n = snprintf(text, sizeof text, "[variant A]\nkey = %s\n[variant B]\nmethod = pooled\n"
			 "[sweep]\nvariant = A\nparameter = min_pupils\nvalues = 0", ds->keys[0].id);
	for (int v = 1; v < 40; v++)
		n += snprintf(text + n, sizeof text - (size_t)n, ", %d", v);
	snprintf(text + n, sizeof text - (size_t)n, "\n");
	scn_scenario *sc = parse(text, ds);
	scn_result *one = run(ds, sc);
	assert_int_equal(one->nsweep, 40);
	assert_true(one->sweep_totals[0].recovered > one->sweep_totals[39].recovered);
	for (int nt = 2; nt <= 8; nt = nt == 3 ? 8 : nt + 1) {
		scn_result *r = NULL;
		jos_err err;
		jos_err_clear(&err);
		assert_int_equal(scn_run_mt(&r, ds, sc, nt, &err), JOS_OK);
		assert_int_equal(r->nsweep, one->nsweep);
		assert_int_equal(r->nmunis, one->nmunis);
		assert_int_equal(r->outside_cost, one->outside_cost);
		assert_memory_equal(r->sweep_totals, one->sweep_totals,
				    one->nsweep * sizeof *one->sweep_totals);
		assert_memory_equal(r->cells, one->cells, 2 * one->nmunis * sizeof *one->cells);
		assert_memory_equal(r->totals, one->totals, 2 * sizeof *one->totals);
		scn_result_free(r);
	}
	scn_result_free(one);
	scn_scenario_free(sc);
	eng_dataset_free(ds);
	jos_errlist_free(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scn_runner__hand_worked),
		cmocka_unit_test(test_scn_runner__apply_to_agreements),
		cmocka_unit_test(test_scn_runner__variant_equals_settlement),
		cmocka_unit_test(test_scn_runner__sweep_replaces_weight),
		cmocka_unit_test(test_scn_runner__example_region_matches_settlement),
		cmocka_unit_test(test_scn_runner__threads_same_result),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
