/*
 * tests/scenarios/scenario.c: the scenario file reader: what it builds (variants from
 * settlement keys with overrides, inline variants, baseline, apply_to, the sweep's
 * keys) and every error at its exact FILE:LINE, all of them in one pass.
 */
#include "support/test.h"

#include <stdio.h>
#include <string.h>

#include "scenarios/scenarios.h"
#include "support/dsbuild.h"

static jos_dataset *small(void)
{
	jos_dataset *ds = dsb_new("2025-08-01", "2026-07-31");
	dsb_muni(ds, "0100", true);
	dsb_muni(ds, "0200", false);
	dsb_school(ds, "S1", "0100", "SO", 100000, 0);
	dsb_school(ds, "S2", "0100", "VSO", 100000, 0);
	dsb_enrol(ds, 0, "S1", "0200", "2025-08-01", NULL, NULL);
	dsb_key(ds, "standard", "prorata");
	dsb_param(ds, "standard", "weight.lvb", "1.5");
	dsb_param(ds, "standard", "min_pupils", "2");
	return ds;
}

/* Parses text expecting failure; returns the problems as "FILE:LINE: msg\n" lines. */
static void expect_errors(const char *text, const jos_dataset *ds, const char *const *want,
			  size_t nwant)
{
	scn_scenario *sc = NULL;
	jos_errlist errs;
	jos_errlist_init(&errs);
	int rc = scn_scenario_parse_mem(&sc, text, strlen(text), "neg.ini", ds, &errs);
	assert_int_equal(rc, JOS_EINVALID);
	assert_null(sc);
	jos_errlist_sort(&errs);
	for (size_t i = 0; i < errs.n; i++)
		print_message("  %s:%u: %s\n", errs.items[i].file, errs.items[i].line,
			      errs.items[i].msg);
	assert_int_equal(errs.nerrors, nwant);
	for (size_t i = 0; i < nwant; i++) {
		char where[64];
		snprintf(where, sizeof where, "%s:%u: ", errs.items[i].file, errs.items[i].line);
		/* want[i] = "neg.ini:LINE: substring" */
		size_t wl = strlen(where);
		assert_memory_equal(want[i], where, wl);
		if (!strstr(errs.items[i].msg, want[i] + wl))
			fail_msg("problem %zu: '%s' does not contain '%s'", i, errs.items[i].msg,
				 want[i] + wl);
	}
	jos_errlist_free(&errs);
}

static void test_scn_scenario__builds_variants(void **state)
{
	(void)state;
	jos_dataset *ds = small();
	const char *text = "\xef\xbb\xbf; a negotiation\r\n"
			   "[Scenario]\r\n"
			   "name = Keys 2026\r\n"
			   "baseline = B   ; compared with\r\n"
			   "apply_to = Agreements\r\n"
			   "[variant A]\n"
			   "min_pupils = 0\n"
			   "weight.LVB = 2\n"
			   "key = standard\n"
			   "[variant B]\n"
			   "label = Pooled\n"
			   "method = pooled\n"
			   "[sweep]\n"
			   "variant = A\n"
			   "parameter = discount\n"
			   "values = 0, 0.1,0.25 \n";
	scn_scenario *sc = NULL;
	jos_errlist errs;
	jos_errlist_init(&errs);
	assert_int_equal(scn_scenario_parse_mem(&sc, text, strlen(text), "neg.ini", ds, &errs),
			 JOS_OK);
	assert_int_equal(errs.nerrors, 0);
	assert_string_equal(sc->name, "Keys 2026");
	assert_int_equal(sc->apply_to, SCN_APPLY_AGREEMENTS);
	assert_int_equal(sc->nvariants, 2);
	assert_int_equal(sc->baseline, 1);
	const scn_variant *a = &sc->variants[0], *b = &sc->variants[1];
	assert_string_equal(a->id, "A");
	assert_string_equal(a->label, "");
	assert_string_equal(a->base_key, "standard");
	assert_int_equal(a->line, 6);
	assert_true(a->key.has_method);
	assert_int_equal(a->key.method, KEY_PRORATA);
	assert_int_equal(a->key.min_pupils, 0);             /* override after the copy */
	assert_int_equal(a->key.nweights, 1);               /* replaced, not added */
	assert_int_equal(key_weight_for(&a->key, "lvb"), 2 * JOS_MICRO_ONE);
	assert_int_equal(ds->keys[0].min_pupils, 2);        /* the settlement key is untouched */
	assert_string_equal(b->label, "Pooled");
	assert_null(b->base_key);
	assert_int_equal(b->key.method, KEY_POOLED);
	assert_int_equal(b->key.phase_in, JOS_MICRO_ONE);   /* key defaults */
	assert_true(sc->has_sweep);
	assert_int_equal(sc->sweep.variant, 0);
	assert_int_equal(sc->sweep.nvalues, 3);
	assert_string_equal(sc->sweep.values[1], "0.1");
	assert_string_equal(sc->sweep.values[2], "0.25");
	assert_int_equal(sc->sweep.keys[2].discount, 250000);
	assert_int_equal(sc->sweep.keys[2].min_pupils, 0);  /* the variant's other overrides */
	assert_int_equal(a->key.discount, 0);
	scn_scenario_free(sc);
	jos_errlist_free(&errs);
	eng_dataset_free(ds);
}

