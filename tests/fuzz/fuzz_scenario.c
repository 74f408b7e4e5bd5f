/*
 * fuzz_scenario.c: libFuzzer harness for the scenario reader and runner
 * (scenarios/scenario.c, scenarios/runner.c) and the text reports.
 *
 * A small dataset is loaded once (tests/data/scenario-small/data, or
 * FUZZ_SCENARIO_DATA). Each input is read as SCENARIO.ini twice: without a dataset
 * (the data failed to load) and with it. When it is accepted with the dataset it is
 * run and written as csv, md and html. Checked: results are JOS_OK or JOS_EINVALID
 * exactly as errors were added, problems lie inside the input, an accepted scenario
 * has variants and a baseline among them, the run fails only with JOS_EOVERFLOW or
 * JOS_EINVALID (never JOS_EINTERNAL: a broken invariant), the baseline's deltas are 0,
 * every delta is net minus the baseline's net, and each variant's recovered total is
 * the sum of its nets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "scenarios/scenarios.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static jos_dataset *ds;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_SCENARIO_DATA");
	jos_errlist errs;
	if (!dir)
		dir = "tests/data/scenario-small/data";
	jos_errlist_init(&errs);
	if (fmt_dataset_load(&ds, dir, &errs) != JOS_OK) {
		fprintf(stderr, "fuzz_scenario: cannot load %s (%zu errors)\n", dir, errs.nerrors);
		exit(2);
	}
	jos_errlist_free(&errs);
	return 0;
}

static scn_scenario *parse(const uint8_t *data, size_t size, const jos_dataset *d,
			   uint32_t nlines)
{
	scn_scenario *sc = NULL;
	jos_errlist errs;
	jos_errlist_init(&errs);
	int rc = scn_scenario_parse_mem(&sc, (const char *)data, size, "scenario.ini", d, &errs);
	if (rc != JOS_OK && rc != JOS_EINVALID)
		abort();
	if ((rc == JOS_EINVALID) != (errs.nerrors > 0) || (rc == JOS_OK) != (sc != NULL))
		abort();
	for (size_t i = 0; i < errs.n; i++) {
		const jos_problem *p = &errs.items[i];
		if (p->line > nlines || strcmp(p->file, "scenario.ini") != 0) {
			fprintf(stderr, "problem outside the input (%u lines): %s:%u: %s\n",
				(unsigned)nlines, p->file, (unsigned)p->line, p->msg);
			abort();
		}
	}
	jos_errlist_free(&errs);
	if (sc) {
		if (sc->nvariants == 0 || sc->baseline < 0 || (size_t)sc->baseline >= sc->nvariants)
			abort();
		if (sc->has_sweep && (sc->sweep.variant < 0 ||
				      (size_t)sc->sweep.variant >= sc->nvariants ||
				      sc->sweep.nvalues == 0))
			abort();
	}
	return sc;
}

static void run(const scn_scenario *sc)
{
	scn_result *r = NULL;
	jos_err err;
	jos_err_clear(&err);
	int rc = scn_run(&r, ds, sc, &err);
	if (rc != JOS_OK) {
		if ((rc != JOS_EOVERFLOW && rc != JOS_EINVALID) || !err.msg[0]) {
			fprintf(stderr, "fuzz_scenario: scn_run: %d %s\n", rc, err.msg);
			abort();
		}
		return;
	}
	for (size_t v = 0; v < sc->nvariants; v++) {
		jos_cents sum = 0;
		for (size_t i = 0; i < r->nmunis; i++) {
			const scn_cell *c = scn_result_cell(r, v, i);
			const scn_cell *b = scn_result_cell(r, (size_t)sc->baseline, i);
			if (c->delta != c->net - b->net || (v == (size_t)sc->baseline && c->delta))
				abort();
			sum += c->net;
		}
		if (sum != r->totals[v].recovered)
			abort();
	}
	char *out = NULL;
	size_t len = 0;
	int (*writers[])(char **, size_t *, const scn_result *, jos_err *) = {
		fmt_report_csv, fmt_report_md, fmt_report_html,
	};
	for (size_t w = 0; w < sizeof writers / sizeof writers[0]; w++) {
		if (writers[w](&out, &len, r, &err) != JOS_OK || !out || strlen(out) != len) {
			fprintf(stderr, "fuzz_scenario: report %zu: %s\n", w, err.msg);
			abort();
		}
		free(out);
		out = NULL;
	}
	scn_result_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t nlines = 1;
	for (size_t i = 0; i < size; i++)
		nlines += data[i] == '\n';
	scn_scenario_free(parse(data, size, NULL, nlines));
	scn_scenario *sc = parse(data, size, ds, nlines);
	if (sc)
		run(sc);
	scn_scenario_free(sc);
	return 0;
}