static void test_scn_scenario__defaults(void **state)
{
	(void)state;
	jos_dataset *ds = small();
	const char *text = "[variant X]\nkey = standard\n[variant Y]\nmethod = tariff\n"
			   "tariff.so = 4500.00\ntariff.VSO = 6000\n";
	scn_scenario *sc = NULL;
	jos_errlist errs;
	jos_errlist_init(&errs);
	assert_int_equal(scn_scenario_parse_mem(&sc, text, strlen(text), "dir/keys.INI", ds, &errs),
			 JOS_OK);
	assert_string_equal(sc->name, "keys");
	assert_int_equal(sc->baseline, 0);
	assert_int_equal(sc->apply_to, SCN_APPLY_ALL);
	assert_false(sc->has_sweep);
	scn_scenario_free(sc);
	jos_errlist_free(&errs);
	eng_dataset_free(ds);
}

static void test_scn_scenario__every_error_at_its_line(void **state)
{
	(void)state;
	jos_dataset *ds = small();
	const char *text = "orphan = 1\n"                 /* 1 */
			   "[scenario]\n"                  /* 2 */
			   "name = x\n"                    /* 3 */
			   "baseline = Z\n"                /* 4 */
			   "apply_to = some\n"             /* 5 */
			   "colour = red\n"                /* 6 */
			   "[variant A]\n"                 /* 7 */
			   "key = standard\n"              /* 8 */
			   "discont = 0.1\n"               /* 9 */
			   "discount = 1.5\n"              /* 10 */
			   "[variant B]\n"                 /* 11 */
			   "label = no method\n"           /* 12 */
			   "[variant C]\n"                 /* 13 */
			   "key = nosuchkey\n"             /* 14 */
			   "[variant A]\n"                 /* 15 */
			   "min_pupils = 3\n"              /* 16 */
			   "[variants]\n"                  /* 17 */
			   "x = 1\n"                       /* 18 */
			   "[variant D]\n"                 /* 19 */
			   "method = tariff\n"             /* 20 */
			   "tariff.so = 10.00\n"           /* 21 */
			   "[variant E]\n"                 /* 22 */
			   "method = prorata\n"            /* 23 */
			   "label = one\n"                 /* 24 */
			   "label = two\n"                 /* 25 */
			   "METHOD = pooled\n"             /* 26 */
			   "[sweep]\n"                     /* 27 */
			   "variant = Q\n"                 /* 28 */
			   "parameter = speed\n"           /* 29 */
			   "values = 1, 2\n"               /* 30 */
			   "step = 1\n";                   /* 31 */
	const char *const want[] = {
		"neg.ini:1: is outside any section",
		"neg.ini:4: baseline 'Z' is not a variant",
		"neg.ini:5: apply_to must be 'all' or 'agreements'",
		"neg.ini:6: unknown option 'colour' in [scenario]",
		"neg.ini:9: unknown option 'discont' in [variant A]",
		"neg.ini:10: ",                 /* key_param_set's own words */
		"neg.ini:11: `method` is required",
		"neg.ini:14: key 'nosuchkey' is not a key of settlement.ini",
		"neg.ini:15: variant 'A' is already defined at line 7",
		"neg.ini:17: unknown section [variants]",
		"neg.ini:19: no tariff for school type 'VSO'",
		"neg.ini:25: option 'label' is already given at line 24",
		"neg.ini:26: option 'METHOD' is already given at line 23",
		"neg.ini:28: sweep variant 'Q' is not a variant",
		"neg.ini:29: sweep parameter 'speed' is not a key parameter",
		"neg.ini:31: unknown option 'step' in [sweep]",
	};
	expect_errors(text, ds, want, sizeof want / sizeof want[0]);
	eng_dataset_free(ds);
}

static void test_scn_scenario__sweep_value_errors(void **state)
{
	(void)state;
	jos_dataset *ds = small();
	const char *const want[] = {
		"neg.ini:6: sweep value 2 'x' for min_pupils",
		"neg.ini:6: sweep value 3 '-1' for min_pupils",
	};
	expect_errors("[variant A]\nkey = standard\n[sweep]\nvariant = A\nparameter = min_pupils\n"
		      "values = 1, x, -1\n", ds, want, 2);
	const char *const want2[] = { "neg.ini:6: sweep values are empty" };
	expect_errors("[variant A]\nkey = standard\n[sweep]\nvariant = A\nparameter = cap\n"
		      "values =\n", ds, want2, 1);
	const char *const want3[] = { "neg.ini:3: [sweep] needs `variant =`",
				      "neg.ini:3: [sweep] needs `values =`" };
	expect_errors("[variant A]\nkey = standard\n[sweep]\nparameter = cap\n", ds, want3, 2);
	eng_dataset_free(ds);
}

static void test_scn_scenario__no_variant(void **state)
{
	(void)state;
	const char *const want[] = { "neg.ini:0: no variant" };
	expect_errors("[scenario]\nname = empty\n", NULL, want, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scn_scenario__builds_variants),
		cmocka_unit_test(test_scn_scenario__defaults),
		cmocka_unit_test(test_scn_scenario__every_error_at_its_line),
		cmocka_unit_test(test_scn_scenario__sweep_value_errors),
		cmocka_unit_test(test_scn_scenario__no_variant),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
